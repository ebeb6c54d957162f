//! Versioned schema migrations, applied in order inside one transaction at start-up.
//! `PRAGMA user_version` records how many have run.

/// Migration `i` takes the schema from version `i` to `i + 1`. Never edit a released entry;
/// append a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: messages, usage accounting, mailbox digests, tombstones, subaccount revocations.
    // (Not yet released: edited in place while the node has no deployments.)
    r#"
    CREATE TABLE messages (
        id        INTEGER PRIMARY KEY,
        hash      TEXT    NOT NULL UNIQUE,
        account   BLOB    NOT NULL,
        namespace INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        expiry    INTEGER NOT NULL,
        data      BLOB    NOT NULL,
        -- The first 8 bytes of the hash as an integer, folded into the mailbox digest.
        hkey      INTEGER NOT NULL
    );
    -- retrieve after last_hash: an index range scan, O(log n + returned).
    CREATE INDEX messages_mailbox ON messages (account, namespace, id);
    CREATE INDEX messages_expiry ON messages (expiry);
    CREATE INDEX messages_mailbox_hash ON messages (account, namespace, hash);

    -- Per mailbox: message count and the XOR of the messages' hkeys. Two nodes holding the
    -- same mailbox have the same pair; catch-up compares these and looks closer only where
    -- they differ. (SQLite has no XOR: (a | b) & ~(a & b).)
    CREATE TABLE mailbox_digest (
        account   BLOB    NOT NULL,
        namespace INTEGER NOT NULL,
        messages  INTEGER NOT NULL,
        digest    INTEGER NOT NULL,
        PRIMARY KEY (account, namespace)
    ) WITHOUT ROWID;

    -- Deleted (or expired) messages, kept long enough that a stale copy on another node
    -- cannot bring them back.
    CREATE TABLE tombstones (
        hash      TEXT    PRIMARY KEY,
        account   BLOB    NOT NULL,
        namespace INTEGER NOT NULL,
        until     INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX tombstones_mailbox ON tombstones (account, namespace);
    CREATE INDEX tombstones_until ON tombstones (until);

    CREATE TABLE account_usage (
        account  BLOB PRIMARY KEY,
        bytes    INTEGER NOT NULL,
        messages INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE node_usage (
        id       INTEGER PRIMARY KEY CHECK (id = 0),
        bytes    INTEGER NOT NULL,
        messages INTEGER NOT NULL
    );
    INSERT INTO node_usage (id, bytes, messages) VALUES (0, 0, 0);

    CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
        INSERT INTO account_usage (account, bytes, messages)
            VALUES (NEW.account, length(NEW.data), 1)
            ON CONFLICT (account) DO UPDATE
            SET bytes = bytes + length(NEW.data), messages = messages + 1;
        UPDATE node_usage SET bytes = bytes + length(NEW.data), messages = messages + 1;
        INSERT INTO mailbox_digest (account, namespace, messages, digest)
            VALUES (NEW.account, NEW.namespace, 1, NEW.hkey)
            ON CONFLICT (account, namespace) DO UPDATE
            SET messages = messages + 1, digest = (digest | NEW.hkey) & ~(digest & NEW.hkey);
    END;
    CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
        UPDATE account_usage SET bytes = bytes - length(OLD.data), messages = messages - 1
            WHERE account = OLD.account;
        DELETE FROM account_usage WHERE account = OLD.account AND messages <= 0;
        UPDATE node_usage SET bytes = bytes - length(OLD.data), messages = messages - 1;
        UPDATE mailbox_digest
            SET messages = messages - 1, digest = (digest | OLD.hkey) & ~(digest & OLD.hkey)
            WHERE account = OLD.account AND namespace = OLD.namespace;
        DELETE FROM mailbox_digest
            WHERE account = OLD.account AND namespace = OLD.namespace AND messages <= 0;
    END;

    CREATE TABLE revoked_subaccounts (
        account    BLOB    NOT NULL,
        token      BLOB    NOT NULL,
        revoked_at INTEGER NOT NULL,
        PRIMARY KEY (account, token)
    ) WITHOUT ROWID;
    -- Keep the newest 50 revocations per account.
    CREATE TRIGGER revoked_subaccounts_keep_50 AFTER INSERT ON revoked_subaccounts BEGIN
        DELETE FROM revoked_subaccounts WHERE account = NEW.account AND token IN (
            SELECT token FROM revoked_subaccounts WHERE account = NEW.account
            ORDER BY revoked_at DESC, token LIMIT -1 OFFSET 50);
    END;
    "#,
    // 2: tombstones are per account: a tombstone filed under one account can neither block
    // nor delete another account's message.
    r#"
    CREATE TABLE tombstones_v2 (
        hash      TEXT    NOT NULL,
        account   BLOB    NOT NULL,
        namespace INTEGER NOT NULL,
        until     INTEGER NOT NULL,
        PRIMARY KEY (account, hash)
    ) WITHOUT ROWID;
    INSERT INTO tombstones_v2 (hash, account, namespace, until)
        SELECT hash, account, namespace, until FROM tombstones;
    DROP TABLE tombstones;
    ALTER TABLE tombstones_v2 RENAME TO tombstones;
    CREATE INDEX tombstones_mailbox ON tombstones (account, namespace);
    CREATE INDEX tombstones_until ON tombstones (until);
    "#,
    // 3: tombstones of messages evicted from a full public inbox (a flood defence) are this
    // node's alone: they keep catch-up from handing the evicted junk back, but are not
    // offered to peers (each member evicts for itself), and at most 10 000 per account are
    // kept.
    r#"
    ALTER TABLE tombstones ADD COLUMN evicted INTEGER NOT NULL DEFAULT 0;
    "#,
];

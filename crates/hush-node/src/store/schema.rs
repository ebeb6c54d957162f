//! Versioned schema migrations, applied in order inside one transaction at start-up.
//! `PRAGMA user_version` records how many have run.

/// Migration `i` takes the schema from version `i` to `i + 1`. Never edit a released entry;
/// append a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: messages, usage accounting, subaccount revocations.
    r#"
    CREATE TABLE messages (
        id        INTEGER PRIMARY KEY,
        hash      TEXT    NOT NULL UNIQUE,
        account   BLOB    NOT NULL,
        namespace INTEGER NOT NULL,
        timestamp INTEGER NOT NULL,
        expiry    INTEGER NOT NULL,
        data      BLOB    NOT NULL
    );
    -- retrieve after last_hash: an index range scan, O(log n + returned).
    CREATE INDEX messages_mailbox ON messages (account, namespace, id);
    CREATE INDEX messages_expiry ON messages (expiry);

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
    END;
    CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
        UPDATE account_usage SET bytes = bytes - length(OLD.data), messages = messages - 1
            WHERE account = OLD.account;
        DELETE FROM account_usage WHERE account = OLD.account AND messages <= 0;
        UPDATE node_usage SET bytes = bytes - length(OLD.data), messages = messages - 1;
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
];

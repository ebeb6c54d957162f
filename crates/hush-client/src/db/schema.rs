//! Versioned migrations of the local database, applied in order inside one transaction when
//! the database opens. `PRAGMA user_version` records how many have run. Never edit a
//! released entry; append a new one.

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: conversations, contacts, messages, the outbox, de-duplication and polling state.
    r#"
    CREATE TABLE conversations (
        -- The other account's ID; our own for Note to Self.
        id            TEXT    PRIMARY KEY,
        created_at    INTEGER NOT NULL,
        last_activity INTEGER NOT NULL,
        unread        INTEGER NOT NULL DEFAULT 0,
        -- A first message from someone not (yet) approved: a message request.
        is_request    INTEGER NOT NULL DEFAULT 0,
        -- Disappearing messages: 0 off, 1 after read, 2 after send (Content.expirationType).
        expire_mode   INTEGER NOT NULL DEFAULT 0,
        expire_secs   INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;

    CREATE TABLE contacts (
        account_id    TEXT    PRIMARY KEY,
        display_name  TEXT,
        nickname      TEXT,
        -- We accept their messages (we wrote to them, or accepted their request).
        approved      INTEGER NOT NULL DEFAULT 0,
        -- They accepted ours.
        approved_me   INTEGER NOT NULL DEFAULT 0,
        blocked       INTEGER NOT NULL DEFAULT 0,
        updated_at    INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        conversation  TEXT    NOT NULL,
        outgoing      INTEGER NOT NULL,
        author        TEXT    NOT NULL,
        body          TEXT    NOT NULL,
        -- The sender's (signed) timestamp, ms: with the author it names the message.
        sent_at       INTEGER NOT NULL,
        received_at   INTEGER NOT NULL,
        -- sending | sent | failed | read (outgoing); received | read (incoming).
        status        TEXT    NOT NULL,
        error         TEXT,
        -- The hash of the stored copy (in the recipient's swarm, or ours when received).
        hash          TEXT,
        -- The hash of the sync copy in our own swarm (outgoing).
        sync_hash     TEXT,
        expire_mode   INTEGER NOT NULL DEFAULT 0,
        expire_secs   INTEGER NOT NULL DEFAULT 0,
        -- Outgoing, but written on another device of this account (learnt from its sync copy).
        synced        INTEGER NOT NULL DEFAULT 0,
        -- When it is deleted from this device.
        expires_at    INTEGER,
        read_at       INTEGER,
        UNIQUE (conversation, author, sent_at)
    );
    CREATE INDEX messages_by_conversation ON messages (conversation, sent_at, id);
    CREATE INDEX messages_expiring ON messages (expires_at) WHERE expires_at IS NOT NULL;

    -- Requests to the network not yet done: stores (messages, sync copies, control messages)
    -- and deletions. Kept across restarts; retried with backoff until done or given up.
    CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY,
        -- The message whose status this decides (NULL for control messages).
        message_id    INTEGER,
        -- 'store' or 'delete' or 'expire'.
        action        TEXT    NOT NULL,
        -- The account whose swarm gets the request.
        destination   TEXT    NOT NULL,
        namespace     INTEGER NOT NULL,
        -- store: the sealed message; delete / expire: the JSON of hashes (and expiry).
        data          BLOB    NOT NULL,
        ttl_ms        INTEGER NOT NULL,
        timestamp     INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_attempt  INTEGER NOT NULL,
        give_up_at    INTEGER NOT NULL,
        last_error    TEXT,
        -- Given up: kept (out of the way of later requests) until retried or the message
        -- is deleted.
        failed        INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_due ON outbox (failed, destination, id);

    -- Hashes of messages already handled (received, or stored by us), for exactly-once.
    CREATE TABLE seen (
        hash          TEXT    PRIMARY KEY,
        seen_at       INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX seen_by_time ON seen (seen_at);

    -- The last message hash retrieved from each node, per namespace.
    CREATE TABLE poll_state (
        node          TEXT    NOT NULL,
        namespace     INTEGER NOT NULL,
        last_hash     TEXT    NOT NULL,
        PRIMARY KEY (node, namespace)
    ) WITHOUT ROWID;

    CREATE TABLE settings (
        key           TEXT    PRIMARY KEY,
        value         TEXT    NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 2: what config sync needs: the synced contact fields, read positions, the config
    // messages we hold and their copies in our swarm, parts of multipart configs.
    r#"
    ALTER TABLE contacts ADD COLUMN priority   INTEGER NOT NULL DEFAULT 0;
    -- 0 default, 1 all, 2 disabled.
    ALTER TABLE contacts ADD COLUMN notify     INTEGER NOT NULL DEFAULT 0;
    -- Muted until (s).
    ALTER TABLE contacts ADD COLUMN mute_until INTEGER NOT NULL DEFAULT 0;
    -- Read up to this send time (ms), here or on another device.
    ALTER TABLE conversations ADD COLUMN last_read     INTEGER NOT NULL DEFAULT 0;
    -- Marked unread by hand.
    ALTER TABLE conversations ADD COLUMN marked_unread INTEGER NOT NULL DEFAULT 0;

    -- Per config namespace (2 UserProfile, 3 Contacts, 4 ConvoInfoVolatile, 5 UserGroups):
    -- the config message this device holds, the swarm hashes of its stored copy, and the
    -- hashes it superseded (deleted from the swarm after our next push).
    CREATE TABLE config_state (
        namespace INTEGER PRIMARY KEY,
        message   BLOB    NOT NULL,
        current   TEXT    NOT NULL DEFAULT '[]',
        obsolete  TEXT    NOT NULL DEFAULT '[]'
    );

    -- Parts of multipart config messages waiting for the rest (as stored, encrypted).
    CREATE TABLE config_parts (
        hash        TEXT    PRIMARY KEY,
        namespace   INTEGER NOT NULL,
        data        BLOB    NOT NULL,
        received_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: local IDs are never reused. Without AUTOINCREMENT, SQLite gives a new row the
    // highest ID + 1, so once the newest message was deleted (unsent, disappeared, deleted
    // here) the next one took its ID: `receive`, whose cursor is "IDs above the last one
    // printed", skipped it, and an ID a script kept could name another message. The tables
    // are rebuilt with AUTOINCREMENT; the sequence starts above every ID handed out before
    // (the rows', the receive cursor's, the outbox's references).
    r#"
    CREATE TABLE messages_v3 (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation  TEXT    NOT NULL,
        outgoing      INTEGER NOT NULL,
        author        TEXT    NOT NULL,
        body          TEXT    NOT NULL,
        sent_at       INTEGER NOT NULL,
        received_at   INTEGER NOT NULL,
        status        TEXT    NOT NULL,
        error         TEXT,
        hash          TEXT,
        sync_hash     TEXT,
        expire_mode   INTEGER NOT NULL DEFAULT 0,
        expire_secs   INTEGER NOT NULL DEFAULT 0,
        synced        INTEGER NOT NULL DEFAULT 0,
        expires_at    INTEGER,
        read_at       INTEGER,
        UNIQUE (conversation, author, sent_at)
    );
    INSERT INTO messages_v3 (id, conversation, outgoing, author, body, sent_at, received_at,
            status, error, hash, sync_hash, expire_mode, expire_secs, synced, expires_at, read_at)
        SELECT id, conversation, outgoing, author, body, sent_at, received_at, status, error,
            hash, sync_hash, expire_mode, expire_secs, synced, expires_at, read_at
        FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v3 RENAME TO messages;
    CREATE INDEX messages_by_conversation ON messages (conversation, sent_at, id);
    CREATE INDEX messages_expiring ON messages (expires_at) WHERE expires_at IS NOT NULL;

    CREATE TABLE outbox_v3 (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id    INTEGER,
        action        TEXT    NOT NULL,
        destination   TEXT    NOT NULL,
        namespace     INTEGER NOT NULL,
        data          BLOB    NOT NULL,
        ttl_ms        INTEGER NOT NULL,
        timestamp     INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_attempt  INTEGER NOT NULL,
        give_up_at    INTEGER NOT NULL,
        last_error    TEXT,
        failed        INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO outbox_v3 SELECT id, message_id, action, destination, namespace, data, ttl_ms,
        timestamp, created_at, attempts, next_attempt, give_up_at, last_error, failed
        FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v3 RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (failed, destination, id);

    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'outbox', coalesce((SELECT max(id) FROM outbox), 0)
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox');
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'messages', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages');
    UPDATE sqlite_sequence SET seq = max(seq,
            coalesce((SELECT max(id) FROM messages), 0),
            coalesce((SELECT max(message_id) FROM outbox), 0),
            coalesce((SELECT CAST(value AS INTEGER) FROM settings
                      WHERE key = 'cli_receive_cursor' AND value GLOB '[0-9]*'), 0))
        WHERE name = 'messages';
    "#,
    // 4: client-chosen send IDs, so that a caller who cannot tell whether a send went
    // through (the daemon died before answering) can retry it without sending it twice.
    // Kept after the message is deleted (a retry must not send it again), for 30 days.
    r#"
    CREATE TABLE send_ids (
        id          TEXT    PRIMARY KEY,
        message_id  INTEGER NOT NULL,
        -- BLAKE2b of recipient and text: the same ID for another message is refused.
        fingerprint BLOB    NOT NULL,
        created_at  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX send_ids_by_time ON send_ids (created_at);
    "#,
];

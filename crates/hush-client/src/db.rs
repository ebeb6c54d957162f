//! The local database: SQLCipher, keyed with the profile's random 32-byte database key, in WAL
//! mode with `synchronous = FULL` (a queued message survives a crash once `send` returns).
//!
//! One connection behind a mutex; every call is short (no lock is held across an `.await`).
//! Types here are what UIs see: [`Conversation`], [`Contact`], [`Message`].

mod config;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hush_sodium::Secret;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::{Error, Result};

pub(crate) use self::config::{ConfigState, ReadPosition, SyncedContact};

/// Disappearing-messages setting of a conversation (and of a message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", content = "seconds", rename_all = "kebab-case")]
pub enum Disappearing {
    /// Messages stay.
    Off,
    /// Deleted this many seconds after being read.
    AfterRead(u32),
    /// Deleted this many seconds after being sent.
    AfterSend(u32),
}

impl Disappearing {
    /// The `(Content.expirationType, seconds)` pair.
    pub(crate) fn to_parts(self) -> (i64, i64) {
        match self {
            Self::Off => (0, 0),
            Self::AfterRead(s) => (1, i64::from(s)),
            Self::AfterSend(s) => (2, i64::from(s)),
        }
    }

    pub(crate) fn from_parts(mode: i64, secs: i64) -> Self {
        let secs = u32::try_from(secs).unwrap_or(0);
        match (mode, secs) {
            (_, 0) => Self::Off,
            (1, s) => Self::AfterRead(s),
            (2, s) => Self::AfterSend(s),
            _ => Self::Off,
        }
    }

    /// The timer in milliseconds (0 when off).
    pub fn millis(self) -> u64 {
        match self {
            Self::Off => 0,
            Self::AfterRead(s) | Self::AfterSend(s) => u64::from(s) * 1000,
        }
    }
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Outgoing, not yet stored by the recipient's swarm.
    Sending,
    /// Outgoing, stored by the recipient's swarm.
    Sent,
    /// Outgoing, given up (see the message's error).
    Failed,
    /// Outgoing: the recipient read it (read receipt); incoming: we read it.
    Read,
    /// Incoming, not read yet.
    Received,
}

impl MessageStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Read => "read",
            Self::Received => "received",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "read" => Self::Read,
            _ => Self::Received,
        }
    }
}

/// A message in a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Local ID.
    pub id: i64,
    /// The conversation (the other account's ID; ours for Note to Self).
    pub conversation: String,
    /// Whether we wrote it.
    pub outgoing: bool,
    /// Who wrote it.
    pub author: String,
    /// The text.
    pub body: String,
    /// When the author sent it (ms).
    pub sent_at: u64,
    /// When this device got it (ms).
    pub received_at: u64,
    /// Where it stands.
    pub status: MessageStatus,
    /// Why it failed, for failed messages.
    pub error: Option<String>,
    /// The hash of its stored copy.
    pub hash: Option<String>,
    /// Its disappearing setting.
    pub disappearing: Disappearing,
    /// When it will be deleted from this device (ms).
    pub expires_at: Option<u64>,
    /// Outgoing, written on another device of this account.
    pub synced: bool,
}

/// A conversation with its latest state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conversation {
    /// The other account's ID (ours for Note to Self).
    pub id: String,
    /// The name to show: nickname, else display name.
    pub name: Option<String>,
    /// Last message or change (ms).
    pub last_activity: u64,
    /// Incoming messages not read yet.
    pub unread: u64,
    /// Whether it is a message request (from someone not approved).
    pub is_request: bool,
    /// Its disappearing setting.
    pub disappearing: Disappearing,
    /// The newest message's text.
    pub last_message: Option<String>,
    /// Pinned (shown first).
    pub pinned: bool,
    /// Marked unread by hand (until read).
    pub marked_unread: bool,
}

/// Someone we know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Their Account ID.
    pub account_id: String,
    /// The name they gave themselves.
    pub display_name: Option<String>,
    /// The name we gave them.
    pub nickname: Option<String>,
    /// We accept their messages.
    pub approved: bool,
    /// They accepted ours.
    pub approved_me: bool,
    /// Their messages are dropped.
    pub blocked: bool,
    /// −1 hidden, 0 normal, above 0 pinned.
    pub priority: i64,
    /// 0 default, 1 all messages, 2 none, 3 mentions only.
    pub notifications: i64,
    /// Muted until (seconds since the epoch; 0: not muted).
    pub mute_until: i64,
}

/// A request to the network waiting in the outbox.
#[derive(Clone, Debug)]
pub(crate) struct OutboxItem {
    pub(crate) id: i64,
    pub(crate) message_id: Option<i64>,
    pub(crate) action: String,
    pub(crate) destination: String,
    pub(crate) namespace: i16,
    pub(crate) data: Vec<u8>,
    pub(crate) ttl_ms: u64,
    pub(crate) timestamp: u64,
    pub(crate) attempts: u32,
    pub(crate) give_up_at: u64,
}

/// A waiting request as the outbox pump looks at it (no data).
#[derive(Clone, Debug)]
pub(crate) struct OutboxHead {
    pub(crate) id: i64,
    pub(crate) destination: String,
    pub(crate) action: String,
    pub(crate) message_id: Option<i64>,
    pub(crate) next_attempt: u64,
}

impl OutboxHead {
    /// The store of one of our messages (its delivery decides the message's status).
    pub(crate) fn message_store(&self) -> bool {
        self.action == "store" && self.message_id.is_some()
    }
}

fn outbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        id: r.get(0)?,
        message_id: r.get(1)?,
        action: r.get(2)?,
        destination: r.get(3)?,
        namespace: r.get(4)?,
        data: r.get(5)?,
        ttl_ms: r.get(6)?,
        timestamp: r.get(7)?,
        attempts: r.get(8)?,
        give_up_at: r.get(9)?,
    })
}

/// A new entry for the outbox.
#[derive(Clone, Debug)]
pub(crate) struct NewOutbox<'a> {
    pub(crate) message_id: Option<i64>,
    pub(crate) action: &'a str,
    pub(crate) destination: &'a str,
    pub(crate) namespace: i16,
    pub(crate) data: &'a [u8],
    pub(crate) ttl_ms: u64,
    pub(crate) timestamp: u64,
    pub(crate) give_up_at: u64,
}

/// A new incoming or synced message.
#[derive(Clone, Debug)]
pub(crate) struct NewMessage<'a> {
    pub(crate) conversation: &'a str,
    pub(crate) outgoing: bool,
    pub(crate) author: &'a str,
    pub(crate) body: &'a str,
    pub(crate) sent_at: u64,
    pub(crate) received_at: u64,
    pub(crate) status: MessageStatus,
    pub(crate) hash: Option<&'a str>,
    pub(crate) disappearing: Disappearing,
    pub(crate) expires_at: Option<u64>,
    pub(crate) synced: bool,
}

/// The encrypted database of one profile.
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

const MESSAGE_COLUMNS: &str = "id, conversation, outgoing, author, body, sent_at, received_at, \
                               status, error, hash, expire_mode, expire_secs, expires_at, synced";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        conversation: r.get(1)?,
        outgoing: r.get(2)?,
        author: r.get(3)?,
        body: r.get(4)?,
        sent_at: r.get(5)?,
        received_at: r.get(6)?,
        status: MessageStatus::parse(&r.get::<_, String>(7)?),
        error: r.get(8)?,
        hash: r.get(9)?,
        disappearing: Disappearing::from_parts(r.get(10)?, r.get(11)?),
        expires_at: r.get(12)?,
        synced: r.get(13)?,
    })
}

impl Db {
    /// Opens (or creates, mode 0600) the database at `path` with `key`, and migrates it.
    /// Failures say what is wrong, so that nobody is invited to delete a good database:
    /// [`Error::WrongKey`] when the file was encrypted with another key, [`Error::Corrupt`]
    /// when it is damaged (cut short, pages that fail their checks), [`Error::DiskFull`] and
    /// [`Error::File`] for the disk.
    pub fn open(path: &Path, key: &Secret<32>) -> Result<Self> {
        initialise_sqlcipher_once();
        private_files(path)?;
        let fail = |e: rusqlite::Error| classify(e, path);
        let mut conn = Connection::open(path).map_err(fail)?;
        // SQLCipher would print its own errors (a wrong key, say) on stderr; we report them.
        let _ = conn.pragma_update(None, "cipher_log_level", "NONE");
        let hex = zeroize::Zeroizing::new(hex::encode(key.expose()));
        let hex_key = zeroize::Zeroizing::new(format!("x'{}'", hex.as_str()));
        conn.pragma_update(None, "key", &*hex_key).map_err(fail)?;
        if let Err(e) =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        {
            return Err(unreadable(&conn, path, e));
        }
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(fail)?;
        migrate(&mut conn, path)?;
        Ok(Self { conn: Mutex::new(conn), path: path.to_owned() })
    }

    fn with<R>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>) -> Result<R> {
        let mut conn = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut conn).map_err(|e| classify(e, &self.path))
    }

    // ----- settings -----

    /// A setting's value.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()
        })
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
        })
    }

    // ----- conversations -----

    /// Creates the conversation if it is new (as a request or not); returns whether it was
    /// created.
    pub(crate) fn ensure_conversation(&self, id: &str, now: u64, is_request: bool) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "INSERT INTO conversations (id, created_at, last_activity, is_request)
                 VALUES (?1, ?2, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![id, now, is_request],
            )
            .map(|n| n > 0)
        })
    }

    /// Every conversation, newest activity first; requests only if `requests`.
    pub fn conversations(&self, requests: bool) -> Result<Vec<Conversation>> {
        self.with(|c| {
            c.prepare(
                "SELECT v.id, coalesce(k.nickname, k.display_name), v.last_activity, v.unread,
                        v.is_request, v.expire_mode, v.expire_secs,
                        (SELECT body FROM messages m WHERE m.conversation = v.id
                         ORDER BY sent_at DESC, id DESC LIMIT 1),
                        coalesce(k.priority, 0) > 0, v.marked_unread
                 FROM conversations v LEFT JOIN contacts k ON k.account_id = v.id
                 WHERE v.is_request = ?1
                 ORDER BY coalesce(k.priority, 0) > 0 DESC, v.last_activity DESC",
            )?
            .query_map([requests], |r| {
                Ok(Conversation {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    last_activity: r.get(2)?,
                    unread: r.get(3)?,
                    is_request: r.get(4)?,
                    disappearing: Disappearing::from_parts(r.get(5)?, r.get(6)?),
                    last_message: r.get(7)?,
                    pinned: r.get(8)?,
                    marked_unread: r.get(9)?,
                })
            })?
            .collect()
        })
    }

    /// One conversation.
    pub fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        Ok(self
            .conversations(false)?
            .into_iter()
            .chain(self.conversations(true)?)
            .find(|c| c.id == id))
    }

    /// Marks a conversation unread by hand (or not).
    pub(crate) fn set_marked_unread(&self, id: &str, unread: bool) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "UPDATE conversations SET marked_unread = ?2 WHERE id = ?1",
                params![id, unread],
            )
            .map(|n| n > 0)
        })
    }

    /// Makes a request an ordinary conversation (accepted), or records that it is one.
    pub(crate) fn set_request(&self, id: &str, is_request: bool) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE conversations SET is_request = ?2 WHERE id = ?1",
                params![id, is_request],
            )
            .map(|_| ())
        })
    }

    /// Sets the disappearing-messages setting of a conversation.
    pub(crate) fn set_disappearing(&self, id: &str, setting: Disappearing, now: u64) -> Result<()> {
        let (mode, secs) = setting.to_parts();
        self.with(|c| {
            c.execute(
                "INSERT INTO conversations (id, created_at, last_activity, expire_mode, expire_secs)
                 VALUES (?1, ?2, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET expire_mode = ?3, expire_secs = ?4",
                params![id, now, mode, secs],
            )
            .map(|_| ())
        })
    }

    /// The disappearing-messages setting of a conversation.
    pub(crate) fn disappearing(&self, id: &str) -> Result<Disappearing> {
        self.with(|c| {
            c.query_row(
                "SELECT expire_mode, expire_secs FROM conversations WHERE id = ?1",
                [id],
                |r| Ok(Disappearing::from_parts(r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map(|d| d.unwrap_or(Disappearing::Off))
        })
    }

    /// Deletes a conversation and its messages.
    pub(crate) fn delete_conversation(&self, id: &str) -> Result<()> {
        self.with(|c| {
            let tx = begin_write(c)?;
            tx.execute("DELETE FROM messages WHERE conversation = ?1", [id])?;
            tx.execute("DELETE FROM conversations WHERE id = ?1", [id])?;
            tx.commit()
        })
    }

    // ----- contacts -----

    /// Every contact (everyone we have a record of), by name.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        self.with(|c| {
            c.prepare(
                "SELECT account_id, display_name, nickname, approved, approved_me, blocked,
                        priority, notify, mute_until
                 FROM contacts ORDER BY coalesce(nickname, display_name, account_id)",
            )?
            .query_map([], contact_row)?
            .collect()
        })
    }

    /// One contact.
    pub fn contact(&self, account_id: &str) -> Result<Option<Contact>> {
        self.with(|c| {
            c.query_row(
                "SELECT account_id, display_name, nickname, approved, approved_me, blocked,
                        priority, notify, mute_until
                 FROM contacts WHERE account_id = ?1",
                [account_id],
                contact_row,
            )
            .optional()
        })
    }

    /// Updates one field of a contact, creating the contact if needed.
    pub(crate) fn update_contact(
        &self,
        account_id: &str,
        change: ContactChange<'_>,
        now: u64,
    ) -> Result<()> {
        let (column, value): (&str, rusqlite::types::Value) = match change {
            ContactChange::DisplayName(n) => ("display_name", n.map(str::to_owned).into()),
            ContactChange::Nickname(n) => ("nickname", n.map(str::to_owned).into()),
            ContactChange::Approved(b) => ("approved", i64::from(b).into()),
            ContactChange::ApprovedMe(b) => ("approved_me", i64::from(b).into()),
            ContactChange::Blocked(b) => ("blocked", i64::from(b).into()),
            ContactChange::Priority(p) => ("priority", p.into()),
            ContactChange::Notifications(n) => ("notify", n.into()),
            ContactChange::MuteUntil(t) => ("mute_until", t.into()),
        };
        self.with(|c| {
            c.execute(
                "INSERT INTO contacts (account_id, updated_at) VALUES (?1, ?2)
                 ON CONFLICT (account_id) DO NOTHING",
                params![account_id, now],
            )?;
            c.execute(
                &format!(
                    "UPDATE contacts SET {column} = ?2, updated_at = ?3 WHERE account_id = ?1"
                ),
                params![account_id, value, now],
            )
            .map(|_| ())
        })
    }

    /// Forgets a contact.
    pub(crate) fn remove_contact(&self, account_id: &str) -> Result<bool> {
        self.with(|c| {
            c.execute("DELETE FROM contacts WHERE account_id = ?1", [account_id]).map(|n| n > 0)
        })
    }

    // ----- messages -----

    /// Stores a message; `None` if the author already has a message with this timestamp in
    /// the conversation (a duplicate). Updates the conversation's activity and unread count.
    pub(crate) fn insert_message(&self, m: &NewMessage<'_>) -> Result<Option<i64>> {
        self.with(|c| {
            let tx = begin_write(c)?;
            let id = insert_message_in(&tx, m)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// Stores a new outgoing message and queues its copies in one transaction: either the
    /// message and every request to deliver it exist, or nothing does. Copies marked `own`
    /// (stored in our own swarm) are recorded as handled. Returns the message's ID.
    pub(crate) fn insert_outgoing(
        &self,
        m: &NewMessage<'_>,
        copies: &[QueuedCopy<'_>],
        send_id: Option<&SendId<'_>>,
        now: u64,
    ) -> Result<Outgoing> {
        let id = self.with(|c| {
            let tx = begin_write(c)?;
            if let Some(send_id) = send_id
                && let Some(earlier) = send_id_in(&tx, send_id)?
            {
                // Checked again under the write lock: two retries at once send once.
                return Ok(Some(earlier));
            }
            let Some(id) = insert_message_in(&tx, m)? else { return Ok(None) };
            if let Some(send_id) = send_id {
                tx.execute(
                    "INSERT INTO send_ids (id, message_id, fingerprint, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![send_id.id, id, &send_id.fingerprint[..], now],
                )?;
            }
            for copy in copies {
                let message_id = copy.main.then_some(id);
                enqueue_in(&tx, &NewOutbox { message_id, ..copy.outbox.clone() }, now)?;
                if copy.own {
                    tx.execute(
                        "INSERT INTO seen (hash, seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                        params![copy.hash, now],
                    )?;
                }
                let column = if copy.main { "hash" } else { "sync_hash" };
                tx.execute(
                    &format!("UPDATE messages SET {column} = ?2 WHERE id = ?1"),
                    params![id, copy.hash],
                )?;
            }
            tx.commit()?;
            Ok(Some(Outgoing::New(id)))
        })?;
        id.ok_or_else(|| Error::InvalidInput("a message with this time exists already".to_owned()))
    }

    /// What an earlier send with this client-chosen ID did, if there was one.
    pub(crate) fn send_id(&self, send_id: &SendId<'_>) -> Result<Option<Outgoing>> {
        self.with(|c| send_id_in(c, send_id))
    }

    /// Forgets send IDs older than `before`.
    pub(crate) fn forget_send_ids(&self, before: u64) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM send_ids WHERE created_at < ?1", [before]).map(|_| ()))
    }

    /// The newest `limit` messages of a conversation, oldest first.
    pub fn messages(&self, conversation: &str, limit: usize) -> Result<Vec<Message>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|c| {
            let mut out: Vec<Message> = c
                .prepare(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = ?1
                     ORDER BY sent_at DESC, id DESC LIMIT ?2"
                ))?
                .query_map(params![conversation, limit], message_row)?
                .collect::<rusqlite::Result<_>>()?;
            out.reverse();
            Ok(out)
        })
    }

    /// SQLite's full consistency check of the database (`PRAGMA integrity_check`): `"ok"`, or
    /// what is wrong.
    pub fn integrity_check(&self) -> Result<String> {
        self.with(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows: Vec<String> =
                stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows.join("; "))
        })
    }

    /// The highest local message ID given so far (0 before the first).
    pub(crate) fn newest_message_id(&self) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'messages'",
                [],
                |r| r.get(0),
            )
        })
    }

    /// How many messages there are.
    pub fn message_count(&self) -> Result<usize> {
        self.with(|c| c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)))
    }

    /// Messages after local ID `after` that came from the network (incoming, or outgoing
    /// from another device), oldest first.
    pub fn arrived_since(&self, after: i64, limit: usize) -> Result<Vec<Message>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|c| {
            c.prepare(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id > ?1 AND (outgoing = 0 OR synced = 1)
                 ORDER BY id LIMIT ?2"
            ))?
            .query_map(params![after, limit], message_row)?
            .collect()
        })
    }

    /// One message.
    pub fn message(&self, id: i64) -> Result<Option<Message>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
                [id],
                message_row,
            )
            .optional()
        })
    }

    /// The message `author` sent at `sent_at` (any conversation).
    pub(crate) fn message_by(&self, author: &str, sent_at: u64) -> Result<Option<Message>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE author = ?1 AND sent_at = ?2"
                ),
                params![author, sent_at],
                message_row,
            )
            .optional()
        })
    }

    /// Records the hash of a message's sync copy in our own swarm.
    pub(crate) fn set_sync_hash(&self, id: i64, hash: &str) -> Result<()> {
        self.with(|c| {
            c.execute("UPDATE messages SET sync_hash = ?2 WHERE id = ?1", params![id, hash])
                .map(|_| ())
        })
    }

    /// The hash of a message's sync copy.
    pub(crate) fn sync_hash(&self, id: i64) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT sync_hash FROM messages WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map(Option::flatten)
        })
    }

    /// Deletes one message.
    pub(crate) fn delete_message(&self, id: i64) -> Result<bool> {
        self.with(|c| c.execute("DELETE FROM messages WHERE id = ?1", [id]).map(|n| n > 0))
    }

    /// Marks the conversation's incoming messages read at `now`; returns those newly read
    /// (for read receipts and after-read timers), setting their expiry when they disappear
    /// after reading.
    pub(crate) fn mark_read(&self, conversation: &str, now: u64) -> Result<Vec<Message>> {
        self.with(|c| {
            let tx = begin_write(c)?;
            let read: Vec<Message> = tx
                .prepare(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE conversation = ?1 AND outgoing = 0 AND status = 'received'
                     ORDER BY sent_at"
                ))?
                .query_map([conversation], message_row)?
                .collect::<rusqlite::Result<_>>()?;
            tx.execute(
                "UPDATE messages SET status = 'read', read_at = ?2,
                     expires_at = CASE WHEN expire_mode = 1 AND expire_secs > 0
                                       THEN ?2 + expire_secs * 1000 ELSE expires_at END
                 WHERE conversation = ?1 AND outgoing = 0 AND status = 'received'",
                params![conversation, now],
            )?;
            let newest = read.iter().map(|m| m.sent_at).max().unwrap_or(0);
            tx.execute(
                "UPDATE conversations SET unread = 0, marked_unread = 0,
                     last_read = max(last_read, ?2) WHERE id = ?1",
                params![conversation, newest],
            )?;
            tx.commit()?;
            Ok(read)
        })
    }

    /// Marks our messages to `conversation` sent at these times as read by the recipient;
    /// returns the IDs changed.
    pub(crate) fn mark_read_by_peer(
        &self,
        conversation: &str,
        sent_at: &[u64],
    ) -> Result<Vec<i64>> {
        self.with(|c| {
            let mut changed = Vec::new();
            let mut stmt = c.prepare(
                "UPDATE messages SET status = 'read'
                 WHERE conversation = ?1 AND outgoing = 1 AND sent_at = ?2 AND status != 'read'
                 RETURNING id",
            )?;
            for t in sent_at {
                if let Some(id) =
                    stmt.query_row(params![conversation, t], |r| r.get(0)).optional()?
                {
                    changed.push(id);
                }
            }
            Ok(changed)
        })
    }

    /// Deletes the messages whose time is up; returns them.
    pub(crate) fn take_expired(&self, now: u64) -> Result<Vec<Message>> {
        self.with(|c| {
            c.prepare(&format!(
                "DELETE FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?1
                 RETURNING {MESSAGE_COLUMNS}"
            ))?
            .query_map([now], message_row)?
            .collect()
        })
    }

    /// The earliest time a message is due to disappear.
    pub(crate) fn next_expiry(&self) -> Result<Option<u64>> {
        self.with(|c| c.query_row("SELECT min(expires_at) FROM messages", [], |r| r.get(0)))
    }

    // ----- outbox -----

    /// Queues a request.
    pub(crate) fn enqueue(&self, item: &NewOutbox<'_>, now: u64) -> Result<i64> {
        self.with(|c| enqueue_in(c, item, now))
    }

    /// Finishes a request: done (removed) or given up (set aside with the reason). The
    /// message it belongs to becomes `sent` when none of its requests is left, or `failed`
    /// — in the same transaction. Returns the message and its new status if it changed.
    pub(crate) fn outbox_finish(
        &self,
        item: &OutboxItem,
        failure: Option<&str>,
    ) -> Result<Option<(Message, MessageStatus)>> {
        self.with(|c| {
            let tx = begin_write(c)?;
            match failure {
                None => tx.execute("DELETE FROM outbox WHERE id = ?1", [item.id])?,
                Some(reason) => tx.execute(
                    "UPDATE outbox SET failed = 1, last_error = ?2 WHERE id = ?1",
                    params![item.id, reason],
                )?,
            };
            let mut changed = None;
            if let Some(message_id) = item.message_id {
                let pending = tx
                    .query_row(
                        "SELECT 1 FROM outbox WHERE message_id = ?1 AND failed = 0 LIMIT 1",
                        [message_id],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                let status =
                    if failure.is_some() { MessageStatus::Failed } else { MessageStatus::Sent };
                if failure.is_some() || !pending {
                    let updated = tx.execute(
                        "UPDATE messages SET status = ?2, error = ?3
                         WHERE id = ?1 AND status = 'sending'",
                        params![message_id, status.as_str(), failure],
                    )?;
                    if updated > 0 {
                        let message = tx.query_row(
                            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
                            [message_id],
                            message_row,
                        )?;
                        changed = Some((message, status));
                    }
                }
            }
            tx.commit()?;
            Ok(changed)
        })
    }

    /// The first `per_destination` waiting requests of every destination (not those given
    /// up), without their data: by destination, then in queue order.
    pub(crate) fn outbox_heads(&self, per_destination: usize) -> Result<Vec<OutboxHead>> {
        let limit = i64::try_from(per_destination).unwrap_or(i64::MAX);
        self.with(|c| {
            c.prepare_cached(
                "SELECT id, destination, action, message_id, next_attempt FROM (
                     SELECT id, destination, action, message_id, next_attempt,
                            row_number() OVER (PARTITION BY destination ORDER BY id) AS place
                     FROM outbox WHERE failed = 0)
                 WHERE place <= ?1 ORDER BY destination, id",
            )?
            .query_map([limit], |r| {
                Ok(OutboxHead {
                    id: r.get(0)?,
                    destination: r.get(1)?,
                    action: r.get(2)?,
                    message_id: r.get(3)?,
                    next_attempt: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    /// One queued request.
    pub(crate) fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>> {
        self.with(|c| {
            c.query_row(
                "SELECT id, message_id, action, destination, namespace, data, ttl_ms, timestamp,
                        attempts, give_up_at
                 FROM outbox WHERE id = ?1 AND failed = 0",
                [id],
                outbox_row,
            )
            .optional()
        })
    }

    /// When the next request at the head of its destination's queue is due, if any.
    pub(crate) fn next_due(&self) -> Result<Option<u64>> {
        self.with(|c| {
            c.query_row(
                "SELECT min(next_attempt) FROM outbox o
                 WHERE failed = 0
                   AND id = (SELECT min(id) FROM outbox p
                             WHERE p.destination = o.destination AND p.failed = 0)",
                [],
                |r| r.get(0),
            )
        })
    }

    /// How often the request that decides message `message_id`'s status has failed, and why
    /// it failed last (`None` when nothing of it is queued).
    pub(crate) fn outbox_attempts(&self, message_id: i64) -> Result<Option<(u32, Option<String>)>> {
        self.with(|c| {
            c.query_row(
                "SELECT attempts, last_error FROM outbox WHERE message_id = ?1 AND failed = 0
                 ORDER BY id LIMIT 1",
                [message_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// How many requests wait (not counting those given up).
    pub fn outbox_len(&self) -> Result<u64> {
        self.with(|c| c.query_row("SELECT count(*) FROM outbox WHERE failed = 0", [], |r| r.get(0)))
    }

    /// Queues a failed message's given-up requests again and makes it `sending`, in one
    /// transaction; returns whether there were any.
    pub(crate) fn outbox_retry_failed(&self, message_id: i64, now: u64) -> Result<bool> {
        self.with(|c| {
            let tx = begin_write(c)?;
            let n = tx.execute(
                "UPDATE outbox SET failed = 0, attempts = 0, next_attempt = ?2,
                     give_up_at = ?2 + (give_up_at - created_at), created_at = ?2
                 WHERE message_id = ?1 AND failed = 1",
                params![message_id, now],
            )?;
            if n > 0 {
                tx.execute(
                    "UPDATE messages SET status = 'sending', error = NULL WHERE id = ?1",
                    [message_id],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    /// Drops every queued request of a message (it was unsent before it went out).
    pub(crate) fn outbox_cancel(&self, message_id: i64) -> Result<usize> {
        self.with(|c| c.execute("DELETE FROM outbox WHERE message_id = ?1", [message_id]))
    }

    /// Removes a finished request.
    pub(crate) fn outbox_done(&self, id: i64) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM outbox WHERE id = ?1", [id]).map(|_| ()))
    }

    /// Makes every waiting request due now (the network is back, or a person is running a
    /// command: retries backing off need not wait any longer).
    pub(crate) fn outbox_retry_now(&self) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE outbox SET next_attempt = 0 WHERE failed = 0 AND next_attempt > 0",
                [],
            )
            .map(|_| ())
        })
    }

    /// Schedules another attempt.
    pub(crate) fn outbox_retry(&self, id: i64, next: u64, error: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2, last_error = ?3
                 WHERE id = ?1",
                params![id, next, error],
            )
            .map(|_| ())
        })
    }

    // ----- de-duplication and polling -----

    /// Records a handled hash; false if it was handled before.
    pub(crate) fn mark_seen(&self, hash: &str, now: u64) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "INSERT INTO seen (hash, seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![hash, now],
            )
            .map(|n| n > 0)
        })
    }

    /// Whether a hash was handled.
    pub(crate) fn seen(&self, hash: &str) -> Result<bool> {
        self.with(|c| {
            c.query_row("SELECT 1 FROM seen WHERE hash = ?1", [hash], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
    }

    /// Forgets hashes older than `before` (messages live 14 days, configs 30).
    pub(crate) fn forget_seen(&self, before: u64) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM seen WHERE seen_at < ?1", [before]).map(|_| ()))
    }

    /// The last hash retrieved from `node` in `namespace`.
    pub(crate) fn last_hash(&self, node: &str, namespace: i16) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT last_hash FROM poll_state WHERE node = ?1 AND namespace = ?2",
                params![node, namespace],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Whether any member was polled in `namespace` before.
    pub(crate) fn any_last_hash(&self, namespace: i16) -> Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM poll_state WHERE namespace = ?1 LIMIT 1",
                [namespace],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        })
    }

    /// Records the last hash retrieved from `node` in `namespace`.
    pub(crate) fn set_last_hash(&self, node: &str, namespace: i16, hash: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO poll_state (node, namespace, last_hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (node, namespace) DO UPDATE SET last_hash = excluded.last_hash",
                params![node, namespace, hash],
            )
            .map(|_| ())
        })
    }
}

/// A client-chosen ID for a send, with the fingerprint of what it sends.
#[derive(Clone, Debug)]
pub(crate) struct SendId<'a> {
    pub(crate) id: &'a str,
    pub(crate) fingerprint: [u8; 32],
}

/// What [`Db::insert_outgoing`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// Stored and queued: the new message's ID.
    New(i64),
    /// An earlier send with the same send ID stored this message (it may be deleted since).
    Earlier(i64),
    /// The send ID was used for another message.
    Conflict,
}

fn send_id_in(c: &Connection, send_id: &SendId<'_>) -> rusqlite::Result<Option<Outgoing>> {
    let found: Option<(i64, Vec<u8>)> = c
        .query_row(
            "SELECT message_id, fingerprint FROM send_ids WHERE id = ?1",
            [send_id.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(found.map(|(message_id, fingerprint)| {
        if fingerprint == send_id.fingerprint {
            Outgoing::Earlier(message_id)
        } else {
            Outgoing::Conflict
        }
    }))
}

/// A sealed copy of a new outgoing message, for [`Db::insert_outgoing`].
#[derive(Clone, Debug)]
pub(crate) struct QueuedCopy<'a> {
    /// The request (its `message_id` is filled in).
    pub(crate) outbox: NewOutbox<'a>,
    /// The copy's hash.
    pub(crate) hash: &'a str,
    /// The copy to the recipient (its delivery decides the message's status); otherwise
    /// the sync copy.
    pub(crate) main: bool,
    /// Stored in our own swarm (so handled already when it comes back).
    pub(crate) own: bool,
}

fn insert_message_in(tx: &Connection, m: &NewMessage<'_>) -> rusqlite::Result<Option<i64>> {
    let (mode, secs) = m.disappearing.to_parts();
    // Read already (on another device) if it is not newer than the conversation's position.
    let last_read: u64 = tx
        .query_row("SELECT last_read FROM conversations WHERE id = ?1", [m.conversation], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0);
    let read_elsewhere =
        !m.outgoing && m.status == MessageStatus::Received && m.sent_at <= last_read;
    let status = if read_elsewhere { MessageStatus::Read } else { m.status };
    let expires_at = match m.disappearing {
        Disappearing::AfterRead(s) if read_elsewhere => {
            Some(m.received_at.saturating_add(u64::from(s) * 1000))
        }
        _ => m.expires_at,
    };
    let inserted = tx.execute(
        "INSERT INTO messages (conversation, outgoing, author, body, sent_at, received_at,
             status, hash, expire_mode, expire_secs, expires_at, synced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (conversation, author, sent_at) DO NOTHING",
        params![
            m.conversation,
            m.outgoing,
            m.author,
            m.body,
            m.sent_at,
            m.received_at,
            status.as_str(),
            m.hash,
            mode,
            secs,
            expires_at,
            m.synced
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE conversations SET last_activity = max(last_activity, ?2),
             unread = unread + ?3 WHERE id = ?1",
        params![m.conversation, m.received_at, status == MessageStatus::Received],
    )?;
    Ok(Some(id))
}

fn enqueue_in(c: &Connection, item: &NewOutbox<'_>, now: u64) -> rusqlite::Result<i64> {
    c.execute(
        // Due at once (0): not "now", which a later clock correction could move ahead of
        // the network's time and so delay the first attempt.
        "INSERT INTO outbox (message_id, action, destination, namespace, data, ttl_ms,
             timestamp, created_at, next_attempt, give_up_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
        params![
            item.message_id,
            item.action,
            item.destination,
            item.namespace,
            item.data,
            item.ttl_ms,
            item.timestamp,
            now,
            item.give_up_at
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// One change to a contact.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ContactChange<'a> {
    DisplayName(Option<&'a str>),
    Nickname(Option<&'a str>),
    Approved(bool),
    ApprovedMe(bool),
    Blocked(bool),
    Priority(i64),
    Notifications(i64),
    MuteUntil(i64),
}

fn contact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        account_id: r.get(0)?,
        display_name: r.get(1)?,
        nickname: r.get(2)?,
        approved: r.get(3)?,
        approved_me: r.get(4)?,
        blocked: r.get(5)?,
        priority: r.get(6)?,
        notifications: r.get(7)?,
        mute_until: r.get(8)?,
    })
}

/// The database file, `-wal` and `-shm` are the profile's secrets: created 0600 (SQLite gives
/// the `-wal` and `-shm` files the database's mode), and tightened to 0600 when an older hush
/// left them readable by others.
fn private_files(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file_error = |source| Error::File { path: path.to_owned(), source };
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(file_error)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::symlink_metadata(&file) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|source| Error::File { path: file.clone(), source })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A database error, with the disk's troubles told apart from SQL ones.
fn classify(e: rusqlite::Error, path: &Path) -> Error {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Error::DiskFull { path: path.to_owned() },
        Some(
            ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::ReadOnly,
        ) => Error::File { path: path.to_owned(), source: std::io::Error::other(e.to_string()) },
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Error::Corrupt {
            path: path.to_owned(),
            reason: format!("the database is damaged ({e}); it is kept as it is"),
        },
        _ => Error::Database(e),
    }
}

/// Why a keyed database cannot be read: SQLCipher says "not a database" both for a wrong key
/// and for a damaged first page. Its page check tells them apart: with a wrong key every
/// page fails, with the right key only the damaged ones do.
fn unreadable(conn: &Connection, path: &Path, e: rusqlite::Error) -> Error {
    if e.sqlite_error_code() != Some(rusqlite::ErrorCode::NotADatabase) {
        return classify(e, path);
    }
    let pages = std::fs::metadata(path).map(|m| m.len() / 4096).unwrap_or(0);
    let failing = conn
        .prepare("PRAGMA cipher_integrity_check")
        .and_then(|mut stmt| Ok(stmt.query_map([], |_| Ok(()))?.count()));
    match failing {
        Ok(failed) if pages > 1 && (failed as u64) < pages => Error::Corrupt {
            path: path.to_owned(),
            reason: format!(
                "the database is damaged: {failed} of its {pages} pages fail their integrity \
                 check, the first one among them; it is kept as it is"
            ),
        },
        Ok(_) if pages > 1 => Error::WrongKey { path: path.to_owned() },
        _ => Error::Corrupt {
            path: path.to_owned(),
            reason: "the database cannot be decrypted with this profile's key: it was made \
                     with another key, or its first page is damaged; it is kept as it is"
                .to_owned(),
        },
    }
}

/// Starts a write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`).
///
/// A deferred transaction that reads first and writes later cannot wait for the lock: when
/// another process (the daemon, the TUI, another command on the same profile) committed in
/// between, SQLite refuses the upgrade with "database is locked" without calling the busy
/// handler. Taking the lock first lets the busy timeout do its work.
pub(crate) fn begin_write(c: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let known = i64::try_from(schema::MIGRATIONS.len()).unwrap_or(i64::MAX);
    let fail = |e: rusqlite::Error| classify(e, path);
    // The version is read under the write lock: two processes opening an old database at
    // once must not both migrate it.
    let tx = begin_write(conn).map_err(fail)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(fail)?;
    if version > known {
        return Err(Error::Corrupt {
            path: path.to_owned(),
            reason: format!("database schema {version} is newer than this hush ({known})"),
        });
    }
    for (i, sql) in
        schema::MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))
            .map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    Ok(())
}

/// Finishes SQLCipher's process-wide set-up on one thread before any database is keyed.
///
/// SQLite marks itself initialised before it runs SQLCipher's own set-up
/// (`SQLITE_EXTRA_INIT`), so a second thread that opens a database in that window finds
/// SQLCipher "not initialized" and `PRAGMA key` fails (seen about once in 150 runs of
/// parallel tests). Opening one throw-away in-memory connection under a `Once` runs the
/// whole initialisation to the end while every other opener waits.
fn initialise_sqlcipher_once() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        // An error here resurfaces, with its cause, at the real open that follows.
        let _ = Connection::open_in_memory();
    });
}

#[cfg(test)]
mod tests {
    use hush_sodium::{Secret, SystemRng};

    use super::*;

    fn open() -> (tempfile::TempDir, Db, Secret<32>) {
        let dir = tempfile::tempdir().unwrap();
        let key = Secret::random(&mut SystemRng);
        let db = Db::open(&dir.path().join("hush.db"), &key).unwrap();
        (dir, db, key)
    }

    fn store(destination: &str) -> NewOutbox<'_> {
        NewOutbox {
            message_id: None,
            action: "store",
            destination,
            namespace: 0,
            data: b"x",
            ttl_ms: 1000,
            timestamp: 1,
            give_up_at: 10_000,
        }
    }

    #[test]
    fn the_database_is_encrypted_and_needs_its_key() {
        let (dir, db, key) = open();
        db.set_setting("k", "a secret value").unwrap();
        drop(db);
        let raw = std::fs::read(dir.path().join("hush.db")).unwrap();
        assert!(!raw.windows(14).any(|w| w == b"a secret value"));
        assert!(!raw.starts_with(b"SQLite format 3"), "no plaintext header");
        let wrong = Secret::random(&mut SystemRng);
        assert!(matches!(
            Db::open(&dir.path().join("hush.db"), &wrong),
            Err(Error::WrongKey { .. } | Error::Corrupt { .. })
        ));
        let again = Db::open(&dir.path().join("hush.db"), &key).unwrap();
        assert_eq!(again.setting("k").unwrap().as_deref(), Some("a secret value"));
    }

    #[test]
    fn the_outbox_keeps_order_per_destination_and_sets_failures_aside() {
        let (_dir, db, _) = open();
        let a1 = db.enqueue(&store("a"), 0).unwrap();
        let b1 = db.enqueue(&store("b"), 0).unwrap();
        let a2 = db.enqueue(&store("a"), 0).unwrap();
        let heads =
            |db: &Db| -> Vec<i64> { db.outbox_heads(8).unwrap().iter().map(|h| h.id).collect() };
        assert_eq!(heads(&db), [a1, a2, b1], "by destination, then in order");
        assert_eq!(db.outbox_heads(1).unwrap().iter().map(|h| h.id).collect::<Vec<_>>(), [a1, b1]);
        // The head of a's queue waits for a retry: the worker sleeps until then.
        db.outbox_retry(a1, 500, "busy").unwrap();
        assert_eq!(db.outbox_heads(8).unwrap()[0].next_attempt, 500);
        assert_eq!(db.next_due().unwrap(), Some(0), "b is due");
        // Given up: out of the way.
        let a1_item = db.outbox_item(a1).unwrap().unwrap();
        assert_eq!(db.outbox_finish(&a1_item, Some("refused")).unwrap(), None, "no message");
        assert_eq!(heads(&db), [a2, b1]);
        assert!(db.outbox_item(a1).unwrap().is_none());
        assert_eq!(db.outbox_len().unwrap(), 2);
        // With b done, a2 heads a's queue: due at once.
        db.outbox_done(b1).unwrap();
        assert_eq!(db.next_due().unwrap(), Some(0));
    }

    #[test]
    fn next_due_looks_at_queue_heads_only() {
        let (_dir, db, _) = open();
        let a1 = db.enqueue(&store("a"), 0).unwrap();
        db.enqueue(&store("a"), 0).unwrap();
        db.outbox_retry(a1, 500, "busy").unwrap();
        // a2 is due by its own time but waits behind a1: the worker sleeps until 500.
        assert_eq!(db.next_due().unwrap(), Some(500));
    }

    #[test]
    fn a_message_is_stored_once_per_author_and_time() {
        let (_dir, db, _) = open();
        db.ensure_conversation("05aa", 1, true).unwrap();
        let m = NewMessage {
            conversation: "05aa",
            outgoing: false,
            author: "05aa",
            body: "hi",
            sent_at: 42,
            received_at: 43,
            status: MessageStatus::Received,
            hash: Some("h"),
            disappearing: Disappearing::Off,
            expires_at: None,
            synced: false,
        };
        assert!(db.insert_message(&m).unwrap().is_some());
        assert!(db.insert_message(&m).unwrap().is_none(), "a second copy is a duplicate");
        let requests = db.conversations(true).unwrap();
        assert_eq!((requests.len(), requests[0].unread), (1, 1));
        assert_eq!(db.mark_read("05aa", 50).unwrap().len(), 1);
        assert_eq!(db.conversations(true).unwrap()[0].unread, 0);
    }

    #[test]
    fn read_positions_from_other_devices_cover_earlier_and_later_messages() {
        let (_dir, db, _) = open();
        db.ensure_conversation("05bb", 1, false).unwrap();
        let incoming = |sent_at: u64| NewMessage {
            conversation: "05bb",
            outgoing: false,
            author: "05bb",
            body: "hi",
            sent_at,
            received_at: 1000,
            status: MessageStatus::Received,
            hash: None,
            disappearing: Disappearing::AfterRead(60),
            expires_at: None,
            synced: false,
        };
        let early = db.insert_message(&incoming(10)).unwrap().unwrap();
        db.insert_message(&incoming(30)).unwrap().unwrap();
        assert_eq!(db.conversation("05bb").unwrap().unwrap().unread, 2);
        // Read up to 20 elsewhere: the first is read (its after-read timer starts now).
        let position =
            ReadPosition { conversation: "05bb".into(), last_read: 20, marked_unread: false };
        db.put_read_position(&position, true, 5000).unwrap();
        let first = db.message(early).unwrap().unwrap();
        assert_eq!((first.status, first.expires_at), (MessageStatus::Read, Some(65_000)));
        assert_eq!(db.conversation("05bb").unwrap().unwrap().unread, 1);
        // A message fetched later that is not newer than the position arrives read.
        let late = db.insert_message(&incoming(15)).unwrap().unwrap();
        assert_eq!(db.message(late).unwrap().unwrap().status, MessageStatus::Read);
        assert_eq!(db.conversation("05bb").unwrap().unwrap().unread, 1);
        assert_eq!(db.read_positions().unwrap(), [position]);
        // Reading here moves the position to the newest message read.
        db.mark_read("05bb", 6000).unwrap();
        assert_eq!(db.read_positions().unwrap()[0].last_read, 30);
    }

    fn incoming<'a>(conversation: &'a str, body: &'a str, sent_at: u64) -> NewMessage<'a> {
        NewMessage {
            conversation,
            outgoing: false,
            author: conversation,
            body,
            sent_at,
            received_at: sent_at,
            status: MessageStatus::Received,
            hash: None,
            disappearing: Disappearing::Off,
            expires_at: None,
            synced: false,
        }
    }

    #[test]
    fn local_ids_are_never_reused_after_the_newest_row_goes() {
        let (_dir, db, _) = open();
        db.ensure_conversation("05aa", 1, false).unwrap();
        let first = db.insert_message(&incoming("05aa", "one", 10)).unwrap().unwrap();
        let newest = db.insert_message(&incoming("05aa", "two", 20)).unwrap().unwrap();
        assert!(db.delete_message(newest).unwrap());
        let next = db.insert_message(&incoming("05aa", "three", 30)).unwrap().unwrap();
        assert!(next > newest, "{next} reuses an ID after {newest}");
        // Expiry is the other way the newest row disappears.
        db.with(|c| c.execute("UPDATE messages SET expires_at = 1 WHERE id = ?1", [next])).unwrap();
        assert_eq!(db.take_expired(2).unwrap().len(), 1);
        let after = db.insert_message(&incoming("05aa", "four", 40)).unwrap().unwrap();
        assert!(after > next);
        let arrived: Vec<i64> =
            db.arrived_since(newest, 10).unwrap().iter().map(|m| m.id).collect();
        assert_eq!(arrived, [after], "the cursor finds the new message");
        assert!(first < newest);
        // The outbox's IDs only grow as well.
        let a = db.enqueue(&store("a"), 0).unwrap();
        db.outbox_done(a).unwrap();
        assert!(db.enqueue(&store("a"), 0).unwrap() > a);
    }

    #[test]
    fn the_migration_starts_ids_above_every_id_handed_out_before() {
        // A database as 55b1511 made it (schema 2): the newest message (ID 3) was deleted
        // after `receive` printed it, so the cursor is above every row.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hush.db");
        let key = Secret::random(&mut SystemRng);
        {
            initialise_sqlcipher_once();
            let conn = Connection::open(&path).unwrap();
            let hex = hex::encode(key.expose());
            conn.pragma_update(None, "key", format!("x'{hex}'")).unwrap();
            for (i, sql) in schema::MIGRATIONS[..2].iter().enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.pragma_update(None, "user_version", i as i64 + 1).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO conversations (id, created_at, last_activity) VALUES ('05aa', 1, 1);
                 INSERT INTO messages (id, conversation, outgoing, author, body, sent_at,
                     received_at, status) VALUES
                     (1, '05aa', 0, '05aa', 'kept', 1, 1, 'received'),
                     (2, '05aa', 1, 'me', 'queued', 2, 2, 'sending');
                 INSERT INTO outbox (message_id, action, destination, namespace, data, ttl_ms,
                     timestamp, created_at, next_attempt, give_up_at)
                     VALUES (2, 'store', '05aa', 0, x'00', 1000, 2, 2, 0, 99);
                 INSERT INTO settings (key, value) VALUES ('cli_receive_cursor', '3');",
            )
            .unwrap();
        }
        let db = Db::open(&path, &key).unwrap();
        assert_eq!(db.message(1).unwrap().unwrap().body, "kept");
        assert_eq!(db.message(2).unwrap().unwrap().status, MessageStatus::Sending);
        assert_eq!(db.outbox_len().unwrap(), 1, "the queued request survives");
        let next = db.insert_message(&incoming("05aa", "new", 10)).unwrap().unwrap();
        assert_eq!(next, 4, "above the cursor, not 3 again");
        assert_eq!(db.arrived_since(3, 10).unwrap().len(), 1);
    }

    #[test]
    fn unreadable_databases_say_why_and_stay() {
        let (dir, db, key) = open();
        for i in 0..500 {
            db.set_setting(&format!("k{i}"), &"x".repeat(200)).unwrap();
        }
        drop(db);
        let path = dir.path().join("hush.db");
        let good = std::fs::read(&path).unwrap();
        let wrong = Secret::random(&mut SystemRng);
        let err = Db::open(&path, &wrong).unwrap_err();
        assert!(matches!(err, Error::WrongKey { .. }), "{err}");
        assert!(err.to_string().contains("kept as it is"), "{err}");
        // Cut short: damaged, not "another key".
        std::fs::write(&path, &good[..good.len() / 2 + 100]).unwrap();
        let err = Db::open(&path, &key).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        // Its first page damaged: the other pages still check with this key.
        let mut damaged = good.clone();
        for b in &mut damaged[100..200] {
            *b ^= 0xff;
        }
        std::fs::write(&path, &damaged).unwrap();
        let err = Db::open(&path, &key).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }) && err.to_string().contains("pages"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), damaged, "nothing was changed");
        std::fs::write(&path, &good).unwrap();
        Db::open(&path, &key).unwrap();
    }

    #[test]
    fn a_full_disk_is_reported_as_such() {
        let (_dir, db, _) = open();
        // SQLite reports a database that cannot grow as a full disk (SQLITE_FULL), whether
        // the disk is full or, as here, the file may not grow past its pages.
        let pages: i64 =
            db.with(|c| c.pragma_query_value(None, "page_count", |r| r.get(0))).unwrap();
        db.with(|c| c.pragma_update(None, "max_page_count", pages)).unwrap();
        let err = db.set_setting("big", &"x".repeat(100_000)).unwrap_err();
        assert!(matches!(err, Error::DiskFull { .. }), "{err}");
        assert!(
            err.to_string().contains("disk is full")
                && err.to_string().contains("nothing was lost")
        );
    }

    #[test]
    fn database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hush.db");
        let key = Secret::random(&mut SystemRng);
        let db = Db::open(&path, &key).unwrap();
        db.set_setting("k", "v").unwrap();
        let mode =
            |p: &str| std::fs::metadata(dir.path().join(p)).unwrap().permissions().mode() & 0o777;
        for f in ["hush.db", "hush.db-wal", "hush.db-shm"] {
            assert_eq!(mode(f), 0o600, "{f}");
        }
        drop(db);
        // Left 0644 by an older hush: tightened when opened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Db::open(&path, &key).unwrap();
        assert_eq!(mode("hush.db"), 0o600);
    }

    #[test]
    fn newer_schemas_are_refused() {
        let (dir, db, key) = open();
        db.with(|c| c.pragma_update(None, "user_version", 99)).unwrap();
        drop(db);
        let err = Db::open(&dir.path().join("hush.db"), &key).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}

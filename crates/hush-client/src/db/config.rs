//! What config sync keeps in the database: the config message held per namespace with the
//! swarm hashes of its copies, parts of multipart configs, and the synced views of contacts
//! and read positions that config objects are built from and applied to.

use rusqlite::{OptionalExtension, params};

use super::{Db, Disappearing, begin_write};
use crate::Result;

/// The config message this device holds for one namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConfigState {
    /// The serialized config message (`None`: nothing yet).
    pub(crate) message: Option<Vec<u8>>,
    /// Swarm hashes of its stored copy (one, or the parts).
    pub(crate) current: Vec<String>,
    /// Swarm hashes it superseded, to delete after our next push.
    pub(crate) obsolete: Vec<String>,
}

/// A contact with every field that syncs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncedContact {
    pub(crate) account_id: String,
    pub(crate) display_name: Option<String>,
    pub(crate) nickname: Option<String>,
    pub(crate) approved: bool,
    pub(crate) approved_me: bool,
    pub(crate) blocked: bool,
    pub(crate) priority: i64,
    pub(crate) notify: i64,
    pub(crate) mute_until: i64,
    /// The conversation's disappearing setting.
    pub(crate) disappearing: Disappearing,
}

/// Where reading a conversation stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReadPosition {
    pub(crate) conversation: String,
    /// Read up to this send time (ms).
    pub(crate) last_read: u64,
    /// Marked unread by hand.
    pub(crate) marked_unread: bool,
}

fn hashes(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn json(hashes: &[String]) -> String {
    serde_json::to_string(hashes).unwrap_or_else(|_| "[]".to_owned())
}

impl Db {
    pub(crate) fn config_state(&self, namespace: i16) -> Result<ConfigState> {
        self.with(|c| {
            c.query_row(
                "SELECT message, current, obsolete FROM config_state WHERE namespace = ?1",
                [namespace],
                |r| {
                    Ok(ConfigState {
                        message: Some(r.get(0)?),
                        current: hashes(&r.get::<_, String>(1)?),
                        obsolete: hashes(&r.get::<_, String>(2)?),
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    pub(crate) fn set_config_state(&self, namespace: i16, state: &ConfigState) -> Result<()> {
        let Some(message) = &state.message else { return Ok(()) };
        self.with(|c| {
            c.execute(
                "INSERT INTO config_state (namespace, message, current, obsolete)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (namespace) DO UPDATE SET message = ?2, current = ?3, obsolete = ?4",
                params![namespace, message, json(&state.current), json(&state.obsolete)],
            )
            .map(|_| ())
        })
    }

    /// Keeps a part of a multipart config until the rest arrives.
    pub(crate) fn save_config_part(
        &self,
        hash: &str,
        namespace: i16,
        data: &[u8],
        now: u64,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO config_parts (hash, namespace, data, received_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (hash) DO NOTHING",
                params![hash, namespace, data, now],
            )
            .map(|_| ())
        })
    }

    /// The parts kept for a namespace: (swarm hash, stored bytes).
    pub(crate) fn config_parts(&self, namespace: i16) -> Result<Vec<(String, Vec<u8>)>> {
        self.with(|c| {
            c.prepare("SELECT hash, data FROM config_parts WHERE namespace = ?1")?
                .query_map([namespace], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
    }

    /// Drops parts: used ones, and those older than `before` (ms) whose message never
    /// completed.
    pub(crate) fn drop_config_parts(&self, used: &[String], before: u64) -> Result<()> {
        self.with(|c| {
            let tx = begin_write(c)?;
            for hash in used {
                tx.execute("DELETE FROM config_parts WHERE hash = ?1", [hash])?;
            }
            tx.execute("DELETE FROM config_parts WHERE received_at < ?1", [before])?;
            tx.commit()
        })
    }

    /// Every contact with its synced fields.
    pub(crate) fn synced_contacts(&self) -> Result<Vec<SyncedContact>> {
        self.with(|c| {
            c.prepare(
                "SELECT k.account_id, k.display_name, k.nickname, k.approved, k.approved_me,
                        k.blocked, k.priority, k.notify, k.mute_until,
                        coalesce(v.expire_mode, 0), coalesce(v.expire_secs, 0)
                 FROM contacts k LEFT JOIN conversations v ON v.id = k.account_id",
            )?
            .query_map([], |r| {
                Ok(SyncedContact {
                    account_id: r.get(0)?,
                    display_name: r.get(1)?,
                    nickname: r.get(2)?,
                    approved: r.get(3)?,
                    approved_me: r.get(4)?,
                    blocked: r.get(5)?,
                    priority: r.get(6)?,
                    notify: r.get(7)?,
                    mute_until: r.get(8)?,
                    disappearing: Disappearing::from_parts(r.get(9)?, r.get(10)?),
                })
            })?
            .collect()
        })
    }

    /// Writes a contact as another device has it: every synced field, the conversation's
    /// disappearing setting (the conversation is created only for a setting other than
    /// off), and an existing request from an approved contact becomes a conversation.
    pub(crate) fn put_synced_contact(&self, k: &SyncedContact, now: u64) -> Result<()> {
        let (mode, secs) = k.disappearing.to_parts();
        self.with(|c| {
            let tx = begin_write(c)?;
            tx.execute(
                "INSERT INTO contacts (account_id, display_name, nickname, approved, approved_me,
                     blocked, priority, notify, mute_until, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (account_id) DO UPDATE SET
                     display_name = coalesce(?2, display_name), nickname = ?3, approved = ?4,
                     approved_me = ?5, blocked = ?6, priority = ?7, notify = ?8,
                     mute_until = ?9, updated_at = ?10",
                params![
                    k.account_id,
                    k.display_name,
                    k.nickname,
                    k.approved,
                    k.approved_me,
                    k.blocked,
                    k.priority,
                    k.notify,
                    k.mute_until,
                    now
                ],
            )?;
            if k.disappearing == Disappearing::Off {
                tx.execute(
                    "UPDATE conversations SET expire_mode = 0, expire_secs = 0 WHERE id = ?1",
                    [&k.account_id],
                )?;
            } else {
                tx.execute(
                    "INSERT INTO conversations (id, created_at, last_activity, is_request,
                         expire_mode, expire_secs)
                     VALUES (?1, ?2, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO UPDATE SET expire_mode = ?4, expire_secs = ?5",
                    params![k.account_id, now, !k.approved, mode, secs],
                )?;
            }
            if k.approved {
                tx.execute(
                    "UPDATE conversations SET is_request = 0 WHERE id = ?1",
                    [&k.account_id],
                )?;
            }
            tx.commit()
        })
    }

    /// Conversations with a read position.
    pub(crate) fn read_positions(&self) -> Result<Vec<ReadPosition>> {
        self.with(|c| {
            c.prepare(
                "SELECT id, last_read, marked_unread FROM conversations
                 WHERE last_read > 0 OR marked_unread != 0",
            )?
            .query_map([], |r| {
                Ok(ReadPosition {
                    conversation: r.get(0)?,
                    last_read: r.get(1)?,
                    marked_unread: r.get(2)?,
                })
            })?
            .collect()
        })
    }

    /// Applies a read position from another device: the conversation (created if new, as a
    /// request unless `approved`) is read up to `last_read` — earlier incoming messages
    /// count as read, and their after-read timers start `now`.
    pub(crate) fn put_read_position(
        &self,
        p: &ReadPosition,
        approved: bool,
        now: u64,
    ) -> Result<()> {
        self.with(|c| {
            let tx = begin_write(c)?;
            tx.execute(
                "INSERT INTO conversations (id, created_at, last_activity, is_request)
                 VALUES (?1, ?2, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![p.conversation, now, !approved],
            )?;
            tx.execute(
                "UPDATE conversations SET last_read = ?2, marked_unread = ?3 WHERE id = ?1",
                params![p.conversation, p.last_read, p.marked_unread],
            )?;
            tx.execute(
                "UPDATE messages SET status = 'read', read_at = ?3,
                     expires_at = CASE WHEN expire_mode = 1 AND expire_secs > 0
                                       THEN ?3 + expire_secs * 1000 ELSE expires_at END
                 WHERE conversation = ?1 AND outgoing = 0 AND status = 'received'
                       AND sent_at <= ?2",
                params![p.conversation, p.last_read, now],
            )?;
            recount_unread(&tx, &p.conversation)?;
            tx.commit()
        })
    }
}

/// Sets a conversation's unread count from its messages.
pub(super) fn recount_unread(c: &rusqlite::Connection, conversation: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE conversations SET unread = (SELECT count(*) FROM messages
             WHERE conversation = ?1 AND outgoing = 0 AND status = 'received')
         WHERE id = ?1",
        [conversation],
    )
    .map(|_| ())
}

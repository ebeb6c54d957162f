//! The message store: SQLite in WAL mode with `synchronous = FULL`.
//!
//! One writer thread owns the write connection and commits in groups: it takes the first
//! waiting job, drains whatever else is queued (up to [`MAX_GROUP`]), runs each in its own
//! savepoint inside one transaction, commits (one fsync for the group) and only then answers
//! the jobs. A store is therefore on disk before it is acknowledged, while many concurrent
//! stores share one fsync. Reads run on a small pool of read-only connections in
//! `spawn_blocking`, concurrently with the writer (WAL).
//!
//! Usage per account and for the whole node is kept by triggers in the same transactions, so
//! the storage limits cost one indexed lookup per store.

mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use hush_proto::AccountId;
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{Error, Result};

/// Most jobs committed in one transaction.
pub const MAX_GROUP: usize = 512;
/// Read connections in the pool.
const READERS: usize = 4;
/// Write jobs that may wait for the writer before senders wait.
const QUEUE: usize = 4096;

/// Storage limits, checked inside the store transaction.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of message data one account may hold.
    pub max_account_bytes: u64,
    /// Bytes of message data the node may hold.
    pub max_node_bytes: u64,
}

/// Why a store or query failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The account's storage allowance is used up.
    #[error("this account's storage limit is reached")]
    AccountFull,
    /// The node's storage is full.
    #[error("this node's storage is full")]
    NodeFull,
    /// This exact message was deleted (within the last 31 days) and cannot be stored again.
    #[error("this message was deleted and cannot be stored again")]
    Deleted,
    /// SQLite failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The transaction holding this job failed to commit.
    #[error("database commit failed")]
    CommitFailed,
    /// The store is shut down.
    #[error("the store is closed")]
    Closed,
}

/// A message to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// The mailbox owner.
    pub account: AccountId,
    /// The namespace.
    pub namespace: Namespace,
    /// Its hash (§5.7).
    pub hash: MessageHash,
    /// The sender's timestamp (ms).
    pub timestamp: u64,
    /// When it expires (ms).
    pub expiry: u64,
    /// The raw data.
    pub data: Vec<u8>,
}

/// The result of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The stored expiry (for a duplicate, the later of the old and new expiry).
    pub expiry: u64,
    /// The message was already there.
    pub already: bool,
    /// Public-inbox messages of the account evicted to make room for it (the account was
    /// full).
    pub evicted: usize,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its hash.
    pub hash: String,
    /// Its namespace.
    pub namespace: i16,
    /// The sender's timestamp (ms).
    pub timestamp: u64,
    /// When it expires (ms).
    pub expiry: u64,
    /// The raw data.
    pub data: Vec<u8>,
}

pub use hush_proto::storage_rpc::Namespaces;

/// A retrieve query.
#[derive(Clone, Debug)]
pub struct Retrieve {
    /// The mailbox owner.
    pub account: AccountId,
    /// The namespace.
    pub namespace: Namespace,
    /// Return messages stored after this one (all, if unknown or absent).
    pub last_hash: Option<String>,
    /// At most this many messages.
    pub max_count: usize,
    /// At most this many bytes, counted as `100 + hash + base64(data)` per message; the
    /// first message is always returned.
    pub max_size: usize,
    /// Messages that expire at or before this time are not returned.
    pub now: u64,
    /// Leave the data out (it is returned empty and not counted in `max_size`).
    pub hashes_only: bool,
}

/// Which expiries an `expire` may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireMode {
    /// Set the expiry whatever it was.
    Any,
    /// Only move expiries later.
    Extend,
    /// Only move expiries earlier.
    Shorten,
}

/// The outcome of an `expire`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpireOutcome {
    /// Hashes whose expiry changed, with the new expiry.
    pub updated: Vec<(String, u64)>,
    /// Hashes found but left alone by the mode, with their current expiry.
    pub unchanged: Vec<(String, u64)>,
}

/// The approximate size a message counts for in `retrieve` limits.
pub fn retrieve_size(hash: &str, data_len: usize) -> usize {
    100 + hash.len() + data_len * 4 / 3
}

type Reply = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

/// What the writer thread receives.
enum Msg {
    Job(Job),
    /// Finish the queued jobs, close the database and stop.
    Close,
}

/// Handle to the store. Cloning is cheap; the writer thread stops when every clone is dropped
/// or [`Store::close`] is called.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Msg>,
    readers: Arc<ReadPool>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
    limits: Limits,
    watchers: Arc<Watchers>,
}

/// Mailboxes someone is waiting on (long polls), woken when a message arrives.
#[derive(Debug, Default)]
struct Watchers {
    map: Mutex<std::collections::HashMap<(AccountId, i16), std::sync::Weak<tokio::sync::Notify>>>,
}

/// Most mailboxes watched at once; more long polls are answered at once.
const MAX_WATCHED: usize = 100_000;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("limits", &self.limits).finish_non_exhaustive()
    }
}

struct ReadPool {
    connections: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let known = i64::try_from(schema::MIGRATIONS.len()).expect("a handful of migrations");
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > known {
        return Err(Error::SchemaTooNew { found: version, known });
    }
    let tx = conn.transaction()?;
    for (i, sql) in
        schema::MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).expect("small"))?;
    }
    tx.commit()?;
    Ok(())
}

impl Store {
    /// Opens (or creates) the database at `path`, runs migrations and starts the writer.
    pub fn open(path: &Path, limits: Limits) -> Result<Self> {
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut writer)?;

        let mut connections = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&reader)?;
            connections.push(reader);
        }
        let readers = Arc::new(ReadPool {
            connections: Mutex::new(connections),
            permits: Arc::new(Semaphore::new(READERS)),
        });

        let (jobs, rx) = mpsc::channel::<Msg>(QUEUE);
        let handle = std::thread::Builder::new()
            .name("hush-node-store".to_owned())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|source| Error::File { path: path.to_owned(), source })?;
        Ok(Self {
            jobs,
            readers,
            writer: Arc::new(Mutex::new(Some(handle))),
            limits,
            watchers: Arc::default(),
        })
    }

    /// A notifier woken whenever a message arrives in the mailbox (stored here, replicated
    /// or merged from another node); `None` when too many mailboxes are watched already.
    pub fn watch(&self, account: AccountId, namespace: i16) -> Option<Arc<tokio::sync::Notify>> {
        let mut map = self.watchers.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(notify) = map.get(&(account, namespace)).and_then(std::sync::Weak::upgrade) {
            return Some(notify);
        }
        if map.len() >= MAX_WATCHED {
            map.retain(|_, w| w.strong_count() > 0);
            if map.len() >= MAX_WATCHED {
                return None;
            }
        }
        let notify = Arc::new(tokio::sync::Notify::new());
        map.insert((account, namespace), Arc::downgrade(&notify));
        Some(notify)
    }

    /// Wakes whoever waits on the mailbox.
    fn wake(&self, account: AccountId, namespace: i16) {
        let mut map = self.watchers.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&(account, namespace)).map(std::sync::Weak::upgrade) {
            Some(Some(notify)) => notify.notify_waiters(),
            Some(None) => {
                map.remove(&(account, namespace));
            }
            None => {}
        }
    }

    /// Lets queued jobs finish, closes the database (checkpointing the WAL) and waits for the
    /// writer thread. Later calls on any clone fail with [`StoreError::Closed`].
    pub async fn close(self) {
        let _ = self.jobs.send(Msg::Close).await;
        let handle = self.writer.lock().map(|mut h| h.take()).unwrap_or(None);
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }

    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<R, StoreError> + Send + 'static,
    ) -> std::result::Result<R, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, f);
            Box::new(move |committed| {
                let _ = tx.send(if committed { result } else { Err(StoreError::CommitFailed) });
            })
        });
        self.jobs.send(Msg::Job(job)).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> std::result::Result<R, StoreError> {
        // The permit moves into the blocking task: if the caller gives up, the permit is held
        // until the connection is back in the pool, so the pool never looks empty.
        let permit =
            self.readers.permits.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool
                .connections
                .lock()
                .map_err(|_| StoreError::Closed)?
                .pop()
                .ok_or(StoreError::Closed)?;
            let result = f(&conn);
            if let Ok(mut conns) = pool.connections.lock() {
                conns.push(conn);
            }
            result.map_err(StoreError::from)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Stores a message, or reports it as already there (raising its expiry if the new one is
    /// later). A public-outbox namespace keeps only this message. A message that was deleted
    /// is refused ([`StoreError::Deleted`]): its
    /// tombstone would delete it again on the other members, so acknowledging it would lose
    /// it. (A new message never repeats a hash: its ciphertext is freshly randomised.)
    pub async fn store(
        &self,
        msg: NewMessage,
        now: u64,
    ) -> std::result::Result<Stored, StoreError> {
        let limits = self.limits;
        let (account, namespace) = (msg.account, msg.namespace.0);
        let stored = self
            .write(move |conn| {
                let deleted = conn
                    .prepare_cached("SELECT 1 FROM tombstones WHERE account = ?1 AND hash = ?2")?
                    .exists(params![&msg.account.as_bytes()[..], msg.hash.as_str()])?;
                if deleted {
                    return Err(StoreError::Deleted);
                }
                let existing: Option<u64> = conn
                    .query_row(
                        "SELECT expiry FROM messages WHERE hash = ?1",
                        [msg.hash.as_str()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if existing.is_some_and(|old| old <= now) {
                    // Expired but not yet swept: it is gone; store the message anew.
                    conn.execute("DELETE FROM messages WHERE hash = ?1", [msg.hash.as_str()])?;
                } else if let Some(old) = existing {
                    let expiry = old.max(msg.expiry);
                    if expiry != old {
                        conn.execute(
                            "UPDATE messages SET expiry = ?1 WHERE hash = ?2",
                            params![expiry, msg.hash.as_str()],
                        )?;
                    }
                    return Ok(Stored { expiry, already: true, evicted: 0 });
                }
                if msg.namespace.is_public_outbox() {
                    // The slot's previous message goes first, so it does not count against the
                    // quota of its replacement (the savepoint restores it if the store fails).
                    // No tombstone: between members the newest message of a slot wins (`merge`).
                    conn.execute(
                        "DELETE FROM messages WHERE account = ?1 AND namespace = ?2",
                        params![&msg.account.as_bytes()[..], msg.namespace.0],
                    )?;
                }
                let size = msg.data.len() as u64;
                let account_bytes: u64 = conn
                    .query_row(
                        "SELECT bytes FROM account_usage WHERE account = ?1",
                        [&msg.account.as_bytes()[..]],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(0);
                let mut evicted = 0;
                if account_bytes + size > limits.max_account_bytes {
                    // Full: make room from the account's public inbox — mail anyone could
                    // store, so a flood of it cannot lock the owner out of new mail or of
                    // their own (signed) data. What goes is the inbox mail that would expire
                    // first, a little more than needed so a flood does not come back here at
                    // every store. The owner's signed namespaces are never evicted.
                    let need = account_bytes + size - limits.max_account_bytes;
                    let slack = limits.max_account_bytes / 100;
                    let (freed, n) = evict_inbox(conn, &msg.account, need + slack, now)?;
                    if freed < need {
                        return Err(StoreError::AccountFull);
                    }
                    evicted = n;
                }
                let node_bytes: u64 =
                    conn.query_row("SELECT bytes FROM node_usage WHERE id = 0", [], |r| r.get(0))?;
                if node_bytes + size > limits.max_node_bytes {
                    return Err(StoreError::NodeFull);
                }
                insert_message(
                    conn,
                    &msg.account,
                    msg.namespace.0,
                    &msg.hash,
                    msg.timestamp,
                    msg.expiry,
                    &msg.data,
                )?;
                Ok(Stored { expiry: msg.expiry, already: false, evicted })
            })
            .await?;
        if !stored.already {
            self.wake(account, namespace);
        }
        Ok(stored)
    }

    /// Messages of one mailbox after `last_hash`, in storage order, within the limits.
    /// Returns the messages and whether more remain.
    pub async fn retrieve(
        &self,
        q: Retrieve,
    ) -> std::result::Result<(Vec<StoredMessage>, bool), StoreError> {
        self.read(move |conn| {
            let account = &q.account.as_bytes()[..];
            let after: i64 = match &q.last_hash {
                Some(h) => conn
                    .query_row(
                        "SELECT id FROM messages WHERE hash = ?1 AND account = ?2 AND namespace = ?3",
                        params![h, account, q.namespace.0],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(0),
                None => 0,
            };
            let mut stmt = conn.prepare_cached(if q.hashes_only {
                "SELECT hash, namespace, timestamp, expiry, x'' FROM messages
                 WHERE account = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4
                 ORDER BY id"
            } else {
                "SELECT hash, namespace, timestamp, expiry, data FROM messages
                 WHERE account = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4
                 ORDER BY id"
            })?;
            let mut rows = stmt.query(params![account, q.namespace.0, after, q.now])?;
            let mut out = Vec::new();
            let mut size = 0usize;
            while let Some(row) = rows.next()? {
                let hash: String = row.get(0)?;
                let data: Vec<u8> = row.get(4)?;
                let this = retrieve_size(&hash, data.len());
                if out.len() >= q.max_count || (!out.is_empty() && size + this > q.max_size) {
                    return Ok((out, true));
                }
                size += this;
                out.push(StoredMessage {
                    hash,
                    namespace: row.get(1)?,
                    timestamp: row.get(2)?,
                    expiry: row.get(3)?,
                    data,
                });
            }
            Ok((out, false))
        })
        .await
    }

    /// Deletes the account's messages with these hashes (any namespace); returns the hashes
    /// deleted, sorted.
    pub async fn delete(
        &self,
        account: AccountId,
        hashes: Vec<String>,
        now: u64,
    ) -> std::result::Result<Vec<String>, StoreError> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(
                "DELETE FROM messages WHERE hash = ?1 AND account = ?2 RETURNING hash, namespace",
            )?;
            let mut deleted = Vec::new();
            let mut absent = false;
            for h in &hashes {
                if let Some((d, ns)) = stmt
                    .query_row(params![h, &account.as_bytes()[..]], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i16>(1)?))
                    })
                    .optional()?
                {
                    tombstone(conn, &d, &account, ns, now)?;
                    deleted.push(d);
                } else if MessageHash::parse(h).is_ok() {
                    // Not here (yet): a copy may still arrive, handed over from the account's
                    // previous swarm. Remember the deletion, namespace unknown.
                    tombstone(conn, h, &account, NAMESPACE_UNKNOWN, now)?;
                    absent = true;
                }
            }
            if absent {
                conn.prepare_cached(
                    "DELETE FROM tombstones WHERE account = ?1 AND namespace = ?2 AND hash IN (
                         SELECT hash FROM tombstones WHERE account = ?1 AND namespace = ?2
                         ORDER BY until DESC LIMIT -1 OFFSET ?3)",
                )?
                .execute(params![
                    &account.as_bytes()[..],
                    NAMESPACE_UNKNOWN,
                    MAX_ABSENT_TOMBSTONES
                ])?;
            }
            deleted.sort();
            deleted.dedup();
            Ok(deleted)
        })
        .await
    }

    /// Deletes the account's messages in `ns` whose timestamp is at most `before` (or all of
    /// them); returns `(namespace, hash)` pairs sorted by hash.
    pub async fn delete_where(
        &self,
        account: AccountId,
        ns: Namespaces,
        before: Option<u64>,
        now: u64,
    ) -> std::result::Result<Vec<(i16, String)>, StoreError> {
        self.write(move |conn| {
            let before = before.unwrap_or(u64::MAX >> 1);
            let id = account;
            let account = &account.as_bytes()[..];
            let mut out: Vec<(i16, String)> = match ns {
                Namespaces::One(n) => conn
                    .prepare_cached(
                        "DELETE FROM messages WHERE account = ?1 AND namespace = ?2
                         AND timestamp <= ?3 RETURNING namespace, hash",
                    )?
                    .query_map(params![account, n.0, before], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?,
                Namespaces::All => conn
                    .prepare_cached(
                        "DELETE FROM messages WHERE account = ?1 AND timestamp <= ?2
                         RETURNING namespace, hash",
                    )?
                    .query_map(params![account, before], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?,
            };
            for (ns, hash) in &out {
                tombstone(conn, hash, &id, *ns, now)?;
            }
            out.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(out)
        })
        .await
    }

    /// Shortens to `expiry` every expiry in `ns` that is later; returns `(namespace, hash)`
    /// of the messages updated, sorted by hash.
    pub async fn expire_all(
        &self,
        account: AccountId,
        ns: Namespaces,
        expiry: u64,
    ) -> std::result::Result<Vec<(i16, String)>, StoreError> {
        self.write(move |conn| {
            let account = &account.as_bytes()[..];
            let mut out: Vec<(i16, String)> = match ns {
                Namespaces::One(n) => conn
                    .prepare_cached(
                        "UPDATE messages SET expiry = ?3 WHERE account = ?1 AND namespace = ?2
                         AND expiry > ?3 RETURNING namespace, hash",
                    )?
                    .query_map(params![account, n.0, expiry], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?,
                Namespaces::All => conn
                    .prepare_cached(
                        "UPDATE messages SET expiry = ?2 WHERE account = ?1 AND expiry > ?2
                         RETURNING namespace, hash",
                    )?
                    .query_map(params![account, expiry], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?,
            };
            out.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(out)
        })
        .await
    }

    /// Sets the expiry of each `(hash, expiry)` of the account, as `mode` allows.
    pub async fn expire(
        &self,
        account: AccountId,
        changes: Vec<(String, u64)>,
        mode: ExpireMode,
        now: u64,
    ) -> std::result::Result<ExpireOutcome, StoreError> {
        self.write(move |conn| {
            let mut out = ExpireOutcome::default();
            // Expired messages are gone even before the sweep: never extend them back to life.
            let mut select = conn.prepare_cached(
                "SELECT expiry FROM messages WHERE hash = ?1 AND account = ?2 AND expiry > ?3",
            )?;
            let mut update =
                conn.prepare_cached("UPDATE messages SET expiry = ?1 WHERE hash = ?2")?;
            for (hash, expiry) in changes {
                let Some(current): Option<u64> = select
                    .query_row(params![hash, &account.as_bytes()[..], now], |r| r.get(0))
                    .optional()?
                else {
                    continue;
                };
                let allowed = match mode {
                    ExpireMode::Any => true,
                    ExpireMode::Extend => current < expiry,
                    ExpireMode::Shorten => current > expiry,
                };
                if !allowed {
                    out.unchanged.push((hash, current));
                    continue;
                }
                if current != expiry {
                    update.execute(params![expiry, hash])?;
                }
                out.updated.push((hash, expiry));
            }
            out.updated.sort();
            out.updated.dedup_by(|a, b| a.0 == b.0);
            out.unchanged.sort();
            out.unchanged.dedup_by(|a, b| a.0 == b.0);
            Ok(out)
        })
        .await
    }

    /// Current expiries of the account's messages among `hashes`.
    pub async fn expiries(
        &self,
        account: AccountId,
        hashes: Vec<String>,
        now: u64,
    ) -> std::result::Result<Vec<(String, u64)>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT expiry FROM messages WHERE hash = ?1 AND account = ?2 AND expiry > ?3",
            )?;
            let mut out = Vec::new();
            for h in hashes {
                if let Some(e) = stmt
                    .query_row(params![h, &account.as_bytes()[..], now], |r| r.get(0))
                    .optional()?
                {
                    out.push((h, e));
                }
            }
            Ok(out)
        })
        .await
    }

    /// Records revocations of subaccount tokens (the newest 50 per account are kept).
    pub async fn revoke(
        &self,
        account: AccountId,
        tokens: Vec<[u8; 36]>,
        now: u64,
    ) -> std::result::Result<(), StoreError> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO revoked_subaccounts (account, token, revoked_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account, token) DO UPDATE SET revoked_at = excluded.revoked_at",
            )?;
            for t in &tokens {
                stmt.execute(params![&account.as_bytes()[..], &t[..], now])?;
            }
            Ok(())
        })
        .await
    }

    /// Lifts revocations; returns how many were lifted.
    pub async fn unrevoke(
        &self,
        account: AccountId,
        tokens: Vec<[u8; 36]>,
    ) -> std::result::Result<usize, StoreError> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(
                "DELETE FROM revoked_subaccounts WHERE account = ?1 AND token = ?2",
            )?;
            let mut count = 0;
            for t in &tokens {
                count += stmt.execute(params![&account.as_bytes()[..], &t[..]])?;
            }
            Ok(count)
        })
        .await
    }

    /// Whether a subaccount token of the account is revoked.
    pub async fn is_revoked(
        &self,
        account: AccountId,
        token: [u8; 36],
    ) -> std::result::Result<bool, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT 1 FROM revoked_subaccounts WHERE account = ?1 AND token = ?2",
            )?
            .exists(params![&account.as_bytes()[..], &token[..]])
        })
        .await
    }

    /// Deletes messages that expired at or before `now`, and tombstones past their time;
    /// returns how many messages went.
    ///
    /// Expiry leaves no tombstone: an expired copy can never come back (no node offers or
    /// accepts a message past its expiry), and a copy whose expiry another member extended
    /// must win over the one that missed the extension — a tombstone here would delete the
    /// extended copies everywhere.
    pub async fn sweep_expired(&self, now: u64) -> std::result::Result<usize, StoreError> {
        self.write(move |conn| {
            let swept = conn.execute("DELETE FROM messages WHERE expiry <= ?1", [now])?;
            conn.execute("DELETE FROM tombstones WHERE until <= ?1", [now])?;
            Ok(swept)
        })
        .await
    }

    /// Every mailbox on this node: `(account, namespace, messages, digest)`.
    pub async fn summary(&self) -> std::result::Result<Vec<MailboxSummary>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT account, namespace, messages, digest FROM mailbox_digest ORDER BY account, namespace",
            )?
            .query_map([], |r| {
                Ok(MailboxSummary {
                    account: r.get(0)?,
                    namespace: r.get(1)?,
                    messages: r.get(2)?,
                    digest: r.get(3)?,
                })
            })?
            .collect()
        })
        .await
    }

    /// The hashes of a mailbox's live messages and its tombstones.
    pub async fn mailbox(
        &self,
        account: AccountId,
        namespace: i16,
        now: u64,
    ) -> std::result::Result<(Vec<String>, Vec<String>), StoreError> {
        self.read(move |conn| {
            let key = &account.as_bytes()[..];
            let hashes = conn
                .prepare_cached(
                    "SELECT hash FROM messages WHERE account = ?1 AND namespace = ?2 AND expiry > ?3",
                )?
                .query_map(params![key, namespace, now], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            let tombstones = conn
                .prepare_cached(
                    "SELECT hash FROM tombstones
                     WHERE account = ?1 AND namespace = ?2 AND evicted = 0",
                )?
                .query_map(params![key, namespace], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok((hashes, tombstones))
        })
        .await
    }

    /// The account's live messages among `hashes`.
    pub async fn fetch(
        &self,
        account: AccountId,
        hashes: Vec<String>,
        now: u64,
    ) -> std::result::Result<Vec<StoredMessage>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT hash, namespace, timestamp, expiry, data FROM messages
                 WHERE hash = ?1 AND account = ?2 AND expiry > ?3",
            )?;
            let mut out = Vec::new();
            for h in hashes {
                if let Some(m) = stmt
                    .query_row(params![h, &account.as_bytes()[..], now], |r| {
                        Ok(StoredMessage {
                            hash: r.get(0)?,
                            namespace: r.get(1)?,
                            timestamp: r.get(2)?,
                            expiry: r.get(3)?,
                            data: r.get(4)?,
                        })
                    })
                    .optional()?
                {
                    out.push(m);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Merges what another node has for one mailbox: deletes what its tombstones cover, adds
    /// its live messages that are neither here nor tombstoned here. Hashes are recomputed, so
    /// a peer cannot plant a message under another hash. Returns `(added, deleted)`.
    pub async fn merge(
        &self,
        account: AccountId,
        namespace: i16,
        messages: Vec<StoredMessage>,
        tombstones: Vec<String>,
        now: u64,
    ) -> std::result::Result<(usize, usize), StoreError> {
        let merged = self.write(move |conn| {
            let key = &account.as_bytes()[..];
            let mut deleted = 0;
            for h in &tombstones {
                // A tombstone of unknown namespace covers the hash in any namespace.
                let removed = if namespace == NAMESPACE_UNKNOWN {
                    conn.execute(
                        "DELETE FROM messages WHERE hash = ?1 AND account = ?2",
                        params![h, key],
                    )?
                } else {
                    conn.execute(
                        "DELETE FROM messages WHERE hash = ?1 AND account = ?2 AND namespace = ?3",
                        params![h, key, namespace],
                    )?
                };
                deleted += removed;
                // Learned from another node: kept for 31 days from now, not refreshed by
                // later merges of the same tombstone.
                conn.prepare_cached(
                    "INSERT INTO tombstones (hash, account, namespace, until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account, hash) DO NOTHING",
                )?
                .execute(params![h, key, namespace, now.saturating_add(TOMBSTONE_RETENTION_MS)])?;
            }
            let outbox = Namespace(namespace).is_public_outbox();
            let mut added = 0;
            for m in messages {
                let hash = MessageHash::compute(&account, Namespace(namespace), &m.data);
                // Nothing expired, and nothing a client could not have stored (30 days at most,
                // from a timestamp at most a little ahead of now).
                let too_far = m.expiry > now.saturating_add(MAX_MERGED_LIFETIME_MS);
                if hash.as_str() != m.hash || m.namespace != namespace || m.expiry <= now || too_far
                {
                    continue;
                }
                let deleted_here = conn
                    .prepare_cached("SELECT 1 FROM tombstones WHERE account = ?1 AND hash = ?2")?
                    .exists(params![key, hash.as_str()])?;
                if deleted_here {
                    continue;
                }
                // Already here: keep the later expiry (an extension one copy missed wins).
                let here = conn
                    .prepare_cached(
                        "UPDATE messages SET expiry = max(expiry, ?3) WHERE hash = ?1 AND account = ?2",
                    )?
                    .execute(params![hash.as_str(), key, m.expiry])?;
                if here > 0 {
                    continue;
                }
                if outbox {
                    // One message per slot: the newest (by timestamp, then hash) wins.
                    let newer_here = conn
                        .prepare_cached(
                            "SELECT 1 FROM messages WHERE account = ?1 AND namespace = ?2
                             AND (timestamp > ?3 OR (timestamp = ?3 AND hash > ?4))",
                        )?
                        .exists(params![key, namespace, m.timestamp, hash.as_str()])?;
                    if newer_here {
                        continue;
                    }
                    conn.execute(
                        "DELETE FROM messages WHERE account = ?1 AND namespace = ?2",
                        params![key, namespace],
                    )?;
                }
                insert_message(conn, &account, namespace, &hash, m.timestamp, m.expiry, &m.data)?;
                added += 1;
            }
            Ok((added, deleted))
        })
        .await?;
        if merged.0 > 0 {
            self.wake(account, namespace);
        }
        Ok(merged)
    }

    /// Removes the handed-off part of a mailbox this node no longer serves: exactly
    /// `hashes` and `tombstones`, so anything that arrived since the hand-off began stays for
    /// the next one. No tombstones are written: the messages live on in their new swarm.
    pub async fn drop_handed_off(
        &self,
        account: AccountId,
        namespace: i16,
        hashes: Vec<String>,
        tombstones: Vec<String>,
    ) -> std::result::Result<usize, StoreError> {
        self.write(move |conn| {
            let key = &account.as_bytes()[..];
            let mut drop_tomb = conn.prepare_cached(
                "DELETE FROM tombstones WHERE hash = ?1 AND account = ?2 AND namespace = ?3",
            )?;
            for hash in &tombstones {
                drop_tomb.execute(params![hash, key, namespace])?;
            }
            let mut drop_msg = conn.prepare_cached(
                "DELETE FROM messages WHERE hash = ?1 AND account = ?2 AND namespace = ?3",
            )?;
            let mut dropped = 0;
            for hash in &hashes {
                dropped += drop_msg.execute(params![hash, key, namespace])?;
            }
            Ok(dropped)
        })
        .await
    }

    /// Per account with revoked subaccounts: `(account, count, XOR of the tokens' first 8
    /// bytes)`, for catch-up to compare.
    pub async fn revocation_summary(
        &self,
    ) -> std::result::Result<Vec<(Vec<u8>, u64, i64)>, StoreError> {
        self.read(|conn| {
            let mut out: Vec<(Vec<u8>, u64, i64)> = Vec::new();
            let mut stmt = conn.prepare_cached(
                "SELECT account, token FROM revoked_subaccounts ORDER BY account",
            )?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
            for row in rows {
                let (account, token) = row?;
                let mut head = [0u8; 8];
                let n = token.len().min(8);
                head[..n].copy_from_slice(&token[..n]);
                let key = i64::from_le_bytes(head);
                match out.last_mut() {
                    Some(last) if last.0 == account => {
                        last.1 += 1;
                        last.2 ^= key;
                    }
                    _ => out.push((account, 1, key)),
                }
            }
            Ok(out)
        })
        .await
    }

    /// The account's revoked subaccount tokens with when they were revoked.
    pub async fn revocations(
        &self,
        account: AccountId,
    ) -> std::result::Result<Vec<(Vec<u8>, u64)>, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT token, revoked_at FROM revoked_subaccounts WHERE account = ?1",
            )?
            .query_map([&account.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
        .await
    }

    /// Adds revocations another node has (a revocation wins over a missing one: failing
    /// closed); keeps the later time of a revocation both have.
    pub async fn merge_revocations(
        &self,
        account: AccountId,
        tokens: Vec<([u8; 36], u64)>,
    ) -> std::result::Result<(), StoreError> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO revoked_subaccounts (account, token, revoked_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account, token)
                 DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at)",
            )?;
            for (t, at) in &tokens {
                stmt.execute(params![&account.as_bytes()[..], &t[..], at])?;
            }
            Ok(())
        })
        .await
    }

    /// Forgets the account's revocations `tokens` (after handing them to its new swarm).
    pub async fn drop_revocations(
        &self,
        account: AccountId,
        tokens: Vec<Vec<u8>>,
    ) -> std::result::Result<(), StoreError> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(
                "DELETE FROM revoked_subaccounts WHERE account = ?1 AND token = ?2",
            )?;
            for t in &tokens {
                stmt.execute(params![&account.as_bytes()[..], t])?;
            }
            Ok(())
        })
        .await
    }

    /// Every `(account, namespace)` that has tombstones.
    pub async fn tombstone_mailboxes(
        &self,
    ) -> std::result::Result<Vec<(Vec<u8>, i16)>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT DISTINCT account, namespace FROM tombstones WHERE evicted = 0",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
        .await
    }

    /// Messages and bytes stored on the node.
    pub async fn usage(&self) -> std::result::Result<(u64, u64), StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT messages, bytes FROM node_usage WHERE id = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .await
    }
}

/// The namespace of a tombstone for a hash that was deleted before this node held it.
pub const NAMESPACE_UNKNOWN: i16 = i16::MIN;

/// Most such tombstones kept per account (the oldest go first).
const MAX_ABSENT_TOMBSTONES: i64 = 10_000;

/// The latest expiry a merged message may have, from now: the 30-day maximum TTL plus a
/// day for clock differences.
const MAX_MERGED_LIFETIME_MS: u64 = 31 * 24 * 3600 * 1000;

/// How long a tombstone outlives its deletion: longer than any copy of the message can live
/// (30 days at most), with a day of margin.
const TOMBSTONE_RETENTION_MS: u64 = 31 * 24 * 3600 * 1000;

/// One mailbox as catch-up compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxSummary {
    /// The account (33 raw bytes).
    pub account: Vec<u8>,
    /// The namespace.
    pub namespace: i16,
    /// Live and not-yet-swept messages.
    pub messages: u64,
    /// XOR of the messages' hash prefixes.
    pub digest: i64,
}

/// The first 8 bytes of a message hash as an integer, for the mailbox digest.
fn hash_key(hash: &MessageHash) -> i64 {
    use base64::Engine;
    let mut raw = [0u8; 33];
    let _ = base64::engine::general_purpose::STANDARD_NO_PAD.decode_slice(hash.as_str(), &mut raw);
    i64::from_le_bytes(raw[..8].try_into().expect("8 bytes"))
}

fn insert_message(
    conn: &Connection,
    account: &AccountId,
    namespace: i16,
    hash: &MessageHash,
    timestamp: u64,
    expiry: u64,
    data: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO messages (hash, account, namespace, timestamp, expiry, data, hkey)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        hash.as_str(),
        &account.as_bytes()[..],
        namespace,
        timestamp,
        expiry,
        data,
        hash_key(hash)
    ])?;
    Ok(())
}

/// Deletes the account's oldest public-inbox messages (in the order they were stored) until
/// `bytes` are freed or the inbox is empty; returns the bytes freed and the messages deleted.
/// Each leaves a tombstone of this node's own (`evicted`), so that catch-up does not hand it
/// back, for as long as it would have lived; at most [`MAX_EVICTED_TOMBSTONES`] per account.
fn evict_inbox(
    conn: &Connection,
    account: &AccountId,
    bytes: u64,
    now: u64,
) -> rusqlite::Result<(u64, usize)> {
    let key = &account.as_bytes()[..];
    let victims: Vec<(i64, String, i16, u64, u64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, hash, namespace, expiry, length(data) FROM messages
             WHERE account = ?1 AND namespace % 10 = 0 ORDER BY id",
        )?;
        let mut rows = stmt.query([key])?;
        let (mut out, mut total) = (Vec::new(), 0u64);
        while total < bytes
            && let Some(row) = rows.next()?
        {
            let size: u64 = row.get(4)?;
            total += size;
            out.push((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, size));
        }
        out
    };
    let mut freed = 0;
    for (id, hash, namespace, expiry, size) in &victims {
        conn.prepare_cached("DELETE FROM messages WHERE id = ?1")?.execute([id])?;
        let until = (*expiry).max(now).saturating_add(24 * 3600 * 1000);
        conn.prepare_cached(
            "INSERT INTO tombstones (hash, account, namespace, until, evicted)
             VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (account, hash) DO NOTHING",
        )?
        .execute(params![hash, key, namespace, until])?;
        freed += size;
    }
    if !victims.is_empty() {
        conn.prepare_cached(
            "DELETE FROM tombstones WHERE account = ?1 AND evicted = 1 AND hash IN (
                 SELECT hash FROM tombstones WHERE account = ?1 AND evicted = 1
                 ORDER BY until DESC LIMIT -1 OFFSET ?2)",
        )?
        .execute(params![key, MAX_EVICTED_TOMBSTONES])?;
    }
    Ok((freed, victims.len()))
}

/// Most tombstones of evicted messages kept per account (the ones that would expire first
/// go first).
const MAX_EVICTED_TOMBSTONES: i64 = 10_000;

/// Records that `hash` was deleted, so stale copies elsewhere do not come back.
fn tombstone(
    conn: &Connection,
    hash: &str,
    account: &AccountId,
    namespace: i16,
    now: u64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO tombstones (hash, account, namespace, until) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account, hash) DO UPDATE SET until = max(until, excluded.until),
             evicted = 0",
    )?
    .execute(params![
        hash,
        &account.as_bytes()[..],
        namespace,
        now.saturating_add(TOMBSTONE_RETENTION_MS)
    ])?;
    Ok(())
}

/// Runs `f` inside a savepoint: its changes are kept if it succeeds and undone if it fails,
/// without disturbing the other jobs of the group.
fn in_savepoint<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> std::result::Result<R, StoreError>,
) -> std::result::Result<R, StoreError> {
    conn.execute_batch("SAVEPOINT job")?;
    let result = f(conn);
    let end = if result.is_ok() { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
    conn.execute_batch(end)?;
    result
}

fn writer_loop(conn: Connection, mut jobs: mpsc::Receiver<Msg>) {
    let mut closing = false;
    while !closing {
        let Some(Msg::Job(first)) = jobs.blocking_recv() else { break };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(Msg::Job(job)) => group.push(job),
                Ok(Msg::Close) => {
                    closing = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
            for job in group {
                // Cannot start a transaction: fail every job without running it.
                drop(job);
            }
            continue;
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(group.len());
        let mut aborted = false;
        for job in group {
            if aborted {
                // Not run: the transaction is gone, and running the job outside it would
                // commit it on its own while it is answered as failed.
                drop(job);
                continue;
            }
            replies.push(job(&conn));
            // A severe error (disk full, I/O) makes SQLite roll the whole transaction back.
            aborted = conn.is_autocommit();
        }
        let committed = !aborted && conn.execute_batch("COMMIT").is_ok();
        if !committed {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!("database commit failed; the group's writes were rolled back");
        }
        for reply in replies {
            reply(committed);
        }
    }
    // Closing, or every sender is gone: refuse what is still queued, checkpoint the WAL
    // into the database, close.
    jobs.close();
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    drop(conn);
}

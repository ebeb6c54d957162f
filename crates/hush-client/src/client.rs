//! [`Client`]: one open profile — its account, its database, its view of the network — and
//! the background tasks that keep it in touch (outbox, poller, expiry, registry refresh).
//!
//! Operations that change only local state (contacts, settings, reading a conversation) work
//! without a network; those that send queue their requests in the database first (the
//! outbox), so a message survives a crash or restart once the call returns, and the outbox
//! task delivers it when it can.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hush_proto::redact::Redacted;
use hush_proto::{AccountId, IdPrefix, Identity};
use serde::Serialize;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::db::{ContactChange, Db, Disappearing, Message, MessageStatus};
use crate::events::Event;
use crate::net::{Net, NetConfig};
use crate::profile::{Profile, ProfileName};
use crate::{Contact, Conversation, Error, Result, outbox, receive, send, sync};

/// How long a poll waits at a node for a new message (the node holds the request open).
/// Below the relay timeout of every hop (25 s on real nodes, 10 s on test networks).
pub const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(8);
/// How often the client asks for a newer registry.
const REGISTRY_REFRESH: Duration = Duration::from_secs(600);
/// Setting keys.
const READ_RECEIPTS: &str = "read_receipts";
const TYPING_INDICATORS: &str = "typing_indicators";
const SAVED_REGISTRY: &str = "registry";

/// What [`Client::open`] needs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The data directory (profiles live in `<data dir>/profiles/<name>`).
    pub data_dir: PathBuf,
    /// The profile.
    pub profile: ProfileName,
    /// The passphrase of a locked profile.
    pub passphrase: Option<Zeroizing<String>>,
    /// How to reach the network.
    pub net: NetConfig,
    /// How long each poll may wait at a node for new messages.
    pub poll_wait: Duration,
}

impl ClientConfig {
    /// A configuration with defaults: no passphrase, the system's choice of local address.
    pub fn new(data_dir: PathBuf, profile: ProfileName, network_file: PathBuf) -> Self {
        Self {
            data_dir,
            profile,
            passphrase: None,
            net: NetConfig { network_file, local_address: None },
            poll_wait: DEFAULT_POLL_WAIT,
        }
    }
}

/// Counters of what the client received and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Messages handled (new, from the swarm).
    pub received: u64,
    /// Copies of messages already handled.
    pub duplicates: u64,
    /// Config messages from our swarm handled (from other devices, or earlier pushes).
    pub configs: u64,
    /// Polls of our swarm that answered.
    pub polls: u64,
    /// Polls that failed (the poller tries again, on another member or path).
    pub poll_failures: u64,
    /// Why the last failed poll failed (cleared once a poll succeeds without trouble).
    pub last_poll_error: Option<String>,
    /// Requests that timed out at a swarm member although the path's guard answered: the
    /// member hung; the request moved to another member (the path was not blamed).
    pub member_timeouts: u64,
    /// The member of our swarm the poller holds its request at (Ed25519 key, hex).
    pub polled_member: Option<String>,
    /// How many nodes this client has connected to directly (guards, guard probes, seeds):
    /// the only nodes that can know its IP address.
    pub exposed_to: usize,
    /// The guards of the onion paths (Ed25519 keys, hex).
    pub guards: Vec<String>,
    /// When the last poll was answered (ms since the epoch, network time).
    pub last_poll_at: Option<u64>,
    /// Messages dropped, by reason (`undecryptable`, `blocked`, `invalid`, `expired`, …).
    pub dropped: BTreeMap<String, u64>,
}

/// How a [`Client::restore`] is going.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum RestoreProgress {
    /// Finding the network and building paths.
    Connecting,
    /// Fetching from the swarm.
    Fetching {
        /// Rounds of fetching so far.
        rounds: u32,
        /// Config messages handled.
        configs: u64,
        /// Messages handled.
        messages: u64,
    },
    /// Finished.
    Done(RestoreSummary),
}

/// What the account holds after a restore.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RestoreSummary {
    /// The display name (from the profile config).
    pub display_name: Option<String>,
    /// Contacts.
    pub contacts: usize,
    /// Conversations, message requests included.
    pub conversations: usize,
    /// Messages.
    pub messages: usize,
}

/// A hush client on one profile. Cheap to clone (all clones share the same state).
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

/// The shared state.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) identity: Identity,
    /// Our Account ID as text.
    pub(crate) me: String,
    display_name: Mutex<Option<String>>,
    profile: Profile,
    /// The key of our config messages (the account's Ed25519 seed).
    pub(crate) config_key: hush_sodium::Secret<32>,
    /// Held while a config message is built or merged (one change at a time).
    pub(crate) config_lock: Mutex<()>,
    pub(crate) db: Db,
    net_config: NetConfig,
    net: OnceLock<Net>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) outbox_wake: Notify,
    pub(crate) expiry_wake: Notify,
    /// The last `sent_at` used, so ours strictly increase.
    last_sent_at: AtomicU64,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) poll_wait: Duration,
    /// Messages this process announced (see `arrivals_task`), while that task runs.
    emitted: Mutex<std::collections::BTreeSet<i64>>,
    watching_arrivals: std::sync::atomic::AtomicBool,
}

impl Inner {
    /// The network, set up on first use (reads the network file and the saved registry).
    pub(crate) fn net(&self) -> Result<&Net> {
        if let Some(net) = self.net.get() {
            return Ok(net);
        }
        let net = Net::new(&self.net_config)?;
        if let Some(saved) = self.db.setting(SAVED_REGISTRY)?
            && let Ok(signed) = serde_json::from_str(&saved)
        {
            // A saved registry of another network, or an older one, is simply not adopted.
            let _ = net.offer_registry(signed);
        }
        let _ = self.net.set(net);
        self.net.get().ok_or(Error::Closed)
    }

    /// The display name we send with our messages.
    pub(crate) fn display_name(&self) -> Option<String> {
        self.display_name.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Changes the display name here and in the profile file (not synced: see
    /// [`Client::set_display_name`]).
    pub(crate) fn store_display_name(&self, name: Option<String>) -> Result<()> {
        self.profile.set_display_name(name.clone())?;
        *self.display_name.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = name;
        Ok(())
    }

    /// Network time (local time until a node has told us better), ms.
    pub(crate) fn now(&self) -> u64 {
        match self.net.get() {
            Some(net) => net.now(),
            None => crate::net::local_now(),
        }
    }

    /// A send time after every earlier one of this client.
    pub(crate) fn next_sent_at(&self) -> u64 {
        let now = self.now();
        let mut last = self.last_sent_at.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.last_sent_at.compare_exchange(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Event::Message { message } = &event
            && self.watching_arrivals.load(Ordering::Relaxed)
        {
            self.emitted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(message.id);
        }
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    pub(crate) fn count_drop(&self, reason: &str) {
        let mut stats = self.stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *stats.dropped.entry(reason.to_owned()).or_insert(0) += 1;
        tracing::debug!(reason, "dropped a received message");
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    pub(crate) fn setting_on(&self, key: &str) -> bool {
        self.db.setting(key).ok().flatten().is_some_and(|v| v == "true")
    }

    pub(crate) fn typing_enabled(&self) -> bool {
        self.setting_on(TYPING_INDICATORS)
    }

    pub(crate) fn read_receipts_enabled(&self) -> bool {
        self.setting_on(READ_RECEIPTS)
    }

    /// Saves the registry in use, so the next start needs no seed.
    pub(crate) fn save_registry(&self) {
        if let Some(signed) = self.net.get().and_then(Net::registry)
            && let Ok(text) = serde_json::to_string(&signed)
        {
            let _ = self.db.set_setting(SAVED_REGISTRY, &text);
        }
    }

    fn stopping(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// Parses and checks an Account ID we can message (a standard `05` account).
pub(crate) fn standard_account(id: &AccountId) -> Result<()> {
    if id.prefix() == IdPrefix::Standard {
        Ok(())
    } else {
        Err(Error::InvalidInput("only 05 Account IDs can be messaged".to_owned()))
    }
}

/// Failed attempts of a message's request after which [`Client::wait_sent`] stops waiting
/// (the network is down, or the recipient's swarm cannot be reached).
pub const WAIT_GIVES_UP_AFTER: u32 = 4;

/// How soon a retry must come for [`Client::deliver_pending`] to wait for it.
pub(crate) const SHORT_RETRY: Duration = Duration::from_secs(2);

/// How long a device that never polled may spend catching up before it sends anyway.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(10);

impl Client {
    /// Opens the profile's account and database. Nothing is sent or fetched until
    /// [`Client::start`] or an operation that needs the network.
    pub fn open(config: ClientConfig) -> Result<Self> {
        let profile = Profile::new(&config.data_dir, config.profile.clone());
        let account = profile.load(config.passphrase.as_deref().map(String::as_str))?;
        let db = Db::open(&profile.database_path(), &account.db_key)?;
        let (events, _) = broadcast::channel(1024);
        let (shutdown, _) = watch::channel(false);
        let me = account.identity.account_id().to_string();
        let inner = Inner {
            me,
            identity: account.identity,
            display_name: Mutex::new(account.display_name),
            profile,
            config_key: account.seed.ed25519_seed().clone(),
            config_lock: Mutex::new(()),
            db,
            net_config: config.net,
            net: OnceLock::new(),
            events,
            outbox_wake: Notify::new(),
            expiry_wake: Notify::new(),
            last_sent_at: AtomicU64::new(0),
            shutdown,
            tasks: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
            poll_wait: config.poll_wait,
            emitted: Mutex::default(),
            watching_arrivals: std::sync::atomic::AtomicBool::new(false),
        };
        let client = Self { inner: Arc::new(inner) };
        // Expired messages go even before the first network contact.
        client.expire_due()?;
        Ok(client)
    }

    /// This account's ID.
    pub fn account_id(&self) -> AccountId {
        *self.inner.identity.account_id()
    }

    /// The display name this account sends with its messages.
    pub fn display_name(&self) -> Option<String> {
        self.inner.display_name()
    }

    /// Changes the display name, on this device and (through config sync) on the others.
    pub fn set_display_name(&self, name: Option<&str>) -> Result<()> {
        let name = name.map(crate::profile::validate_display_name).transpose()?;
        self.inner.store_display_name(name)?;
        sync::changed(&self.inner, sync::USER_PROFILE)
    }

    /// The local database (read access for UIs).
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// What was received and dropped since the client opened.
    pub fn stats(&self) -> Stats {
        let mut stats =
            self.inner.stats.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        stats.member_timeouts = self.inner.net.get().map_or(0, Net::timeouts);
        stats.exposed_to = self.inner.net.get().map_or(0, |net| net.exposed_to().len());
        stats.guards = self.inner.net.get().map_or_else(Vec::new, |net| {
            net.guards().iter().map(|g| hex::encode(g.ed25519.as_bytes())).collect()
        });
        stats
    }

    /// Network time, ms since the epoch.
    pub fn now(&self) -> u64 {
        self.inner.now()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Makes sure the client has a registry and onion paths (probing guards). Fails with
    /// [`Error::NoNetwork`] when no node can be reached.
    pub async fn connect(&self) -> Result<()> {
        let net = self.inner.net()?;
        net.ensure_registry().await?;
        net.ensure_paths().await.map_err(|e| match e {
            Error::NoNetwork(why) => Error::NoNetwork(format!(
                "no node of network {:?} could be reached ({why})",
                net.network_name()
            )),
            other => other,
        })?;
        self.inner.save_registry();
        Ok(())
    }

    /// Starts the background tasks — outbox, poller, expiry, registry refresh — and then
    /// tries to reach the network (a registry, paths). The tasks run whether or not that
    /// works: offline, they keep trying (with backoff) and connect as soon as a node answers,
    /// while local state is served meanwhile. The result says whether the network was
    /// reached now ([`Error::NoNetwork`] when no node answered). A client that was shut down
    /// stays down (open a new one).
    pub async fn start(&self) -> Result<()> {
        if *self.inner.shutdown.borrow() {
            return Err(Error::Closed);
        }
        {
            let mut tasks =
                self.inner.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if tasks.is_empty() {
                tasks.push(tokio::spawn(outbox::run(self.inner.clone(), self.inner.stopping())));
                tasks.push(tokio::spawn(receive::run(self.inner.clone(), self.inner.stopping())));
                tasks.push(tokio::spawn(expiry_task(self.clone(), self.inner.stopping())));
                tasks.push(tokio::spawn(registry_task(self.inner.clone(), self.inner.stopping())));
                tasks.push(tokio::spawn(arrivals_task(self.inner.clone(), self.inner.stopping())));
            }
        }
        self.connect().await
    }

    /// Stops the background tasks (requests in flight are abandoned; queued ones stay queued).
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        let tasks: Vec<JoinHandle<()>> = std::mem::take(
            &mut *self.inner.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
    }

    // ----- sending -----

    /// Queues a text message to `to` (our own ID: Note to Self) and returns it with status
    /// `sending`. The outbox delivers it: [`Client::start`]ed clients do so in the
    /// background, others with [`Client::deliver_pending`].
    pub fn send_text(&self, to: &AccountId, body: &str) -> Result<Message> {
        send::send_text(&self.inner, to, body, None)
    }

    /// [`Client::send_text`] made idempotent by a caller-chosen `send_id` (1 to 128 bytes):
    /// a caller that cannot tell whether an earlier send went through (its daemon died before
    /// answering) sends again with the same ID and gets the message that send stored, as it
    /// stands now, instead of a second copy. The same ID with another recipient or text is
    /// refused ([`Error::InvalidInput`]); if that message was deleted since, the send is not
    /// repeated ([`Error::NotFound`]). IDs are remembered for 30 days.
    pub fn send_text_once(&self, to: &AccountId, body: &str, send_id: &str) -> Result<Message> {
        send::send_text(&self.inner, to, body, Some(send_id))
    }

    /// Delivers queued requests now (without background tasks) until the outbox is empty,
    /// `deadline` passes, or only requests that keep failing are left (their next try more
    /// than 2 s away: the background outbox or the next command takes them on).
    /// Returns how many requests are still queued.
    pub async fn deliver_pending(&self, deadline: Duration) -> Result<u64> {
        if self.inner.db.outbox_len()? == 0 {
            return Ok(0);
        }
        self.connect().await?;
        // Someone runs a command now: what was backing off is tried now too (in order).
        self.inner.db.outbox_retry_now()?;
        let work = async {
            self.catch_up_once().await;
            // Until nothing is left but retries that are backing off (a first failure, a
            // clock resync come soon and are waited for).
            outbox::run_until_idle(&self.inner, SHORT_RETRY).await
        };
        let _ = tokio::time::timeout(deadline, work).await;
        self.inner.save_registry();
        self.inner.db.outbox_len()
    }

    /// A device that never polled its swarm reads it once before pushing anything (which
    /// also pushes what its configs lack: see `sync::reconcile_once`) — best effort and
    /// bounded ([`CATCH_UP_LIMIT`]): sending does not wait on it. Started clients leave this
    /// to their poller.
    async fn catch_up_once(&self) {
        let started = self.inner.tasks.lock().is_ok_and(|t| !t.is_empty());
        if started || sync::reconciled(&self.inner) {
            return;
        }
        let poll = receive::poll_until_empty(&self.inner, || {});
        match tokio::time::timeout(CATCH_UP_LIMIT, poll).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "catching up with the swarm failed"),
            Err(_) => tracing::debug!("catching up with the swarm is taking long; sending"),
        }
    }

    /// Waits until message `id` is no longer `sending` (delivering the outbox meanwhile if no
    /// background task does), and returns it. Fails after `timeout`, and sooner when the
    /// network is down: when no node can be reached now, or once the message's request has
    /// failed [`WAIT_GIVES_UP_AFTER`] times (it stays queued and is delivered later).
    pub async fn wait_sent(&self, id: i64, timeout: Duration) -> Result<Message> {
        let mut events = self.subscribe();
        let started = self.inner.tasks.lock().is_ok_and(|t| !t.is_empty());
        // Paths and a registry first: no node answering is known at once, daemon or not.
        self.connect().await?;
        let wait = async {
            self.catch_up_once().await;
            loop {
                let message = self
                    .inner
                    .db
                    .message(id)?
                    .ok_or_else(|| Error::NotFound(format!("no message {id}")))?;
                if message.status != MessageStatus::Sending {
                    return Ok(message);
                }
                if let Some((attempts, why)) = self.inner.db.outbox_attempts(id)?
                    && attempts >= WAIT_GIVES_UP_AFTER
                {
                    return Err(Error::Network(format!(
                        "not stored after {attempts} attempts ({}); it stays queued",
                        why.unwrap_or_default()
                    )));
                }
                if started {
                    // Woken by the status change, or by the clock to look at the attempts.
                    let _ = tokio::time::timeout(Duration::from_secs(1), events.recv()).await;
                } else if outbox::run_until_idle(&self.inner, Duration::ZERO).await? == 0 {
                    let next = self.inner.db.next_due()?.unwrap_or(u64::MAX);
                    let pause = next.saturating_sub(self.now()).clamp(50, 1_000);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or_else(|_| {
            Err(Error::Network(format!("not stored within {} s", timeout.as_secs())))
        })
    }

    /// Tries a failed message again.
    pub fn retry(&self, id: i64) -> Result<()> {
        let message = self.message(id)?;
        if message.status != MessageStatus::Failed {
            return Err(Error::InvalidInput(format!("message {id} has not failed")));
        }
        if !self.inner.db.outbox_retry_failed(id, self.now())? {
            return Err(Error::NotFound(format!("message {id} has nothing left to retry")));
        }
        self.inner.emit(Event::Status {
            id,
            conversation: message.conversation,
            status: MessageStatus::Sending,
            error: None,
        });
        self.inner.outbox_wake.notify_one();
        Ok(())
    }

    /// Unsends one of our messages: asks the recipient (and our other devices) to delete it,
    /// deletes the copies we can delete (our sync copy), and deletes it here.
    pub fn unsend(&self, id: i64) -> Result<()> {
        send::unsend(&self.inner, &self.message(id)?)
    }

    /// Deletes a message here and its copy in our own swarm — a received message, or the
    /// sync copy of one we sent — so neither our other devices' next restore nor this one
    /// brings it back. The other side keeps theirs (to take back a message you sent, unsend
    /// it). A message still being sent is not sent.
    pub fn delete_message(&self, id: i64) -> Result<()> {
        let message = self.message(id)?;
        let own: Vec<String> = if !message.outgoing || message.conversation == self.inner.me {
            message.hash.iter().cloned().collect()
        } else {
            self.inner.db.sync_hash(id)?.into_iter().collect()
        };
        self.inner.db.outbox_cancel(id)?;
        send::delete_own(&self.inner, own)?;
        self.inner.db.delete_message(id)?;
        self.inner.emit(Event::Deleted {
            id,
            conversation: message.conversation,
            reason: "deleted",
        });
        Ok(())
    }

    /// Tells `to` we started or stopped typing (only when typing indicators are on).
    pub fn typing(&self, to: &AccountId, started: bool) -> Result<()> {
        if !self.inner.typing_enabled() {
            return Ok(());
        }
        send::typing(&self.inner, to, started)
    }

    /// A conversation's disappearing-messages setting.
    pub fn disappearing(&self, conversation: &AccountId) -> Result<Disappearing> {
        self.inner.db.disappearing(&conversation.to_string())
    }

    /// Sets a conversation's disappearing messages and tells the other side.
    pub fn set_disappearing(&self, conversation: &AccountId, setting: Disappearing) -> Result<()> {
        send::set_disappearing(&self.inner, conversation, setting)
    }

    // ----- reading -----

    /// Polls our swarm once (no waiting at the node) and handles what it finds; returns the
    /// new messages.
    pub async fn receive_now(&self) -> Result<Vec<Message>> {
        let mut events = self.subscribe();
        self.connect().await?;
        receive::poll_until_empty(&self.inner, || {}).await?;
        self.inner.save_registry();
        sync::bump_expiry_if_due(&self.inner)?;
        let mut out = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let Event::Message { message } = event {
                out.push(message);
            }
        }
        Ok(out)
    }

    /// Brings back what the swarm keeps of this account — on a device just restored from
    /// the recovery password, or to catch up: config messages first (display name,
    /// contacts, read positions, settings), then the last 14 days of messages. `progress`
    /// is called after each round of fetching.
    pub async fn restore(
        &self,
        mut progress: impl FnMut(&RestoreProgress),
    ) -> Result<RestoreSummary> {
        progress(&RestoreProgress::Connecting);
        self.connect().await?;
        let started = self.stats();
        let mut rounds = 0u32;
        receive::poll_until_empty(&self.inner, || {
            rounds += 1;
            let now = self.stats();
            progress(&RestoreProgress::Fetching {
                rounds,
                configs: now.configs - started.configs,
                messages: now.received - started.received,
            });
        })
        .await?;
        self.inner.save_registry();
        sync::bump_expiry_if_due(&self.inner)?;
        let conversations =
            self.inner.db.conversations(false)?.len() + self.inner.db.conversations(true)?.len();
        let summary = RestoreSummary {
            display_name: self.display_name(),
            contacts: self.inner.db.contacts()?.len(),
            conversations,
            messages: self.inner.db.message_count()?,
        };
        progress(&RestoreProgress::Done(summary.clone()));
        Ok(summary)
    }

    /// Conversations (message requests if `requests`), most recent first.
    pub fn conversations(&self, requests: bool) -> Result<Vec<Conversation>> {
        self.inner.db.conversations(requests)
    }

    /// The newest `limit` messages of a conversation, oldest first.
    pub fn messages(&self, conversation: &AccountId, limit: usize) -> Result<Vec<Message>> {
        self.inner.db.messages(&conversation.to_string(), limit)
    }

    /// Messages after local ID `after` that came from the network (received, or sent by
    /// another device of this account), oldest first.
    pub fn arrived_since(&self, after: i64, limit: usize) -> Result<Vec<Message>> {
        self.inner.db.arrived_since(after, limit)
    }

    /// One message.
    pub fn message(&self, id: i64) -> Result<Message> {
        self.inner.db.message(id)?.ok_or_else(|| Error::NotFound(format!("no message {id}")))
    }

    /// Marks a conversation read: sends read receipts (when on) and starts after-read
    /// timers. Returns how many messages were newly read.
    pub fn mark_read(&self, conversation: &AccountId) -> Result<usize> {
        send::mark_read(&self.inner, conversation)
    }

    // ----- contacts and requests -----

    /// Every contact.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        self.inner.db.contacts()
    }

    /// One contact.
    pub fn contact(&self, id: &AccountId) -> Result<Option<Contact>> {
        self.inner.db.contact(&id.to_string())
    }

    fn change_contact(&self, id: &AccountId, change: ContactChange<'_>) -> Result<Contact> {
        standard_account(id)?;
        let key = id.to_string();
        self.inner.db.update_contact(&key, change, self.now())?;
        sync::changed(&self.inner, sync::CONTACTS)?;
        let contact = self
            .inner
            .db
            .contact(&key)?
            .ok_or_else(|| Error::NotFound(format!("no contact {}", Redacted(id))))?;
        self.inner.emit(Event::Contact { contact: contact.clone() });
        Ok(contact)
    }

    /// Adds (approves) a contact: their messages are accepted, not requests.
    pub fn add_contact(&self, id: &AccountId) -> Result<Contact> {
        let contact = self.change_contact(id, ContactChange::Approved(true))?;
        self.inner.db.set_request(&id.to_string(), false)?;
        Ok(contact)
    }

    /// Adds (approves) many contacts at once — an import — with one config change for
    /// the other devices.
    pub fn add_contacts(&self, ids: &[AccountId]) -> Result<()> {
        for id in ids {
            standard_account(id)?;
        }
        let now = self.now();
        for id in ids {
            let key = id.to_string();
            self.inner.db.update_contact(&key, ContactChange::Approved(true), now)?;
            self.inner.db.set_request(&key, false)?;
        }
        sync::changed(&self.inner, sync::CONTACTS)
    }

    /// Forgets a contact: no longer approved, so the conversation (kept) is a message
    /// request again until accepted.
    pub fn remove_contact(&self, id: &AccountId) -> Result<()> {
        let key = id.to_string();
        if !self.inner.db.remove_contact(&key)? {
            return Err(Error::NotFound(format!("{} is not a contact", Redacted(id))));
        }
        self.inner.db.set_request(&key, true)?;
        sync::changed(&self.inner, sync::CONTACTS)
    }

    /// Pins a contact's conversation (shown first) or unpins it.
    pub fn set_pinned(&self, id: &AccountId, pinned: bool) -> Result<Contact> {
        self.change_contact(id, ContactChange::Priority(i64::from(pinned)))
    }

    /// Sets how a contact's messages notify: 0 default, 1 all, 2 none, 3 mentions only.
    pub fn set_notifications(&self, id: &AccountId, mode: i64) -> Result<Contact> {
        if !(0..=3).contains(&mode) {
            return Err(Error::InvalidInput("notifications are 0 to 3".to_owned()));
        }
        self.change_contact(id, ContactChange::Notifications(mode))
    }

    /// Mutes a contact until `until` (seconds since the epoch; 0 unmutes).
    pub fn set_muted_until(&self, id: &AccountId, until: i64) -> Result<Contact> {
        self.change_contact(id, ContactChange::MuteUntil(until.max(0)))
    }

    /// Marks a conversation unread (until it is read again), here and on our other devices.
    pub fn mark_unread(&self, conversation: &AccountId) -> Result<()> {
        if !self.inner.db.set_marked_unread(&conversation.to_string(), true)? {
            return Err(Error::NotFound(format!(
                "no conversation with {}",
                Redacted(conversation)
            )));
        }
        sync::changed(&self.inner, sync::CONVO_INFO)
    }

    /// Sets (or clears, with `None`) the nickname of a contact.
    pub fn set_nickname(&self, id: &AccountId, nickname: Option<&str>) -> Result<Contact> {
        let nickname = nickname.map(crate::profile::validate_display_name).transpose()?;
        self.change_contact(id, ContactChange::Nickname(nickname.as_deref()))
    }

    /// Accepts a message request: the sender becomes a contact and is told so
    /// (`MessageRequestResponse`).
    pub fn accept_request(&self, id: &AccountId) -> Result<()> {
        send::accept_request(&self.inner, id)
    }

    /// Declines a message request: the conversation is deleted; a later message is a new
    /// request.
    pub fn decline_request(&self, id: &AccountId) -> Result<()> {
        let key = id.to_string();
        match self.inner.db.conversation(&key)? {
            Some(c) if c.is_request => {
                self.inner.db.delete_conversation(&key)?;
                sync::changed(&self.inner, sync::CONVO_INFO)
            }
            _ => Err(Error::NotFound(format!("no message request from {}", Redacted(id)))),
        }
    }

    /// Blocks an account: its messages are dropped; a pending request from it is deleted.
    pub fn block(&self, id: &AccountId) -> Result<Contact> {
        let contact = self.change_contact(id, ContactChange::Blocked(true))?;
        let key = id.to_string();
        if self.inner.db.conversation(&key)?.is_some_and(|c| c.is_request) {
            self.inner.db.delete_conversation(&key)?;
            sync::changed(&self.inner, sync::CONVO_INFO)?;
        }
        Ok(contact)
    }

    /// Unblocks an account.
    pub fn unblock(&self, id: &AccountId) -> Result<Contact> {
        self.change_contact(id, ContactChange::Blocked(false))
    }

    // ----- settings -----

    /// Whether we send read receipts (and show the ones we get).
    pub fn read_receipts(&self) -> bool {
        self.inner.read_receipts_enabled()
    }

    /// Turns read receipts on or off.
    pub fn set_read_receipts(&self, on: bool) -> Result<()> {
        self.inner.db.set_setting(READ_RECEIPTS, if on { "true" } else { "false" })
    }

    /// Whether we send and show typing indicators.
    pub fn typing_indicators(&self) -> bool {
        self.inner.typing_enabled()
    }

    /// Turns typing indicators on or off.
    pub fn set_typing_indicators(&self, on: bool) -> Result<()> {
        self.inner.db.set_setting(TYPING_INDICATORS, if on { "true" } else { "false" })
    }

    // ----- maintenance -----

    /// Deletes the messages whose disappearing timer ran out; returns how many.
    pub fn expire_due(&self) -> Result<usize> {
        let gone = self.inner.db.take_expired(self.now())?;
        for m in &gone {
            self.inner.emit(Event::Deleted {
                id: m.id,
                conversation: m.conversation.clone(),
                reason: "expired",
            });
        }
        Ok(gone.len())
    }

    /// The version of the network registry the client uses (`None` before it has one).
    pub fn registry_seq(&self) -> Option<u64> {
        self.inner.net.get().and_then(Net::registry).map(|r| r.body.seq)
    }

    /// Every node address this client has connected to directly — guard probes, guards
    /// (current and replaced) and seeds: the only nodes that can know its IP address (for
    /// tests and diagnostics).
    pub fn exposed_to(&self) -> Vec<std::net::SocketAddr> {
        self.inner.net.get().map_or_else(Vec::new, Net::exposed_to)
    }

    /// The guards of the client's onion paths (for tests and diagnostics).
    pub fn guards(&self) -> Vec<std::net::SocketAddr> {
        self.inner.net.get().map_or_else(Vec::new, |net| {
            net.guards().iter().map(|n| std::net::SocketAddr::new(n.ip, n.https_port)).collect()
        })
    }
}

/// Deletes messages when their time is up.
async fn expiry_task(client: Client, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = client.expire_due() {
            tracing::warn!(error = %e, "deleting expired messages failed");
        }
        let next = client.inner.db.next_expiry().ok().flatten();
        let pause = next.map_or(60_000, |t| t.saturating_sub(client.now()).clamp(10, 60_000));
        tokio::select! {
            _ = stop.changed() => return,
            () = client.inner.expiry_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(pause)) => {}
        }
    }
}

/// How often the database is looked at for messages other processes stored.
const ARRIVALS_EVERY: Duration = Duration::from_secs(1);
/// How long a message nobody here announced waits before it is taken for another
/// process's (its own process announces it right after storing it).
const ARRIVALS_SETTLE: Duration = Duration::from_secs(2);

/// Announces messages that *other* processes on this profile stored (a daemon, the TUI,
/// `receive --follow` share it, and whichever polls first handles a message): without this,
/// a subscriber of one process never heard of what another received. Messages this process
/// announced itself are skipped; one stored in the last moment waits for the next look, so
/// that its own process has announced it first if it is going to.
async fn arrivals_task(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    inner.watching_arrivals.store(true, Ordering::Relaxed);
    let mut cursor = inner.db.newest_message_id().unwrap_or(0);
    // When this task first saw a message it had not announced (by the local clock, not the
    // other process's): it is announced once it has waited ARRIVALS_SETTLE.
    let mut first_seen: Option<(i64, tokio::time::Instant)> = None;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(ARRIVALS_EVERY) => {}
        }
        let Ok(batch) = inner.db.arrived_since(cursor, 500) else { continue };
        for message in batch {
            let ours = inner
                .emitted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&message.id);
            if !ours {
                let since = match first_seen {
                    Some((id, at)) if id == message.id => at,
                    _ => {
                        first_seen = Some((message.id, tokio::time::Instant::now()));
                        break;
                    }
                };
                if since.elapsed() < ARRIVALS_SETTLE {
                    break;
                }
            }
            cursor = message.id;
            if !ours {
                let _ = inner.events.send(Event::Message { message });
            }
        }
        inner
            .emitted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|id| *id > cursor);
    }
}

/// Asks for a newer registry now and then.
async fn registry_task(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(REGISTRY_REFRESH) => {}
        }
        if let Ok(net) = inner.net()
            && let Ok(true) = net.refresh_registry().await
        {
            inner.save_registry();
        }
    }
}

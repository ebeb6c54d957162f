//! Network I/O — the only module that talks to nodes.
//!
//! Every request to a node goes through an onion path (guard → relay → exit → destination,
//! [`paths`]): the guard sees the client's address but not the destination, the destination
//! sees the request but not the client. The only direct requests are guard probes (to the
//! guards themselves) and, when the client has no registry yet, fetching one from a seed.
//!
//! Requests to an account's swarm ([`Net::account_rpc`]) pick a member not on the path;
//! transport failures strike the path (three strikes: dropped with its guard and rebuilt)
//! or the destination (three strikes: left out until the next registry), and are retried on
//! another path and member with backoff and jitter. A 421 means the swarm moved: the registry
//! is refreshed and the request retried once. A 406/425 re-reads the network's clock and
//! retries once. Every request has a timeout.
//!
//! The client's clock follows the nodes': each answer's `t` sets the offset used for
//! timestamps and signatures ([`Net::now`]).

pub(crate) mod paths;
pub(crate) mod pool;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use hush_proto::AccountId;
use hush_proto::onion::{self, EncType, OnionNode};
use hush_proto::registry::{Node, SignedRegistry};
use hush_sodium::SystemRng;
use hush_sodium::ed25519::Ed25519PublicKey;
use serde_json::{Value, json};

pub(crate) use self::paths::random_index;
use self::paths::{OnionPath, PATH_COUNT, PATH_LENGTH, PATH_STRIKE_LIMIT, build_path, shuffled};
use self::pool::Pool;
use crate::{Error, Result};

/// Time limit of an ordinary request (a storage RPC through three hops takes well under a
/// second; a member that has not answered in 10 s is taken for hung).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Time limit of a direct guard probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Answers whose clock the client's follows (their median).
const CLOCK_SAMPLES: usize = 7;
/// Largest answer read from a node (a full retrieve is under 8 MB, plus onion encoding).
const MAX_ANSWER_BYTES: usize = 16 << 20;
/// Attempts of one account request over different paths and members.
const ATTEMPTS: u32 = 4;

/// How to reach the network.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The network file (`network.json`).
    pub network_file: std::path::PathBuf,
    /// The local address outgoing connections use (the system chooses when `None`).
    pub local_address: Option<IpAddr>,
}

/// Checks that `path` is a readable network file (its registry, if it has one, signed by
/// its key) without contacting anything.
pub fn check_network_file(path: &std::path::Path) -> Result<()> {
    Pool::from_file(path).map(|_| ())
}

/// The swarm members one account request gave up on before one answered, and why the last.
#[derive(Debug, Default)]
pub(crate) struct Moved {
    pub(crate) members: u64,
    pub(crate) why: Option<String>,
}

impl Moved {
    fn record(&mut self, why: &Error) {
        self.members += 1;
        self.why = Some(why.to_string());
    }
}

/// Why one onion request failed.
#[derive(Debug)]
enum Failure {
    /// The path (its guard, or a relay) failed.
    Path(String),
    /// A relay of the path named this hop as unreachable.
    Hop(Ed25519PublicKey, String),
    /// The destination could not be reached; `hung` when it did not answer in time (a hop
    /// said so, naming it).
    Destination { why: String, hung: bool },
    /// No answer in time: the guard, a relay or (most often) the destination hangs.
    TimedOut(String),
}

/// The client's view of the network and its paths.
#[derive(Debug)]
pub(crate) struct Net {
    http: reqwest::Client,
    pool: Mutex<Pool>,
    paths: Mutex<Vec<OnionPath>>,
    /// One path build at a time.
    building: tokio::sync::Mutex<()>,
    /// Network time minus local time, ms: the median of `offsets`.
    clock_offset: AtomicI64,
    /// The offsets the last answers showed.
    offsets: Mutex<std::collections::VecDeque<i64>>,
    /// Every node this client connected to directly (probes, guards, seeds): the nodes that
    /// may know its address.
    exposed_to: Mutex<HashSet<SocketAddr>>,
    /// Requests that timed out at their destination (see [`Net::timeouts`]).
    timeouts: std::sync::atomic::AtomicU64,
}

pub(crate) fn local_now() -> u64 {
    #[allow(
        clippy::disallowed_methods,
        reason = "the client's one wall clock, corrected by the network's"
    )]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn url(node: &Node) -> String {
    format!("https://{}", SocketAddr::new(node.ip, node.https_port))
}

fn onion_node(n: &Node) -> OnionNode {
    OnionNode { ed25519: n.ed25519, x25519: n.x25519 }
}

impl Net {
    /// Loads the network file; nothing is contacted yet.
    pub(crate) fn new(config: &NetConfig) -> Result<Self> {
        let pool = Pool::from_file(&config.network_file)?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            // Node certificates are self-signed: what authenticates the destination is the
            // onion layer only it can open.
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90));
        if let Some(ip) = config.local_address {
            builder = builder.local_address(ip);
        }
        let http = builder.build().map_err(|e| Error::Network(format!("HTTPS client: {e}")))?;
        Ok(Self {
            http,
            pool: Mutex::new(pool),
            paths: Mutex::new(Vec::new()),
            building: tokio::sync::Mutex::new(()),
            clock_offset: AtomicI64::new(0),
            offsets: Mutex::new(std::collections::VecDeque::with_capacity(CLOCK_SAMPLES)),
            exposed_to: Mutex::new(HashSet::new()),
            timeouts: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn paths(&self) -> std::sync::MutexGuard<'_, Vec<OnionPath>> {
        self.paths.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Network time, ms since the epoch.
    pub(crate) fn now(&self) -> u64 {
        local_now().saturating_add_signed(self.clock_offset.load(Ordering::Relaxed))
    }

    /// Takes the clock offset from a node's `t`: the median of the last few answers, so no
    /// single node can move our clock.
    fn learn_clock(&self, body: &Value) {
        let Some(t) = body.get("t").and_then(Value::as_u64).and_then(|t| i64::try_from(t).ok())
        else {
            return;
        };
        let offset = t.saturating_sub(i64::try_from(local_now()).unwrap_or(0));
        let mut seen = self.offsets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() == CLOCK_SAMPLES {
            seen.pop_front();
        }
        seen.push_back(offset);
        let mut sorted: Vec<i64> = seen.iter().copied().collect();
        sorted.sort_unstable();
        self.clock_offset.store(sorted[sorted.len() / 2], Ordering::Relaxed);
    }

    /// After a node refused our time: forgets the earlier samples (our clock, or the
    /// network's, jumped) and takes the time afresh from that node and two others, so the
    /// new offset is still a median no single node decides.
    async fn resync_clock(&self, refused_by: &Node) {
        self.offsets.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        let mut others: Vec<Node> =
            self.nodes().into_iter().filter(|n| n.ed25519 != refused_by.ed25519).collect();
        let mut asked = vec![refused_by.clone()];
        while asked.len() < 3 && !others.is_empty() {
            asked.push(others.swap_remove(random_index(others.len())));
        }
        for node in &asked {
            let _ = self.node_rpc(node, "info", json!({}), REQUEST_TIMEOUT).await;
        }
    }

    /// The registry in use, as published (for saving it).
    pub(crate) fn registry(&self) -> Option<SignedRegistry> {
        self.pool().registry().map(|r| r.signed().clone())
    }

    /// Adopts a registry (one saved earlier, say) if it is valid and newer.
    pub(crate) fn offer_registry(&self, signed: SignedRegistry) -> Result<bool> {
        self.pool().offer(signed)
    }

    /// The network's name.
    pub(crate) fn network_name(&self) -> String {
        self.pool().name().to_owned()
    }

    /// The usable nodes of the current registry.
    pub(crate) fn nodes(&self) -> Vec<Node> {
        self.pool().nodes()
    }

    fn exposed(&self, node: &Node) {
        self.exposed_to
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(SocketAddr::new(node.ip, node.https_port));
    }

    /// Every node address this client has connected to directly.
    pub(crate) fn exposed_to(&self) -> Vec<SocketAddr> {
        self.exposed_to
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .copied()
            .collect()
    }

    /// The guards of the current paths.
    pub(crate) fn guards(&self) -> Vec<Node> {
        self.paths().iter().map(|p| p.guard().clone()).collect()
    }

    /// Makes sure there is a registry: if neither the network file nor the database had one,
    /// fetch it from a seed (directly: the client has no path yet).
    pub(crate) async fn ensure_registry(&self) -> Result<()> {
        if self.pool().registry().is_some() {
            return Ok(());
        }
        let seeds = self.pool().seeds().to_vec();
        // What the seeds that answered got wrong, so that a registry that is not this
        // network's is reported as such rather than as unreachable seeds.
        let mut refused: Option<String> = None;
        for seed in shuffled(&seeds) {
            let resp = self
                .http
                .get(format!("{}/network/v1/registry", seed.trim_end_matches('/')))
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await;
            let Ok(resp) = resp else { continue };
            if resp.status() != 200 {
                let status = resp.status().as_u16();
                refused.get_or_insert_with(|| format!("a seed answered {status}"));
                continue;
            }
            let Some(bytes) = read_capped(resp).await else { continue };
            let Ok(signed) = serde_json::from_slice::<SignedRegistry>(&bytes) else {
                refused.get_or_insert_with(|| {
                    "a seed answered something that is not a registry".to_owned()
                });
                continue;
            };
            match self.pool().offer(signed) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    refused = Some(format!(
                        "a seed's registry was refused: {e} (is the network file's key this \
                         network's?)"
                    ));
                }
            }
        }
        Err(Error::NoNetwork(match refused {
            Some(why) => format!("no registry for network {:?}: {why}", self.network_name()),
            None => format!(
                "no registry for network {:?}: its seeds could not be reached",
                self.network_name()
            ),
        }))
    }

    /// Asks the network for a newer registry (through an onion path); returns whether one
    /// was adopted.
    pub(crate) async fn refresh_registry(&self) -> Result<bool> {
        let nodes = self.nodes();
        if nodes.is_empty() {
            return Err(Error::NoNetwork("the registry lists no usable node".to_owned()));
        }
        let guards = self.guards();
        let others: Vec<&Node> =
            nodes.iter().filter(|n| !guards.iter().any(|g| g.ed25519 == n.ed25519)).collect();
        let node = if others.is_empty() {
            nodes[random_index(nodes.len())].clone()
        } else {
            others[random_index(others.len())].clone()
        };
        let (status, body) =
            self.node_rpc(&node, "network_registry", json!({}), REQUEST_TIMEOUT).await?;
        if status != 200 {
            return Err(Error::Refused { status, reason: body.to_string() });
        }
        let signed: SignedRegistry = serde_json::from_value(body["registry"].clone())
            .map_err(|_| Error::Network("a node answered without a registry".to_owned()))?;
        self.pool().offer(signed)
    }

    /// Makes sure there are [`PATH_COUNT`] paths, probing new guards directly.
    pub(crate) async fn ensure_paths(&self) -> Result<()> {
        if self.paths().len() >= PATH_COUNT {
            return Ok(());
        }
        let _building = self.building.lock().await;
        let have = self.paths().len();
        if have >= PATH_COUNT {
            return Ok(());
        }
        let mut pool = self.nodes();
        if pool.len() < PATH_LENGTH {
            // Everyone struck out (a network that was down, or our own link): strikes are
            // old news by now; start over rather than stay stuck.
            self.pool().forgive_all();
            pool = self.nodes();
        }
        if pool.is_empty() {
            return Err(Error::NoNetwork("the registry lists no usable node".to_owned()));
        }
        let mut guards: Vec<Node> = self.guards();
        let candidates: Vec<Node> = shuffled(&pool)
            .into_iter()
            .filter(|c| !guards.iter().any(|g| g.ed25519 == c.ed25519))
            .collect();
        // As many probed at once as guards are missing: every node that answers becomes a
        // guard, so no node learns our address without carrying our traffic.
        let wanted = PATH_COUNT.min(pool.len());
        let mut next = candidates.into_iter();
        while guards.len() < wanted {
            let batch: Vec<Node> = next.by_ref().take(wanted - guards.len()).collect();
            if batch.is_empty() {
                break;
            }
            let mut probes = tokio::task::JoinSet::new();
            for candidate in batch {
                self.exposed(&candidate);
                let http = self.http.clone();
                probes.spawn(async move { (probe(&http, &candidate).await, candidate) });
            }
            while let Some(Ok((answered, candidate))) = probes.join_next().await {
                if !answered {
                    self.pool().strike(&candidate.ed25519);
                } else if guards.len() < PATH_COUNT.min(pool.len()) {
                    guards.push(candidate);
                }
            }
        }
        let exclude: HashSet<[u8; 32]> = guards.iter().map(|g| *g.ed25519.as_bytes()).collect();
        let mut paths = self.paths();
        for guard in &guards {
            if paths.iter().any(|p| p.guard().ed25519 == guard.ed25519) {
                continue;
            }
            paths.push(build_path(guard, &pool, &exclude));
            tracing::debug!(
                hops = paths.last().map_or(0, |p| p.nodes.len()),
                "built an onion path"
            );
        }
        if paths.is_empty() {
            return Err(Error::NoNetwork("no node answered a guard probe".to_owned()));
        }
        Ok(())
    }

    /// One request to `dest` through one path (or directly if the path would be empty).
    async fn send_once(
        &self,
        path: Option<&OnionPath>,
        dest: &Node,
        request: &[u8],
        timeout: Duration,
    ) -> std::result::Result<onion::FinalResponse, Failure> {
        // We only ever connect to a guard. The destination, should it be on the path, is
        // left out of the hops; if it is the guard itself (only when no other path or member
        // would do), the request goes to it with no hops — it sees our address anyway.
        let path = path.ok_or_else(|| Failure::Path("no onion path".to_owned()))?;
        let entry = path.guard();
        let hops: Vec<OnionNode> = if entry.ed25519 == dest.ed25519 {
            Vec::new()
        } else {
            path.nodes.iter().filter(|n| n.ed25519 != dest.ed25519).map(onion_node).collect()
        };
        let built = onion::build_request(
            &hops,
            &onion_node(dest),
            request,
            EncType::XChaCha20,
            &mut SystemRng,
        )
        .map_err(|e| Failure::Path(format!("building the request: {e}")))?;
        self.exposed(entry);
        let resp = self
            .http
            .post(format!("{}/onion_req/v2", url(entry)))
            .body(built.payload)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    Failure::TimedOut("no answer in time".to_owned())
                } else if entry.ed25519 == dest.ed25519 {
                    Failure::Destination { why: "unreachable".to_owned(), hung: false }
                } else {
                    Failure::Path("guard unreachable".to_owned())
                }
            })?;
        let status = resp.status().as_u16();
        let bytes = match read_answer(resp).await {
            Ok(bytes) => bytes,
            Err(ReadError::Broken) => {
                return Err(Failure::Path("answer cut off or too large".to_owned()));
            }
            Err(ReadError::TimedOut) => {
                return Err(Failure::TimedOut("the answer stalled".to_owned()));
            }
        };
        if status != 200 {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            // "Next node not found / not reachable: <key>" names the hop that failed.
            let dest_hex = hex::encode(dest.ed25519.as_bytes());
            let named_hop =
                hops.iter().map(|h| h.ed25519).find(|k| text.contains(&hex::encode(k.as_bytes())));
            return Err(if text.contains(&dest_hex) || (hops.is_empty() && status != 504) {
                Failure::Destination { why: format!("{status}: {text}"), hung: status == 504 }
            } else if let Some(hop) = named_hop {
                Failure::Hop(hop, format!("{status}: {text}"))
            } else {
                Failure::Path(format!("{status}: {text}"))
            });
        }
        onion::decode_final_response(&built.response_cipher, &bytes)
            .map_err(|e| Failure::Path(format!("unreadable answer: {e}")))
    }

    /// Chooses a path that does not end at `dest` where possible.
    fn pick_path(&self, dest: &Node, avoid: Option<&[u8; 32]>) -> Option<OnionPath> {
        let paths = self.paths();
        let healthy: Vec<&OnionPath> = paths
            .iter()
            .filter(|p| avoid.is_none_or(|a| p.guard().ed25519.as_bytes() != a))
            .collect();
        let pool = if healthy.is_empty() { paths.iter().collect() } else { healthy };
        // Best a path without the destination; then one where it is not the guard (the
        // request then enters at the guard and skips that hop); then any.
        let clean: Vec<&&OnionPath> = pool.iter().filter(|p| !p.contains(dest)).collect();
        let guard_free: Vec<&&OnionPath> =
            pool.iter().filter(|p| p.guard().ed25519 != dest.ed25519).collect();
        let choice = if !clean.is_empty() {
            clean
        } else if !guard_free.is_empty() {
            guard_free
        } else {
            pool.iter().collect()
        };
        choice.get(random_index(choice.len().max(1))).map(|p| (**p).clone())
    }

    fn strike_path(&self, guard: &[u8; 32]) {
        let mut paths = self.paths();
        if let Some(i) = paths.iter().position(|p| p.guard().ed25519.as_bytes() == guard) {
            paths[i].strikes += 1;
            if paths[i].strikes >= PATH_STRIKE_LIMIT {
                let dropped = paths.remove(i);
                tracing::debug!("dropped an onion path and its guard after repeated failures");
                drop(paths);
                let mut pool = self.pool();
                for _ in 0..pool::NODE_STRIKE_LIMIT {
                    pool.strike(&dropped.guard().ed25519);
                }
            }
        }
    }

    /// A relay of a path failed (a hop named it): it is struck out, and every path through
    /// it gets new relays behind its guard — keeping the guard means no new node learns our
    /// address. A path whose guard it is goes.
    fn drop_hop(&self, hop: &Ed25519PublicKey) {
        {
            let mut pool = self.pool();
            for _ in 0..pool::NODE_STRIKE_LIMIT {
                pool.strike(hop);
            }
        }
        let pool = self.nodes();
        let guards: HashSet<[u8; 32]> =
            self.guards().iter().map(|g| *g.ed25519.as_bytes()).collect();
        let mut paths = self.paths();
        paths.retain(|p| p.guard().ed25519 != *hop);
        for path in paths.iter_mut().filter(|p| p.nodes.iter().any(|n| n.ed25519 == *hop)) {
            let guard = path.guard().clone();
            *path = build_path(&guard, &pool, &guards);
        }
    }

    fn path_ok(&self, guard: &[u8; 32]) {
        if let Some(p) = self.paths().iter_mut().find(|p| p.guard().ed25519.as_bytes() == guard) {
            p.strikes = 0;
            p.timed_out_towards = None;
        }
    }

    /// A request through the path of `guard` (which answers) timed out towards `dest`. A
    /// second timeout towards another destination points at the relays: the path keeps its
    /// guard and gets new ones.
    fn path_timed_out(&self, guard: &[u8; 32], dest: &Ed25519PublicKey) {
        let pool = self.nodes();
        let guards: HashSet<[u8; 32]> =
            self.guards().iter().map(|g| *g.ed25519.as_bytes()).collect();
        let mut paths = self.paths();
        let Some(path) = paths.iter_mut().find(|p| p.guard().ed25519.as_bytes() == guard) else {
            return;
        };
        match path.timed_out_towards {
            Some(earlier) if earlier != *dest.as_bytes() => {
                let guard_node = path.guard().clone();
                let mut exclude = guards;
                exclude.extend(path.nodes[1..].iter().map(|n| *n.ed25519.as_bytes()));
                *path = build_path(&guard_node, &pool, &exclude);
                tracing::debug!("new relays behind a guard after timeouts towards two nodes");
            }
            _ => path.timed_out_towards = Some(*dest.as_bytes()),
        }
    }

    /// Requests that timed out at a destination whose path's guard still answered.
    pub(crate) fn timeouts(&self) -> u64 {
        self.timeouts.load(Ordering::Relaxed)
    }

    /// One request to `node` through a path: the storage RPC status and answer (JSON, or a
    /// JSON string for text answers).
    pub(crate) async fn node_rpc(
        &self,
        node: &Node,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<(u16, Value)> {
        self.ensure_paths().await?;
        let request = json!({ "method": method, "params": params }).to_string();
        let mut last = String::new();
        let mut avoid: Option<[u8; 32]> = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
                self.ensure_paths().await?;
            }
            let path = self.pick_path(node, avoid.as_ref());
            let guard = path.as_ref().map(|p| *p.guard().ed25519.as_bytes());
            match self.send_once(path.as_ref(), node, request.as_bytes(), timeout).await {
                Ok(resp) => {
                    if let Some(g) = &guard {
                        self.path_ok(g);
                    }
                    self.pool().clear_strikes(&node.ed25519);
                    let body = serde_json::from_str::<Value>(&resp.body)
                        .unwrap_or_else(|_| Value::String(resp.body.clone()));
                    self.learn_clock(&body);
                    return Ok((resp.status, body));
                }
                Err(Failure::Path(why)) => {
                    if let Some(g) = &guard {
                        self.strike_path(g);
                    }
                    avoid = guard;
                    last = why;
                }
                Err(Failure::Hop(hop, why)) => {
                    // A relay is down: that node is struck out and every path through it
                    // rebuilt; the guard, which answered, keeps its place.
                    self.drop_hop(&hop);
                    last = why;
                }
                Err(Failure::Destination { why, hung }) => {
                    let mut pool = self.pool();
                    // A destination that hangs (the exit's request to it timed out) is left
                    // out at once: each request that tries it costs a whole timeout.
                    let strikes = if hung { pool::NODE_STRIKE_LIMIT } else { 1 };
                    for _ in 0..strikes {
                        pool.strike(&node.ed25519);
                    }
                    drop(pool);
                    return Err(Error::Network(format!("node unreachable: {why}")));
                }
                Err(Failure::TimedOut(why)) => {
                    // Who hangs? The guard is asked directly (it knows our address anyway):
                    // if it answers, the path is not blamed — no guard is dropped, no new
                    // node learns our address — and the destination is: the request moves
                    // to another member at once. A path that times out again towards another
                    // destination gets new relays behind the same guard.
                    let guard_node = path.as_ref().map(|p| p.guard().clone());
                    let alive = match &guard_node {
                        Some(g) if g.ed25519 != node.ed25519 => probe(&self.http, g).await,
                        _ => false,
                    };
                    if alive {
                        if let Some(g) = &guard {
                            self.path_timed_out(g, &node.ed25519);
                        }
                        // Most likely the member hangs — but a relay that hangs looks the
                        // same from here (the hops' timeouts are longer than ours). So one
                        // strike, and the member is left out (for a while) when it times
                        // out again, through any path.
                        let mut pool = self.pool();
                        let again = pool.strikes(&node.ed25519) > 0;
                        let strikes = if again { pool::NODE_STRIKE_LIMIT } else { 1 };
                        for _ in 0..strikes {
                            pool.strike(&node.ed25519);
                        }
                        drop(pool);
                        self.timeouts.fetch_add(1, Ordering::Relaxed);
                        return Err(Error::Network(format!("node timed out: {why}")));
                    }
                    if let Some(g) = &guard {
                        self.strike_path(g);
                    }
                    avoid = guard;
                    last = format!("guard timed out: {why}");
                }
            }
        }
        Err(Error::Network(format!("no onion path worked: {last}")))
    }

    /// A request for `account`'s swarm: a member answers (through an onion path). Returns
    /// the member and its JSON answer (status 200), or the refusal. `prefer` asks a given
    /// member first (polling keeps its place per member).
    pub(crate) async fn account_rpc(
        &self,
        account: &AccountId,
        prefer: Option<&Node>,
        method: &str,
        params: impl Fn(u64, &Node) -> Value,
        timeout: Duration,
    ) -> Result<(Node, Value)> {
        let mut moved = Moved::default();
        self.account_rpc_moving(account, prefer, method, params, timeout, &mut moved).await
    }

    /// [`Net::account_rpc`], telling in `moved` which members it gave up on before one
    /// answered (a poll counts them as failures).
    pub(crate) async fn account_rpc_moving(
        &self,
        account: &AccountId,
        prefer: Option<&Node>,
        method: &str,
        params: impl Fn(u64, &Node) -> Value,
        timeout: Duration,
        moved: &mut Moved,
    ) -> Result<(Node, Value)> {
        let mut refreshed = false;
        let mut resynced = false;
        let mut tried: HashSet<[u8; 32]> = HashSet::new();
        let mut last = Error::NoNetwork("no swarm member could be reached".to_owned());
        for _ in 0..ATTEMPTS + 2 {
            let swarm = self.pool().swarm(account);
            if swarm.is_empty() {
                return Err(Error::NoNetwork("the registry lists no node".to_owned()));
            }
            let guards = self.guards();
            let is_guard = |n: &Node| guards.iter().any(|g| g.ed25519 == n.ed25519);
            let member = match prefer.filter(|p| !tried.contains(p.ed25519.as_bytes())) {
                Some(p) if swarm.iter().any(|n| n.ed25519 == p.ed25519) && !is_guard(p) => {
                    p.clone()
                }
                _ => {
                    // Untried members that are not our guards (a guard must not learn which
                    // mailbox we use), then untried ones, then any.
                    let untried: Vec<Node> = swarm
                        .iter()
                        .filter(|n| !tried.contains(n.ed25519.as_bytes()))
                        .cloned()
                        .collect();
                    let unguarded: Vec<Node> =
                        untried.iter().filter(|n| !is_guard(n)).cloned().collect();
                    let choice = if !unguarded.is_empty() {
                        unguarded
                    } else if !untried.is_empty() {
                        untried
                    } else {
                        swarm
                    };
                    choice[random_index(choice.len())].clone()
                }
            };
            let answer = self.node_rpc(&member, method, params(self.now(), &member), timeout).await;
            match answer.map(|(status, body)| first_failure(method, status, body)) {
                Ok((200, body)) => return Ok((member, body)),
                Ok((421, _)) if !refreshed => {
                    refreshed = true;
                    let _ = self.refresh_registry().await;
                }
                Ok((status @ (406 | 425), _)) if !resynced => {
                    resynced = true;
                    self.resync_clock(&member).await;
                    last = Error::Refused { status, reason: "clock out of sync".to_owned() };
                }
                Ok((status, body)) => {
                    let reason = match body {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    if status >= 500 || status == 421 {
                        tried.insert(*member.ed25519.as_bytes());
                        let e = Error::Refused { status, reason };
                        moved.record(&e);
                        last = e;
                        continue;
                    }
                    return Err(Error::Refused { status, reason });
                }
                Err(e @ Error::Network(_)) => {
                    tried.insert(*member.ed25519.as_bytes());
                    moved.record(&e);
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

/// A batch answers 200 with each subrequest's own status: the first that failed stands for
/// the whole (our batches are all-or-nothing reads), so it is retried like a single request.
fn first_failure(method: &str, status: u16, body: Value) -> (u16, Value) {
    if method != "batch" || status != 200 {
        return (status, body);
    }
    let failed = body["results"].as_array().and_then(|results| {
        results.iter().find_map(|r| {
            let code = r["code"].as_u64().and_then(|c| u16::try_from(c).ok()).unwrap_or(0);
            (code != 200).then(|| (code, r["body"].clone()))
        })
    });
    failed.unwrap_or((status, body))
}

/// Probes a guard candidate directly (the one kind of request that is not onion-routed
/// besides a first registry fetch: the guard sees our address anyway).
async fn probe(http: &reqwest::Client, node: &Node) -> bool {
    let body = json!({"method": "info", "params": {}}).to_string();
    let resp = http
        .post(format!("{}/storage_rpc/v1", url(node)))
        .body(body)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await;
    matches!(resp, Ok(r) if r.status() == 200)
}

/// Reads an answer of at most [`MAX_ANSWER_BYTES`].
/// Why an answer could not be read.
enum ReadError {
    /// Larger than [`MAX_ANSWER_BYTES`], or cut off.
    Broken,
    /// It stopped arriving (the request's time ran out).
    TimedOut,
}

/// Reads an answer of at most [`MAX_ANSWER_BYTES`].
async fn read_answer(mut resp: reqwest::Response) -> std::result::Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
        return Err(ReadError::Broken);
    }
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(ReadError::Broken);
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) if e.is_timeout() => return Err(ReadError::TimedOut),
            Err(_) => return Err(ReadError::Broken),
        }
    }
}

/// [`read_answer`], for callers that only care whether it worked.
async fn read_capped(resp: reqwest::Response) -> Option<Vec<u8>> {
    read_answer(resp).await.ok()
}

async fn backoff(attempt: u32) {
    let base = 100u64 << attempt.min(6);
    let jitter =
        u64::try_from(random_index(usize::try_from(base).unwrap_or(1).max(1))).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

//! Running a network: the network key, a node's registry entry, signing a registry into a
//! network file, and publishing it to the nodes. What `hush-node network …` and testnets use.
//!
//! An operator's round, with the files this module reads and writes:
//!
//! 1. `network.key` — the network key's hex seed (mode 0600), created once ([`create_key`]);
//!    only its holder can publish registries.
//! 2. One registry entry per node ([`node_entry`]): its keys (from its data dir), address, port
//!    and version.
//! 3. `network.json` — a [`NetworkFile`]: network name, public network key, seed URLs and the
//!    signed registry ([`sign_network_file`]). Nodes start with it (`--network`); clients
//!    bootstrap from it.
//! 4. Publishing ([`publish`]): the registry is offered (`POST /network/v1/registry`) to every
//!    node it lists; nodes that miss it fetch it from their seeds.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use hush_proto::registry::{NetworkFile, Registry, RegistryBody, RegistryNode, SignedRegistry};
use hush_sodium::ed25519::Ed25519KeyPair;

use crate::identity::NodeIdentity;
pub use crate::identity::{create_key, load_key, load_or_create_key};
use crate::{Error, Result};

/// The registry entry of the node whose data dir is `data_dir` (its key is created there if
/// the node never ran), reachable at `ip:port`.
pub fn node_entry(data_dir: &Path, ip: IpAddr, port: u16) -> Result<RegistryNode> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|source| Error::File { path: data_dir.to_owned(), source })?;
    let identity = NodeIdentity::load_or_create(data_dir)?;
    Ok(entry(&identity, ip, port))
}

/// The registry entry of a node with `identity` at `ip:port`.
fn entry(identity: &NodeIdentity, ip: IpAddr, port: u16) -> RegistryNode {
    RegistryNode {
        ed25519: hex::encode(identity.ed25519.public().as_bytes()),
        x25519: hex::encode(identity.x25519.public().as_bytes()),
        ip,
        https_port: port,
        version: crate::version(),
    }
}

/// Signs a registry of `nodes` (in this order, which decides the swarms) as version `seq` of
/// network `name`, and wraps it with the public key and `seeds` into a network file. The
/// result is verified like any registry a node receives, so a bad node list fails here.
pub fn sign_network_file(
    key: &Ed25519KeyPair,
    name: &str,
    seq: u64,
    nodes: Vec<RegistryNode>,
    seeds: Vec<String>,
) -> Result<NetworkFile> {
    let body = RegistryBody { network: name.to_owned(), seq, nodes };
    let signed = SignedRegistry::sign(body, key);
    Registry::verify(signed.clone(), key.public())
        .map_err(|e| Error::Config(format!("registry: {e}")))?;
    Ok(NetworkFile {
        network: name.to_owned(),
        network_key: hex::encode(key.public().as_bytes()),
        seeds,
        registry: Some(signed),
    })
}

/// Reads and checks a network file (its bundled registry, if any, must verify).
pub fn read_network_file(path: &Path) -> Result<NetworkFile> {
    let text =
        std::fs::read(path).map_err(|source| Error::File { path: path.to_owned(), source })?;
    let file: NetworkFile = serde_json::from_slice(&text)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    file.registry().map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    Ok(file)
}

/// Writes `file` to `path` atomically (a temporary file renamed over it), pretty-printed.
pub fn write_network_file(path: &Path, file: &NetworkFile) -> Result<()> {
    let err = |source| Error::File { path: path.to_owned(), source };
    let mut json =
        serde_json::to_vec_pretty(file).expect("invariant: a network file always serializes");
    json.push(b'\n');
    // A fresh temporary name beside it (never a file that is there already).
    let suffix: [u8; 6] = hush_sodium::Csprng::array(&mut hush_sodium::SystemRng);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("network.json");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", hex::encode(suffix)));
    let written = (|| {
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

/// What one node answered to a published registry.
#[derive(Debug)]
pub struct PublishOutcome {
    /// `https://ip:port` of the node.
    pub url: String,
    /// `Ok(true)` adopted, `Ok(false)` it already had this or a newer one, `Err` why not.
    pub result: std::result::Result<bool, String>,
}

/// Offers the file's registry to every node it lists, at once; returns each node's answer.
pub async fn publish(file: &NetworkFile, timeout: Duration) -> Result<Vec<PublishOutcome>> {
    let Some(signed) = &file.registry else {
        return Err(Error::Config("the network file has no registry to publish".to_owned()));
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| Error::Tls(format!("client: {e}")))?;
    let body = serde_json::to_vec(signed).expect("invariant: a registry always serializes");
    let mut tasks = tokio::task::JoinSet::new();
    for node in &signed.body.nodes {
        let url = format!("https://{}", SocketAddr::new(node.ip, node.https_port));
        let (http, body) = (http.clone(), body.clone());
        tasks.spawn(async move {
            let result = offer(&http, &url, body).await;
            PublishOutcome { url, result }
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(outcome) = done {
            outcomes.push(outcome);
        }
    }
    outcomes.sort_by(|a, b| a.url.cmp(&b.url));
    Ok(outcomes)
}

async fn offer(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> std::result::Result<bool, String> {
    let resp =
        http.post(format!("{url}/network/v1/registry")).body(body).send().await.map_err(|e| {
            if e.is_timeout() { "timed out".to_owned() } else { "unreachable".to_owned() }
        })?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if status != 200 {
        return Err(format!("{status}: {}", text.chars().take(200).collect::<String>()));
    }
    let answer: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| "not a JSON answer".to_owned())?;
    Ok(answer.get("adopted").and_then(serde_json::Value::as_bool).unwrap_or(false))
}

//! `hush daemon`: the client running in the background, serving JSON-RPC 2.0 — one JSON
//! object per line — on a Unix socket (mode 0600, any number of connections) or on
//! stdin/stdout. `subscribe` streams events as `event` notifications. The methods and
//! examples are in docs/json-rpc.md.
//!
//! Requests are bounded (one line of at most 1 MiB); a malformed one gets a JSON-RPC error
//! and the connection stays open. Every method runs on the one shared [`Client`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use hush_client::{AccountId, Client, Disappearing, ErrorKind};
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::{Mutex, broadcast, mpsc};

use crate::Failure;
use crate::args::{DaemonArgs, Settings};
use crate::commands::session::{offline_or_fail, open_client, runtime};
use crate::output;

/// Longest request line.
const MAX_LINE: usize = 1 << 20;
/// Responses and notifications waiting for a slow reader (beyond that, the connection's
/// requests and events wait for it).
const OUTGOING_QUEUE: usize = 1024;

/// The event subscriptions of one connection: ID and forwarding task.
type Subscriptions = Arc<Mutex<Vec<(u64, tokio::task::JoinHandle<()>)>>>;

/// A JSON-RPC error.
struct RpcError {
    code: i64,
    message: String,
    kind: Option<&'static str>,
}

impl RpcError {
    fn invalid_params(message: impl Into<String>) -> Self {
        Self { code: -32602, message: message.into(), kind: Some("invalid_input") }
    }
}

impl From<hush_client::Error> for RpcError {
    fn from(e: hush_client::Error) -> Self {
        let code = if e.kind() == ErrorKind::InvalidInput { -32602 } else { -32000 };
        Self { code, message: e.to_string(), kind: Some(e.kind().as_str()) }
    }
}

pub fn run(settings: &Settings, args: &DaemonArgs) -> Result<(), Failure> {
    // One daemon per profile: a second one would poll, send and write alongside the first.
    let profile = hush_client::Profile::new(&settings.data_dir, settings.profile.clone());
    if !profile.has_account() {
        return Err(hush_client::Error::NoAccount(profile.name().to_owned()).into());
    }
    let _daemon_lock = profile.lock_daemon()?;
    let client = open_client(settings)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("installing a SIGINT handler")?;
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("installing a SIGTERM handler")?;
        // The socket first: a path that cannot be used is refused before anything starts.
        let socket = match &args.socket {
            _ if args.stdio => None,
            Some(path) => Some((path.clone(), bind(path)?)),
            None => {
                let path = default_socket(settings);
                let bound = bind(&path)?;
                Some((path, bound))
            }
        };
        // Offline is no reason to stop: local state is served and the client connects in
        // the background.
        if let Err(e) = client.start().await {
            offline_or_fail(e)?;
        }
        match socket {
            None => {
                tokio::select! {
                    () = serve(client.clone(), tokio::io::stdin(), tokio::io::stdout()) => {}
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            Some((path, (listener, _socket_file))) => {
                if settings.json {
                    output::json(&json!({"event": "listening", "socket": path, "account_id": client.account_id().to_string()}));
                } else {
                    output::note(&format!("hush daemon: JSON-RPC on {}", path.display()));
                }
                loop {
                    tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((stream, _)) => {
                                let (read, write) = stream.into_split();
                                tokio::spawn(serve(client.clone(), read, write));
                            }
                            // Out of file descriptors, say: pause instead of spinning.
                            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                        },
                        _ = interrupt.recv() => break,
                        _ = terminate.recv() => break,
                    }
                }
            }
        }
        client.shutdown().await;
        Ok(())
    })
}

fn default_socket(settings: &Settings) -> PathBuf {
    settings.data_dir.join("profiles").join(settings.profile.as_str()).join("daemon.sock")
}

/// The daemon's socket file, removed when the daemon stops — only if it is still the socket
/// this daemon made (the same inode), never whatever else was put at its path meanwhile.
struct SocketFile {
    path: PathBuf,
    identity: (u64, u64),
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.identity
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds the socket at `path`, readable by the owner only from the first moment.
///
/// What is at `path` already is replaced only if it is a socket nobody answers on (a daemon
/// that crashed); anything else — a file, a folder, a link, a live socket — is refused. The
/// socket is bound in a fresh 0700 folder beside `path`, made 0600 there, and then linked to
/// `path` (which fails rather than replace anything that appeared meanwhile): there is no
/// moment at which it exists at `path` with a wider mode.
fn bind(path: &Path) -> Result<(tokio::net::UnixListener, SocketFile), Failure> {
    use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            match std::os::unix::net::UnixStream::connect(path) {
                Ok(_) => {
                    return Err(
                        anyhow::anyhow!("a daemon already listens on {}", path.display()).into()
                    );
                }
                // Nobody listens: a stale socket of a daemon that did not stop cleanly.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    std::fs::remove_file(path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
                // Busy, or not ours to use: whoever listens there may be alive.
                Err(e) => {
                    return Err(anyhow::anyhow!(e)
                        .context(format!(
                            "{} is a socket that may be in use; it is left alone",
                            path.display()
                        ))
                        .into());
                }
            }
        }
        Ok(_) => {
            return Err(Failure::invalid_input(anyhow::anyhow!(
                "{} exists and is not a socket; it is left alone (choose another --socket path)",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(anyhow::anyhow!(e).context(format!("checking {}", path.display())).into());
        }
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // Named no longer than `daemon.sock`: a socket path has at most 107 bytes.
    let suffix: [u8; 3] = hush_sodium::Csprng::array(&mut hush_sodium::SystemRng);
    let staging = parent.join(format!(".h{}", hex::encode(suffix)));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staging)
        .with_context(|| format!("creating {}", staging.display()))?;
    let staged = staging.join("s");
    let bound = (|| -> anyhow::Result<std::os::unix::net::UnixListener> {
        let listener = std::os::unix::net::UnixListener::bind(&staged)
            .with_context(|| format!("listening on {}", staged.display()))?;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", staged.display()))?;
        std::fs::hard_link(&staged, path)
            .with_context(|| format!("creating {}", path.display()))?;
        Ok(listener)
    })();
    let _ = std::fs::remove_file(&staged);
    let _ = std::fs::remove_dir(&staging);
    let listener = bound?;
    let meta =
        std::fs::symlink_metadata(path).with_context(|| format!("checking {}", path.display()))?;
    let file = SocketFile { path: path.to_owned(), identity: (meta.dev(), meta.ino()) };
    listener.set_nonblocking(true).context("configuring the socket")?;
    let listener =
        tokio::net::UnixListener::from_std(listener).context("configuring the socket")?;
    Ok((listener, file))
}

/// Serves one connection until it closes.
async fn serve(
    client: Client,
    read: impl AsyncRead + Unpin,
    mut write: impl AsyncWrite + Unpin + Send + 'static,
) {
    let (out, mut queue) = mpsc::channel::<String>(OUTGOING_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(line) = queue.recv().await {
            if write.write_all(line.as_bytes()).await.is_err()
                || write.write_all(b"\n").await.is_err()
            {
                break;
            }
            let _ = write.flush().await;
        }
    });
    let subscriptions: Subscriptions = Arc::default();
    let next_id = Arc::new(AtomicU64::new(1));
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut reader).take(u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1);
        match limited.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() > MAX_LINE {
            let _ = out.try_send(error_response(
                &Value::Null,
                -32600,
                "request longer than 1 MiB",
                None,
            ));
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let response = handle_line(&client, &line, &out, &subscriptions, &next_id).await;
        if let Some(r) = response
            && out.send(r).await.is_err()
        {
            break;
        }
    }
    for (_, task) in subscriptions.lock().await.drain(..) {
        task.abort();
    }
    drop(out);
    let _ = writer.await;
}

fn error_response(id: &Value, code: i64, message: &str, kind: Option<&str>) -> String {
    let mut error = json!({"code": code, "message": message});
    if let Some(kind) = kind {
        error["data"] = json!({"kind": kind});
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string()
}

async fn handle_line(
    client: &Client,
    line: &[u8],
    out: &mpsc::Sender<String>,
    subscriptions: &Subscriptions,
    next_id: &AtomicU64,
) -> Option<String> {
    let Ok(request) = serde_json::from_slice::<Value>(line) else {
        return Some(error_response(&Value::Null, -32700, "parse error", None));
    };
    let id = request.get("id").cloned();
    let reply_id = id.clone().unwrap_or(Value::Null);
    let (Some("2.0"), Some(method)) = (request["jsonrpc"].as_str(), request["method"].as_str())
    else {
        return Some(error_response(
            &reply_id,
            -32600,
            "invalid request: jsonrpc 2.0 with a method expected",
            None,
        ));
    };
    let empty = serde_json::Map::new();
    let params = match request.get("params") {
        None | Some(Value::Null) => Params(&empty),
        Some(Value::Object(map)) => Params(map),
        Some(_) => {
            return Some(error_response(
                &reply_id,
                -32602,
                "params must be an object",
                Some("invalid_input"),
            ));
        }
    };
    let result = match method {
        "subscribe" => match params.only(&[]) {
            Ok(()) => {
                let sub = next_id.fetch_add(1, Ordering::Relaxed);
                let events = client.subscribe();
                let task = tokio::spawn(forward_events(sub, events, out.clone()));
                subscriptions.lock().await.push((sub, task));
                Ok(json!({"subscription": sub}))
            }
            Err(e) => Err(e),
        },
        "unsubscribe" => {
            match params.only(&["subscription"]).and_then(|()| params.u64("subscription")) {
                Ok(sub) => {
                    let mut subs = subscriptions.lock().await;
                    let before = subs.len();
                    subs.retain(|(s, task)| {
                        if *s == sub {
                            task.abort();
                        }
                        *s != sub
                    });
                    Ok(json!({"unsubscribed": subs.len() < before}))
                }
                Err(e) => Err(e),
            }
        }
        _ => dispatch(client, method, &params).await,
    };
    // Notifications (no id) get no answer.
    id.as_ref()?;
    Some(match result {
        Ok(value) => json!({"jsonrpc": "2.0", "id": reply_id, "result": value}).to_string(),
        Err(e) => error_response(&reply_id, e.code, &e.message, e.kind),
    })
}

/// Streams events to one subscriber.
async fn forward_events(
    sub: u64,
    mut events: broadcast::Receiver<hush_client::Event>,
    out: mpsc::Sender<String>,
) {
    loop {
        let params = match events.recv().await {
            Ok(event) => json!({"subscription": sub, "event": event}),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                json!({"subscription": sub, "event": {"type": "lagged", "missed": n}})
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let line = json!({"jsonrpc": "2.0", "method": "event", "params": params}).to_string();
        if out.send(line).await.is_err() {
            return;
        }
    }
}

/// A request's parameters, read strictly: an unknown key (a misspelt `wiat`) or a value of
/// the wrong type is an error (-32602), never silently ignored. `null` counts as absent.
struct Params<'a>(&'a serde_json::Map<String, Value>);

impl Params<'_> {
    /// Refuses keys other than `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), RpcError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) if allowed.is_empty() => Err(RpcError::invalid_params(format!(
                "unknown parameter {k:?}: this method takes none"
            ))),
            Some(k) => Err(RpcError::invalid_params(format!(
                "unknown parameter {k:?} (this method takes {})",
                allowed.join(", ")
            ))),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn wrong(key: &str, what: &str) -> RpcError {
        RpcError::invalid_params(format!("'{key}' must be {what}"))
    }

    fn opt_str(&self, key: &str) -> Result<Option<&str>, RpcError> {
        self.get(key).map(|v| v.as_str().ok_or_else(|| Self::wrong(key, "a string"))).transpose()
    }

    fn str(&self, key: &str) -> Result<&str, RpcError> {
        self.opt_str(key)?
            .ok_or_else(|| RpcError::invalid_params(format!("'{key}' (a string) is required")))
    }

    fn opt_bool(&self, key: &str) -> Result<Option<bool>, RpcError> {
        self.get(key)
            .map(|v| v.as_bool().ok_or_else(|| Self::wrong(key, "true or false")))
            .transpose()
    }

    fn opt_u64(&self, key: &str) -> Result<Option<u64>, RpcError> {
        self.get(key)
            .map(|v| v.as_u64().ok_or_else(|| Self::wrong(key, "a non-negative integer")))
            .transpose()
    }

    fn u64(&self, key: &str) -> Result<u64, RpcError> {
        self.opt_u64(key)?.ok_or_else(|| {
            RpcError::invalid_params(format!("'{key}' (a non-negative integer) is required"))
        })
    }

    /// A local message ID.
    fn id(&self, key: &str) -> Result<i64, RpcError> {
        i64::try_from(self.u64(key)?).map_err(|_| Self::wrong(key, "a message ID"))
    }

    /// An Account ID (surrounding whitespace, as pasted, is ignored).
    fn account(&self, key: &str) -> Result<AccountId, RpcError> {
        self.opt_str(key)?
            .ok_or_else(|| {
                RpcError::invalid_params(format!("'{key}' (an Account ID) is required"))
            })?
            .trim()
            .parse()
            .map_err(|_| RpcError::invalid_params(format!("'{key}' is not a valid Account ID")))
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError {
        code: -32603,
        message: e.to_string(),
        kind: None,
    })
}

fn contact_json(c: &hush_client::Contact) -> Value {
    json!({
        "account_id": c.account_id,
        "display_name": c.display_name,
        "nickname": c.nickname,
        "approved": c.approved,
        "blocked": c.blocked,
    })
}

/// Longest a `send` with `wait` waits for the swarm.
const SEND_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The methods that act on the client. Each first refuses parameters it does not take.
async fn dispatch(client: &Client, method: &str, p: &Params<'_>) -> Result<Value, RpcError> {
    Ok(match method {
        "account" => {
            p.only(&[])?;
            json!({
                "account_id": client.account_id().to_string(),
                "display_name": client.display_name(),
            })
        }
        "send" => {
            p.only(&["to", "text", "wait", "send_id"])?;
            let to = p.account("to")?;
            let text = p.str("text")?;
            let wait = p.opt_bool("wait")?.unwrap_or(false);
            let message = match p.opt_str("send_id")? {
                Some(id) => client.send_text_once(&to, text, id)?,
                None => client.send_text(&to, text)?,
            };
            if wait {
                to_json(&client.wait_sent(message.id, SEND_WAIT).await?)?
            } else {
                to_json(&message)?
            }
        }
        "conversations" => {
            p.only(&["requests"])?;
            to_json(&client.conversations(p.opt_bool("requests")?.unwrap_or(false))?)?
        }
        "messages" => {
            p.only(&["conversation", "limit"])?;
            let limit =
                p.opt_u64("limit")?.map_or(50, |l| usize::try_from(l).unwrap_or(usize::MAX));
            to_json(&client.messages(&p.account("conversation")?, limit)?)?
        }
        "message" => {
            p.only(&["id"])?;
            to_json(&client.message(p.id("id")?)?)?
        }
        "mark_read" => {
            p.only(&["conversation"])?;
            json!({"read": client.mark_read(&p.account("conversation")?)?})
        }
        "unsend" => {
            p.only(&["id"])?;
            client.unsend(p.id("id")?)?;
            json!({})
        }
        "delete" => {
            p.only(&["id"])?;
            client.delete_message(p.id("id")?)?;
            json!({})
        }
        "retry" => {
            p.only(&["id"])?;
            client.retry(p.id("id")?)?;
            json!({})
        }
        "typing" => {
            p.only(&["to", "started"])?;
            client.typing(&p.account("to")?, p.opt_bool("started")?.unwrap_or(true))?;
            json!({})
        }
        "contacts" => {
            p.only(&[])?;
            Value::Array(client.contacts()?.iter().map(contact_json).collect())
        }
        "contact_add" => {
            p.only(&["account_id"])?;
            contact_json(&client.add_contact(&p.account("account_id")?)?)
        }
        "contact_remove" => {
            p.only(&["account_id"])?;
            client.remove_contact(&p.account("account_id")?)?;
            json!({})
        }
        "contact_nickname" => {
            p.only(&["account_id", "nickname"])?;
            let nickname = p.opt_str("nickname")?;
            contact_json(&client.set_nickname(&p.account("account_id")?, nickname)?)
        }
        "requests" => {
            p.only(&[])?;
            to_json(&client.conversations(true)?)?
        }
        "request_accept" => {
            p.only(&["account_id"])?;
            client.accept_request(&p.account("account_id")?)?;
            json!({})
        }
        "request_decline" => {
            p.only(&["account_id"])?;
            client.decline_request(&p.account("account_id")?)?;
            json!({})
        }
        "block" => {
            p.only(&["account_id"])?;
            contact_json(&client.block(&p.account("account_id")?)?)
        }
        "contact_pin" => {
            p.only(&["account_id", "pinned"])?;
            let pinned = p.opt_bool("pinned")?.unwrap_or(true);
            contact_json(&client.set_pinned(&p.account("account_id")?, pinned)?)
        }
        "contact_notifications" => {
            p.only(&["account_id", "mode"])?;
            let mode = p
                .opt_u64("mode")?
                .filter(|m| *m <= 3)
                .ok_or_else(|| RpcError::invalid_params("'mode' is 0 to 3"))?;
            contact_json(&client.set_notifications(&p.account("account_id")?, mode as i64)?)
        }
        "mark_unread" => {
            p.only(&["conversation"])?;
            client.mark_unread(&p.account("conversation")?)?;
            json!({})
        }
        "unblock" => {
            p.only(&["account_id"])?;
            contact_json(&client.unblock(&p.account("account_id")?)?)
        }
        "settings" => {
            p.only(&["read_receipts", "typing_indicators", "display_name"])?;
            let (receipts, typing) =
                (p.opt_bool("read_receipts")?, p.opt_bool("typing_indicators")?);
            let name = p.opt_str("display_name")?;
            if let Some(on) = receipts {
                client.set_read_receipts(on)?;
            }
            if let Some(on) = typing {
                client.set_typing_indicators(on)?;
            }
            if let Some(name) = name {
                client.set_display_name(Some(name))?;
            }
            json!({"read_receipts": client.read_receipts(), "typing_indicators": client.typing_indicators(),
                   "display_name": client.display_name()})
        }
        "disappearing" => {
            p.only(&["conversation", "mode", "seconds"])?;
            let conversation = p.account("conversation")?;
            let seconds = p.opt_u64("seconds")?;
            let setting = match (p.str("mode")?, seconds) {
                ("off", _) => Disappearing::Off,
                (mode @ ("after-send" | "after-read"), Some(s)) => {
                    let s =
                        crate::args::disappearing_seconds(s).map_err(RpcError::invalid_params)?;
                    if mode == "after-send" {
                        Disappearing::AfterSend(s)
                    } else {
                        Disappearing::AfterRead(s)
                    }
                }
                _ => {
                    return Err(RpcError::invalid_params(
                        "mode is off, or after-send / after-read with seconds",
                    ));
                }
            };
            client.set_disappearing(&conversation, setting)?;
            json!({"conversation": conversation.to_string(), "disappearing": setting})
        }
        "stats" => {
            p.only(&[])?;
            to_json(&client.stats())?
        }
        _ => {
            return Err(RpcError {
                code: -32601,
                message: format!("no method {method:?}"),
                kind: None,
            });
        }
    })
}

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
use crate::commands::session::{open_client, runtime};
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
        let kind = match e.kind() {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Locked => "locked",
            ErrorKind::Network => "network",
            ErrorKind::Storage => "storage",
            ErrorKind::Protocol => "protocol",
            _ => "closed",
        };
        let code = if e.kind() == ErrorKind::InvalidInput { -32602 } else { -32000 };
        Self { code, message: e.to_string(), kind: Some(kind) }
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
            crate::commands::messaging::offline_or_fail(e)?;
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
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(
                    anyhow::anyhow!("a daemon already listens on {}", path.display()).into()
                );
            }
            // A stale socket of a daemon that did not stop cleanly.
            std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
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
    let suffix: [u8; 4] = hush_sodium::Csprng::array(&mut hush_sodium::SystemRng);
    let staging = parent.join(format!(".hush-{}", hex::encode(suffix)));
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
    let params = request.get("params").cloned().unwrap_or_else(|| json!({}));
    if !params.is_object() {
        return Some(error_response(
            &reply_id,
            -32602,
            "params must be an object",
            Some("invalid_input"),
        ));
    }
    let result = match method {
        "subscribe" => {
            let sub = next_id.fetch_add(1, Ordering::Relaxed);
            let events = client.subscribe();
            let task = tokio::spawn(forward_events(sub, events, out.clone()));
            subscriptions.lock().await.push((sub, task));
            Ok(json!({"subscription": sub}))
        }
        "unsubscribe" => {
            let sub = params["subscription"].as_u64().unwrap_or(0);
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

fn account(params: &Value, key: &str) -> Result<AccountId, RpcError> {
    params[key]
        .as_str()
        .ok_or_else(|| RpcError::invalid_params(format!("'{key}' (an Account ID) is required")))?
        .parse()
        .map_err(|_| RpcError::invalid_params(format!("'{key}' is not a valid Account ID")))
}

fn string<'a>(params: &'a Value, key: &str) -> Result<&'a str, RpcError> {
    params[key]
        .as_str()
        .ok_or_else(|| RpcError::invalid_params(format!("'{key}' (a string) is required")))
}

fn integer(params: &Value, key: &str) -> Result<i64, RpcError> {
    params[key]
        .as_i64()
        .ok_or_else(|| RpcError::invalid_params(format!("'{key}' (an integer) is required")))
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

/// The methods that act on the client.
async fn dispatch(client: &Client, method: &str, p: &Value) -> Result<Value, RpcError> {
    Ok(match method {
        "account" => json!({
            "account_id": client.account_id().to_string(),
            "display_name": client.display_name(),
        }),
        "send" => {
            let to = account(p, "to")?;
            let message = client.send_text(&to, string(p, "text")?)?;
            if p["wait"].as_bool() == Some(true) {
                let timeout = std::time::Duration::from_secs(120);
                to_json(&client.wait_sent(message.id, timeout).await?)?
            } else {
                to_json(&message)?
            }
        }
        "conversations" => {
            to_json(&client.conversations(p["requests"].as_bool().unwrap_or(false))?)?
        }
        "messages" => {
            let limit = p["limit"].as_u64().map_or(50, |l| usize::try_from(l).unwrap_or(50));
            to_json(&client.messages(&account(p, "conversation")?, limit)?)?
        }
        "message" => to_json(&client.message(integer(p, "id")?)?)?,
        "mark_read" => json!({"read": client.mark_read(&account(p, "conversation")?)?}),
        "unsend" => {
            client.unsend(integer(p, "id")?)?;
            json!({})
        }
        "delete" => {
            client.delete_message(integer(p, "id")?)?;
            json!({})
        }
        "retry" => {
            client.retry(integer(p, "id")?)?;
            json!({})
        }
        "typing" => {
            client.typing(&account(p, "to")?, p["started"].as_bool().unwrap_or(true))?;
            json!({})
        }
        "contacts" => Value::Array(client.contacts()?.iter().map(contact_json).collect()),
        "contact_add" => contact_json(&client.add_contact(&account(p, "account_id")?)?),
        "contact_remove" => {
            client.remove_contact(&account(p, "account_id")?)?;
            json!({})
        }
        "contact_nickname" => {
            let nickname = p["nickname"].as_str();
            contact_json(&client.set_nickname(&account(p, "account_id")?, nickname)?)
        }
        "requests" => to_json(&client.conversations(true)?)?,
        "request_accept" => {
            client.accept_request(&account(p, "account_id")?)?;
            json!({})
        }
        "request_decline" => {
            client.decline_request(&account(p, "account_id")?)?;
            json!({})
        }
        "block" => contact_json(&client.block(&account(p, "account_id")?)?),
        "contact_pin" => {
            let pinned = p["pinned"].as_bool().unwrap_or(true);
            contact_json(&client.set_pinned(&account(p, "account_id")?, pinned)?)
        }
        "contact_notifications" => {
            let mode =
                p["mode"].as_i64().ok_or_else(|| RpcError::invalid_params("mode is 0 to 3"))?;
            contact_json(&client.set_notifications(&account(p, "account_id")?, mode)?)
        }
        "mark_unread" => {
            client.mark_unread(&account(p, "conversation")?)?;
            json!({})
        }
        "unblock" => contact_json(&client.unblock(&account(p, "account_id")?)?),
        "settings" => {
            if let Some(on) = p["read_receipts"].as_bool() {
                client.set_read_receipts(on)?;
            }
            if let Some(on) = p["typing_indicators"].as_bool() {
                client.set_typing_indicators(on)?;
            }
            if let Some(name) = p.get("display_name").filter(|v| !v.is_null()) {
                let name = name
                    .as_str()
                    .ok_or_else(|| RpcError::invalid_params("display_name is a string"))?;
                client.set_display_name(Some(name))?;
            }
            json!({"read_receipts": client.read_receipts(), "typing_indicators": client.typing_indicators(),
                   "display_name": client.display_name()})
        }
        "disappearing" => {
            let conversation = account(p, "conversation")?;
            let seconds = p["seconds"].as_u64().map(|s| u32::try_from(s).unwrap_or(u32::MAX));
            let setting = match (string(p, "mode")?, seconds) {
                ("off", _) => Disappearing::Off,
                ("after-send", Some(s)) => Disappearing::AfterSend(s),
                ("after-read", Some(s)) => Disappearing::AfterRead(s),
                _ => {
                    return Err(RpcError::invalid_params(
                        "mode is off, or after-send / after-read with seconds",
                    ));
                }
            };
            client.set_disappearing(&conversation, setting)?;
            json!({"conversation": conversation.to_string(), "disappearing": setting})
        }
        "stats" => to_json(&client.stats())?,
        _ => {
            return Err(RpcError {
                code: -32601,
                message: format!("no method {method:?}"),
                kind: None,
            });
        }
    })
}

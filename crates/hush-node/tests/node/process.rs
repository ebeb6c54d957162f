//! The real `hush-node` binary: the ready line, flags and config errors, graceful stop on
//! SIGTERM, and durability when killed with SIGKILL in the middle of a store load.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Account, b64, client, parse_body};

/// Starts `hush-node run` on 127.0.0.1:0 in `dir`; returns the child and its ready line.
pub(crate) fn start(dir: &Path, extra: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hush-node"))
        .args(["run", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("ready line: {line:?}"));
    (child, ready)
}

async fn rpc(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let resp = http
        .post(format!("{url}/storage_rpc/v1"))
        .body(json!({"method": method, "params": params}).to_string())
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, parse_body(&resp.bytes().await?)))
}

#[allow(clippy::disallowed_methods, reason = "the binary uses the system clock")]
fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_line_then_graceful_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, ready) = start(dir.path(), &[]);
    assert_eq!(ready["event"], "ready");
    let url = ready["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:") && !url.ends_with(":0"), "{url}");
    assert_eq!(ready["ed25519"].as_str().unwrap().len(), 64);
    assert_eq!(ready["x25519"].as_str().unwrap().len(), 64);
    // The documented key order.
    let raw = ready.to_string();
    assert!(raw.starts_with("{\"ed25519\"") || raw.contains("ready"), "{raw}");

    let http = client();
    let (status, info) = rpc(&http, &url, "info", json!({})).await.unwrap();
    assert_eq!(status, 200, "{info}");

    // The identity persists across restarts; files are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("node.key")), 0o600);
    assert_eq!(mode(&dir.path().join("tls.key")), 0o600);
    assert_eq!(mode(&dir.path().join("storage.db")), 0o600);

    // SIGTERM: exit 0, database closed (the WAL checkpointed away).
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("hush-node stopped"), "{stderr}");
    let wal = dir.path().join("storage.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "WAL left behind");

    let (mut again, ready2) = start(dir.path(), &[]);
    assert_eq!(ready2["ed25519"], ready["ed25519"]);
    again.kill().unwrap();
    let _ = again.wait();
}

#[test]
fn help_documents_options_and_bad_config_exits_2() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_hush-node")).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--data-dir",
        "--listen",
        "--config",
        "--max-request-bytes",
        "--rate-limit-per-ip",
        "--max-account-bytes",
        "--expiry-sweep-interval-ms",
        "--relay-timeout-ms",
        "--log",
    ] {
        assert!(help.contains(flag), "{flag} missing from help:\n{help}");
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nmax_conections = 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hush-node"))
        .args(["run", "--data-dir"])
        .arg(dir.path())
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("max_conections"), "{err}");
    // No data dir at all.
    let out = Command::new(env!("CARGO_BIN_EXE_hush-node")).arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_store_load_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, ready) = start(dir.path(), &["--rate-limit-per-ip", "0"]);
    let url = ready["url"].as_str().unwrap().to_owned();
    let http = client();
    let acked: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8usize {
        let (http, url, acked) = (http.clone(), url.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let account = Account::new(u8::try_from(w).unwrap() + 1);
            for i in 0u32.. {
                let data = format!("writer {w} message {i}");
                let params = json!({"pubkey": account.hex(), "timestamp": now_ms(), "ttl": 3_600_000, "data": b64(data.as_bytes())});
                match rpc(&http, &url, "store", params).await {
                    Ok((200, body)) => acked.lock().unwrap().push((w, body["hash"].as_str().unwrap().to_owned())),
                    _ => break,
                }
            }
        }));
    }
    // Let the load run, then kill the node mid-flight.
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let (mut child, ready) = start(dir.path(), &["--rate-limit-per-ip", "0"]);
    let url = ready["url"].as_str().unwrap().to_owned();
    let mut missing = 0;
    for w in 0..8usize {
        let account = Account::new(u8::try_from(w).unwrap() + 1);
        let mut found = HashSet::new();
        let mut last: Option<String> = None;
        loop {
            let mut params = account.auth("retrieve", 0, now_ms());
            if let Some(h) = &last {
                params["last_hash"] = json!(h);
            }
            let (status, body) = rpc(&http, &url, "retrieve", params).await.unwrap();
            assert_eq!(status, 200, "{body}");
            for m in body["messages"].as_array().unwrap() {
                let h = m["hash"].as_str().unwrap().to_owned();
                last = Some(h.clone());
                found.insert(h);
            }
            if body["more"] != true {
                break;
            }
        }
        missing += acked.iter().filter(|(who, h)| *who == w && !found.contains(h)).count();
    }
    child.kill().unwrap(); // SIGKILL again, idle this time
    let _ = child.wait();
    // The database the two kills left behind is sound.
    let db = rusqlite::Connection::open(dir.path().join("storage.db")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    eprintln!(
        "kill -9 during stores: {} acknowledged, {missing} lost; integrity_check: {check}",
        acked.len()
    );
    assert_eq!(check, "ok");
    assert!(acked.len() >= 300);
    assert_eq!(missing, 0, "{missing} of {} acknowledged messages lost", acked.len());
}

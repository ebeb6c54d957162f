//! Regression tests for what a demanding user and an attacker found at 55b1511 (issue
//! "Hardening"), each against the real `hush` binary: skipped messages, terminal injection,
//! plaintext in the process list, bad input that was ignored or misreported, the daemon's
//! socket, profile files, starting offline.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::rpc::Daemon;
use super::{code, hush_as, interrupt, json, json_lines, mode, start_devnet, stderr, stdout};

fn new_account(data: &Path, profile: &str, name: &str) -> String {
    let made = hush_as(data, profile, &["--json", "account", "new", "--display-name", name], "");
    assert_eq!(code(&made), 0, "{}", stderr(&made));
    json(&made)["account_id"].as_str().unwrap().to_owned()
}

/// What `receive` printed, one body per line (human output: `name: body`).
fn received_bodies(data: &Path, profile: &str) -> Vec<String> {
    let out = hush_as(data, profile, &["--json", "receive"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    json_lines(&out).iter().map(|l| l["body"].as_str().unwrap().to_owned()).collect()
}

#[test]
#[allow(clippy::disallowed_methods, reason = "the test bounds how long failures take")]
fn on_a_devnet_nothing_is_skipped_nothing_injected_and_bad_input_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let bob = new_account(data, "bob", "Bob");
    let alice = new_account(data, "alice", "Alice");
    // Mallory's name carries a right-to-left override (display names may not hold controls).
    let mallory = new_account(data, "mallory", "Mal\u{202e}yrol");
    let (devnet, devnet_out, _) = start_devnet(None, Some(data), &["--nodes", "5"]);

    // 1. Local IDs never repeat: the newest message deleted, the next one is still printed.
    for text in ["one", "two"] {
        let sent = hush_as(data, "alice", &["send", "--wait", &bob], text);
        assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    }
    assert_eq!(received_bodies(data, "bob"), ["one", "two"]);
    let listed = json_lines(&hush_as(data, "bob", &["--json", "messages", &alice], ""));
    let newest = listed.last().unwrap()["id"].as_i64().unwrap();
    assert_eq!(code(&hush_as(data, "bob", &["delete", &newest.to_string()], "")), 0);
    // A stranger's message request and another message: both printed, with new IDs.
    let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\rYour bank: send money\u{9b}31m";
    let sent = hush_as(data, "mallory", &["send", "--wait", &format!(" {bob}\n")], hostile);
    assert_eq!(code(&sent), 0, "a pasted ID with spaces and a newline: {}", stderr(&sent));
    let sent = hush_as(data, "alice", &["send", "--wait", &bob], "three");
    assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    let human = hush_as(data, "bob", &["receive"], "");
    assert_eq!(code(&human), 0, "{}", stderr(&human));
    let text = stdout(&human);
    assert!(text.contains("three") && text.contains("Your bank"), "{text:?}");
    let ids: Vec<i64> = json_lines(&hush_as(data, "bob", &["--json", "messages", &alice], ""))
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(ids.iter().all(|&id| id != newest), "ID {newest} was given again: {ids:?}");

    // 4. Remote text never reaches the terminal raw: no ESC, BEL, CR, C1 or bidi override in
    //    any human listing; --json stays exact.
    let dangerous =
        |s: &str| s.chars().any(|c| matches!(c, '\u{1b}' | '\u{7}' | '\r' | '\u{9b}' | '\u{202e}'));
    assert!(!dangerous(&text), "receive printed {text:?}");
    assert!(text.contains("␛[2J") && text.contains("<U+202E>"), "{text:?}");
    for args in [&["messages", mallory.as_str()][..], &["requests"], &["conversations"]] {
        let out = hush_as(data, "bob", args, "");
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert!(!dangerous(&stdout(&out)), "{args:?} printed {:?}", stdout(&out));
    }
    let exact = json_lines(&hush_as(data, "bob", &["--json", "messages", &mallory], ""));
    assert_eq!(exact[0]["body"], hostile);

    // 5. The text need not be an argument (where every local user could read it): stdin,
    //    a file; a text too long is reported with its real length.
    let file = data.join("text.txt");
    std::fs::write(&file, "from a file\n").unwrap();
    let sent = hush_as(data, "alice", &["--json", "send", "--wait", "--file"], "");
    assert_eq!(code(&sent), 2, "--file needs a path");
    let sent = hush_as(
        data,
        "alice",
        &["--json", "send", "--wait", &bob, "--file", file.to_str().unwrap()],
        "",
    );
    assert_eq!(json(&sent)["status"], "sent", "{}", stderr(&sent));
    let long = "x".repeat(100_000);
    let too_long = hush_as(data, "alice", &["--json", "send", &bob], &long);
    assert_eq!(code(&too_long), 2);
    let error = json(&too_long);
    assert_eq!(error["error"]["kind"], "invalid_input", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("100000 characters"), "{error}");
    assert_eq!(received_bodies(data, "bob"), ["from a file"]);

    // 9. Idempotent sends: the same send ID twice is one message.
    let first = json(&hush_as(data, "alice", &["--json", "send", "--send-id", "k1", &bob], "once"));
    let again = json(&hush_as(data, "alice", &["--json", "send", "--send-id", "k1", &bob], "once"));
    assert_eq!(first["id"], again["id"]);
    let other = hush_as(data, "alice", &["--json", "send", "--send-id", "k1", &bob], "twice");
    assert_eq!(code(&other), 2, "{}", stderr(&other));
    let sent = hush_as(data, "alice", &["send", "--wait", &bob], "done");
    assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    assert_eq!(received_bodies(data, "bob"), ["once", "done"]);

    // Disappearing timers say their range.
    let out = hush_as(data, "bob", &["disappearing", &alice, "after-send", "15d"], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("1s to 14d"), "{}", stderr(&out));

    // A network file that is missing or not one: an error even without --wait, nothing
    // queued.
    let queued_before =
        json_lines(&hush_as(data, "alice", &["--json", "messages", &bob], "")).len();
    let missing = data.join("no-such-network.json");
    let out =
        hush_as(data, "alice", &["--network", missing.to_str().unwrap(), "send", &bob], "lost?");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-network.json"), "{}", stderr(&out));
    std::fs::write(data.join("bad.json"), "{not json").unwrap();
    let bad = data.join("bad.json");
    let out = hush_as(data, "alice", &["--network", bad.to_str().unwrap(), "send", &bob], "x");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let queued_after = json_lines(&hush_as(data, "alice", &["--json", "messages", &bob], "")).len();
    assert_eq!(queued_before, queued_after, "nothing was queued");
    // The devnet's seeds with another network's key: said so, not "seeds unreachable".
    let mut file: Value =
        serde_json::from_slice(&std::fs::read(data.join("devnet/network.json")).unwrap()).unwrap();
    file["network_key"] = json!(hex::encode([7u8; 32]));
    file.as_object_mut().unwrap().remove("registry");
    let forged = data.join("forged.json");
    std::fs::write(&forged, file.to_string()).unwrap();
    json(&hush_as(data, "carol", &["--json", "account", "new"], ""));
    let out = hush_as(
        data,
        "carol",
        &["--network", forged.to_str().unwrap(), "send", "--wait", &bob],
        "hi",
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("does not match the network key"), "{}", stderr(&out));

    // JSON-RPC: parameters of the wrong type, or unknown ones, are refused (-32602).
    let mut daemon = Daemon::start(data, "alice", &[]);
    for (method, params) in [
        ("send", json!({"to": bob, "text": "x", "wait": "yes"})),
        ("send", json!({"to": bob, "text": "x", "wiat": true})),
        ("messages", json!({"conversation": bob, "limit": "5"})),
        ("conversations", json!({"requests": 1})),
        ("unsubscribe", json!({"subscription": "1"})),
        ("account", json!({"extra": true})),
    ] {
        let answer = daemon.call(method, params.clone());
        assert_eq!(answer["error"]["code"], -32602, "{method} {params}: {answer}");
    }
    let stats = daemon.call("stats", json!({}))["result"].clone();
    assert!(stats["polls"].as_u64() > Some(0) || stats["last_poll_error"].is_null(), "{stats}");

    // The network goes down: a JSON-RPC send with wait fails about as fast as the CLI, the
    // message stays queued; the poller's error shows in stats, and clears once the network
    // is back.
    interrupt(devnet, devnet_out);
    let started = std::time::Instant::now();
    let answer = daemon.call_within(
        Duration::from_secs(60),
        "send",
        json!({"to": bob, "text": "during the outage", "wait": true}),
    );
    assert_eq!(answer["error"]["data"]["kind"], "network", "{answer}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let mut failing = Value::Null;
    for _ in 0..60 {
        failing = daemon.call("stats", json!({}))["result"].clone();
        if failing["last_poll_error"].is_string() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(failing["last_poll_error"].is_string(), "{failing}");
    let (devnet, devnet_out, _) = start_devnet(None, Some(data), &[]);
    let mut recovered = Value::Null;
    for _ in 0..80 {
        recovered = daemon.call("stats", json!({}))["result"].clone();
        if recovered["last_poll_error"].is_null() && recovered["polls"] != failing["polls"] {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(recovered["last_poll_error"].is_null(), "still {recovered}");
    // The queued message goes out by itself.
    drop(daemon);
    let mut got = Vec::new();
    for _ in 0..10 {
        got.extend(received_bodies(data, "bob"));
        if got.iter().any(|b| b == "during the outage") {
            break;
        }
        let _ = hush_as(data, "alice", &["receive"], "");
    }
    assert!(got.iter().any(|b| b == "during the outage"), "{got:?}");
    interrupt(devnet, devnet_out);
}

#[test]
fn the_daemon_starts_offline_and_connects_when_the_network_appears() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let bob = new_account(data, "bob", "Bob");
    new_account(data, "alice", "Alice");
    // No network yet: the daemon and `receive --follow` run anyway, serving local state.
    let mut daemon = Daemon::start(data, "bob", &[]);
    assert_eq!(daemon.call("account", json!({}))["result"]["account_id"], bob);
    assert!(daemon.call("subscribe", json!({}))["result"].is_object());
    let mut follow = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("--data-dir")
        .arg(data)
        .args(["--profile", "bob", "--json", "receive", "--follow"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(follow.try_wait().unwrap().is_none(), "receive --follow exited offline");
    // A second daemon on the profile is refused, clearly.
    let second = hush_as(data, "bob", &["daemon", "--stdio"], "");
    assert_eq!(code(&second), 1);
    assert!(stderr(&second).contains("already running"), "{}", stderr(&second));

    let (devnet, devnet_out, _) = start_devnet(None, Some(data), &["--nodes", "4"]);
    let sent = hush_as(data, "alice", &["send", "--wait", &bob], "you were offline");
    assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    #[allow(clippy::disallowed_methods, reason = "a deadline")]
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let line = daemon.lines.recv_timeout(Duration::from_secs(60)).expect("an event");
        if line["params"]["event"]["message"]["body"] == "you were offline" {
            break;
        }
        #[allow(clippy::disallowed_methods, reason = "a deadline")]
        let late = std::time::Instant::now() > deadline;
        assert!(!late, "the daemon never connected");
    }
    let mut line = String::new();
    BufReader::new(follow.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let printed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(printed["body"], "you were offline");
    let _ = follow.kill();
    let _ = follow.wait();
    drop(daemon);
    interrupt(devnet, devnet_out);
}

#[test]
fn the_daemon_socket_replaces_only_a_stale_socket_and_is_private_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    new_account(data, "p", "P");
    // A regular file, a folder: refused and left as they were.
    let file = data.join("precious.txt");
    std::fs::write(&file, "keep me").unwrap();
    let out = hush_as(data, "p", &["daemon", "--socket", file.to_str().unwrap()], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("not a socket"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    let folder = data.join("folder");
    std::fs::create_dir(&folder).unwrap();
    let out = hush_as(data, "p", &["daemon", "--socket", folder.to_str().unwrap()], "");
    assert_eq!(code(&out), 2);
    assert!(folder.is_dir());
    // A stale socket (its daemon gone) is replaced, with mode 0600.
    let sock = data.join("d.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("--data-dir")
        .arg(data)
        .args(["--profile", "p", "daemon", "--socket", sock.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let mut stream = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    writeln!(stream, r#"{{"jsonrpc":"2.0","id":1,"method":"account"}}"#).unwrap();
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).unwrap();
    assert!(answer.contains("account_id"), "{answer}");
    // Stopped, it removes its own socket — and nothing else.
    assert!(
        Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap().success()
    );
    assert!(daemon.wait().unwrap().success());
    assert!(!sock.exists());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn profiles_keep_their_data_through_restores_losses_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let id = new_account(data, "p", "P");
    let words = hush_as(data, "p", &["--json", "account", "recovery-password", "--yes"], "");
    let words = json(&words)["recovery_password"].as_str().unwrap().to_owned();
    // A message queued offline (no network): it must survive what follows.
    let queued = hush_as(data, "p", &["--json", "send", &id], "note to self, queued");
    assert_eq!(code(&queued), 0, "{}", stderr(&queued));
    let profile = data.join("profiles").join("p");
    for f in ["hush.db", "hush.db-wal", "hush.db-shm"] {
        if profile.join(f).exists() {
            assert_eq!(mode(&profile.join(f)), 0o600, "{f}");
        }
    }
    assert_eq!(mode(&profile.join("hush.db")), 0o600);

    // Restoring the same account with --force keeps its database and the queued message.
    let again =
        hush_as(data, "p", &["--json", "account", "restore", "--force", "--offline"], &words);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(json_lines(&again)[0]["previous"]["kept"], true);
    let messages = json_lines(&hush_as(data, "p", &["--json", "messages", &id], ""));
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["status"], "sending");

    // The account file lost: a new account moves the database it cannot open aside, and
    // says where.
    std::fs::remove_file(profile.join("account.json")).unwrap();
    let fresh = hush_as(data, "p", &["--json", "account", "new"], "");
    assert_eq!(code(&fresh), 0, "{}", stderr(&fresh));
    let aside = json(&fresh)["previous"]["moved_aside"].as_str().unwrap().to_owned();
    assert!(Path::new(&aside).join("hush.db").exists(), "{aside}");
    assert!(stderr(&fresh).contains(&aside), "{}", stderr(&fresh));
    let shown = hush_as(data, "p", &["--json", "messages", &id], "");
    assert_eq!(code(&shown), 0, "the new account's database opens: {}", stderr(&shown));

    // A damaged database is reported as damaged, not as a wrong key, and left alone.
    let db = profile.join("hush.db");
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() / 2 + 17]).unwrap();
    let out = hush_as(data, "p", &["conversations"], "");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("key"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&db).unwrap().len(), bytes.len() / 2 + 17, "left as it was");
}

#[test]
fn cli_tui_and_daemon_share_a_profile_without_busy_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    new_account(data, "p", "P");
    let contacts: Vec<String> =
        (0..12u8).map(|i| format!("05{}", hex::encode([i + 1; 32]))).collect();
    // The daemon writes as well (it adds contacts meanwhile).
    let mut daemon = Daemon::start(data, "p", &[]);
    let children: Vec<Child> = contacts
        .iter()
        .map(|c| {
            Command::new(env!("CARGO_BIN_EXE_hush"))
                .arg("--data-dir")
                .arg(data)
                .args(["--profile", "p", "contacts", "nickname", c, "friend"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in &contacts {
        let answer = daemon.call("contact_pin", json!({"account_id": c}));
        assert!(answer["result"].is_object(), "{answer}");
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        assert!(!err.contains("locked") && !err.contains("busy"), "{err}");
    }
    let listed = json_lines(&hush_as(data, "p", &["--json", "contacts"], ""));
    assert_eq!(listed.len(), contacts.len());
    assert!(listed.iter().all(|c| c["nickname"] == "friend"), "{listed:?}");
}

//! End-to-end tests of the `hush` binary: each test runs the real executable against a fresh
//! temporary data directory and checks its output, exit code and files.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod backup;
mod durability;
mod faults;
mod hardening;
mod netns;
mod rpc;
mod tui;

/// Runs `hush --data-dir DIR ARGS…` with `stdin` piped in (not a terminal).
fn hush(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("HUSH_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command may finish (refuse, say) before it reads its input: a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The single JSON object a `--json` command printed.
fn json(out: &Output) -> Value {
    let text = stdout(out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one JSON line expected, got {text:?}");
    serde_json::from_str(lines[0]).unwrap()
}

fn key_vectors() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../hush-proto/tests/vectors/keys.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["accounts"].as_array().unwrap().clone()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn restore_prints_the_account_id_of_every_s13_2_row() {
    for row in key_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let words = row["mnemonic"].as_str().unwrap();
        let out = hush(dir.path(), &["account", "restore", "--json"], &format!("{words}\n"));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["account_id"], row["account_id"]);
        assert_eq!(v["ed25519_pubkey"], row["ed25519_pk"]);
        // `--json` before the subcommand works the same.
        let shown = hush(dir.path(), &["--json", "account", "show"], "");
        assert_eq!(json(&shown)["account_id"], row["account_id"]);
    }
}

#[test]
fn swapped_words_exit_2_and_write_nothing() {
    for row in key_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let mut words: Vec<&str> = row["mnemonic"].as_str().unwrap().split(' ').collect();
        words.swap(0, 1);
        let out = hush(dir.path(), &["account", "restore", "--json"], &words.join(" "));
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));
        // With --json, the error is the one JSON object on stdout.
        let error = json(&out);
        assert_eq!(error["error"]["kind"], "invalid_input", "{error}");
        assert!(error["error"]["message"].as_str().unwrap().contains("checksum"), "{error}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing may be written");
    }
}

#[test]
fn bad_recovery_passwords_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted xylophone",
            "word 13 (\"xylophone\")",
        ),
        ("vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted", "12 words"),
        ("vexed enjoy pigment", "13 words"),
        ("", "got 0"),
    ];
    for (input, expected) in cases {
        let out = hush(dir.path(), &["account", "restore"], input);
        assert_eq!(code(&out), 2, "{input:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{input:?}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn new_account_round_trips_through_its_recovery_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = hush(dir.path(), &["account", "new", "--display-name", " Alice ", "--json"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let created = json(&out);
    let id = created["account_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("05") && id.len() == 66);
    assert_eq!(created["display_name"], "Alice");
    assert_eq!(created["recovery_password_command"], "hush account recovery-password");
    assert!(stderr(&out).contains("hush account recovery-password"));

    // Human output: the Account ID alone on stdout.
    let shown = hush(dir.path(), &["account", "show"], "");
    assert!(stdout(&shown).contains(&id));
    assert!(stdout(&shown).contains("Alice"));

    let words = hush(dir.path(), &["account", "recovery-password", "--yes", "--json"], "");
    assert_eq!(code(&words), 0, "{}", stderr(&words));
    let phrase = json(&words)["recovery_password"].as_str().unwrap().to_owned();
    assert_eq!(phrase.split(' ').count(), 13);

    let other = tempfile::tempdir().unwrap();
    let restored = hush(other.path(), &["account", "restore", "--json"], &phrase);
    assert_eq!(json(&restored)["account_id"], id.as_str());
}

#[test]
fn existing_accounts_are_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let first = json(&hush(dir.path(), &["account", "new", "--json"], ""));
    let again = hush(dir.path(), &["account", "new", "--json"], "");
    assert_eq!(code(&again), 1);
    assert!(stderr(&again).contains("--force"));
    let restore =
        hush(dir.path(), &["account", "restore"], key_vectors()[0]["mnemonic"].as_str().unwrap());
    assert_eq!(code(&restore), 1);
    let shown = json(&hush(dir.path(), &["account", "show", "--json"], ""));
    assert_eq!(shown["account_id"], first["account_id"]);

    let forced = hush(
        dir.path(),
        &["account", "restore", "--force", "--json"],
        key_vectors()[0]["mnemonic"].as_str().unwrap(),
    );
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    let shown = json(&hush(dir.path(), &["account", "show", "--json"], ""));
    assert_eq!(shown["account_id"], key_vectors()[0]["account_id"]);
}

#[test]
fn profiles_are_private_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = hush(dir.path(), &["--profile", "bob", "account", "new"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let profile = dir.path().join("profiles").join("bob");
    assert_eq!(mode(&profile), 0o700);
    assert_eq!(mode(&profile.join("account.json")), 0o600);
    // A second profile is a second, independent account.
    let bob = json(&hush(dir.path(), &["--profile", "bob", "account", "show", "--json"], ""));
    let default = hush(dir.path(), &["account", "show", "--json"], "");
    assert_eq!(code(&default), 1, "the default profile has no account yet");
    assert!(stderr(&default).contains("hush account new"));
    assert!(bob["account_id"].as_str().unwrap().starts_with("05"));
    // Names that could escape the data directory are refused.
    let out = hush(dir.path(), &["--profile", "../x", "account", "new"], "");
    assert_eq!(code(&out), 2);
}

#[test]
fn recovery_password_needs_confirmation_and_draws_qr() {
    let dir = tempfile::tempdir().unwrap();
    hush(dir.path(), &["account", "restore"], key_vectors()[1]["mnemonic"].as_str().unwrap());
    let refused = hush(dir.path(), &["account", "recovery-password"], "y\n");
    assert_eq!(code(&refused), 1, "stdin is not a terminal: no confirmation possible");
    assert!(stdout(&refused).is_empty());
    assert!(stderr(&refused).contains("--yes"));

    let shown = hush(dir.path(), &["account", "recovery-password", "--yes", "--qr"], "");
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(text.starts_with(key_vectors()[1]["mnemonic"].as_str().unwrap()));
    assert!(text.contains('█') && text.lines().count() > 20, "{text}");
    assert!(stderr(&shown).contains("Never share"));

    let both = hush(dir.path(), &["account", "recovery-password", "--yes", "--qr", "--json"], "");
    assert_eq!(code(&both), 2);
}

#[test]
fn invalid_display_names_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(101);
    for name in ["   ", long.as_str()] {
        let out = hush(dir.path(), &["account", "new", "--display-name", name], "");
        assert_eq!(code(&out), 2, "{name:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn help_lists_the_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_hush")).arg("--help").output().unwrap();
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for line in ["Exit codes:", "0  success", "1  failure", "2  invalid input"] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    // Usage errors are invalid input too.
    let out = Command::new(env!("CARGO_BIN_EXE_hush")).arg("frobnicate").output().unwrap();
    assert_eq!(code(&out), 2);
}

/// Runs `hush --data-dir DIR ARGS…` on a pseudo-terminal (util-linux `script`), typing `keys`.
fn hush_on_tty(data_dir: &Path, args: &str, keys: &str) -> Output {
    let command =
        format!("{} --data-dir {} {args}", env!("CARGO_BIN_EXE_hush"), data_dir.display());
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is needed for terminal tests (.ci/run installs it)");
    child.stdin.take().unwrap().write_all(keys.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn on_a_terminal_restore_prompts_and_recovery_password_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let row = &key_vectors()[1];
    let words = row["mnemonic"].as_str().unwrap();
    let out = hush_on_tty(dir.path(), "account restore", &format!("{words}\r"));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("Recovery password:"));
    assert!(stdout(&out).contains(row["account_id"].as_str().unwrap()));

    let declined = hush_on_tty(dir.path(), "account recovery-password", "n\r");
    assert_eq!(code(&declined), 1);
    assert!(stdout(&declined).contains("Show it now? [y/N]"));
    assert_eq!(stdout(&declined).matches(words).count(), 0);

    let accepted = hush_on_tty(dir.path(), "account recovery-password", "y\r");
    assert_eq!(code(&accepted), 0, "{}", stdout(&accepted));
    assert_eq!(stdout(&accepted).matches(words).count(), 1);
}

#[test]
fn concurrent_creations_leave_exactly_one_account() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_hush"))
                .arg("--data-dir")
                .arg(dir.path())
                .args(["account", "new", "--json"])
                .env_remove("HUSH_PROFILE")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> =
        children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let winners: Vec<&Output> = outputs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "exactly one creation may succeed");
    assert!(outputs.iter().filter(|o| !o.status.success()).all(|o| code(o) == 1));
    let shown = json(&hush(dir.path(), &["account", "show", "--json"], ""));
    assert_eq!(shown["account_id"], json(winners[0])["account_id"]);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("profiles").join("default"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["account", "new", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "the account was created; a closed pipe is not a failure");
}

/// Starts `hush [--data-dir DIR] --json devnet ARGS…` and reads its ready line.
fn start_devnet(
    data_dir: Option<&Path>,
    env_data_dir: Option<&Path>,
    args: &[&str],
) -> (DevnetProcess, std::io::BufReader<std::process::ChildStdout>, Value) {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hush"));
    if let Some(dir) = data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    match env_data_dir {
        Some(dir) => cmd.env("HUSH_DATA_DIR", dir),
        None => cmd.env_remove("HUSH_DATA_DIR"),
    };
    let mut child = cmd
        .args(["--json", "devnet"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let child = DevnetProcess(Some(child));
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line:?}"));
    (child, out, ready)
}

/// Sends SIGINT (Ctrl-C) and checks the network stops cleanly.
/// A `hush devnet` process, killed if a failing test drops it still running (so that a
/// failure does not leave a network behind).
struct DevnetProcess(Option<std::process::Child>);

impl Drop for DevnetProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn interrupt(mut devnet: DevnetProcess, mut out: std::io::BufReader<std::process::ChildStdout>) {
    use std::io::BufRead;
    let mut child = devnet.0.take().expect("running");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&line).unwrap()["event"], "stopped");
    assert!(child.wait().unwrap().success());
}

#[test]
fn devnet_runs_a_network_in_a_folder_stops_on_ctrl_c_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let net_dir = dir.path().join("net");
    let (child, out, ready) = start_devnet(Some(&net_dir), None, &["--nodes", "5"]);
    assert_eq!(ready["event"], "ready");
    assert_eq!(ready["registry_seq"], 1);
    let file_path = net_dir.join("network.json");
    assert_eq!(ready["network_file"], file_path.to_str().unwrap());
    // The network file: seeds plus a registry that verifies with the key it names.
    let file: hush_proto::registry::NetworkFile =
        serde_json::from_slice(&std::fs::read(&file_path).unwrap()).unwrap();
    assert_eq!(file.seeds.len(), 5);
    let registry = file.registry().unwrap().unwrap();
    assert_eq!(registry.nodes().len(), 5);
    assert_eq!(mode(&net_dir.join("network.key")), 0o600);
    let urls: Vec<String> = ready["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["url"].as_str().unwrap().into())
        .collect();
    assert_eq!(urls, file.seeds);
    for url in &urls {
        // Every node listens.
        std::net::TcpStream::connect(url.trim_start_matches("https://")).unwrap();
    }
    // A second network on the same folder is refused.
    let second = hush(&net_dir, &["devnet"], "");
    assert_eq!(code(&second), 1);
    assert!(stderr(&second).contains("in use"), "{}", stderr(&second));
    interrupt(child, out);

    // Started again: the same nodes at the same addresses under the same registry.
    let (child, out, again) = start_devnet(Some(&net_dir), None, &[]);
    assert_eq!(again["nodes"], ready["nodes"]);
    assert_eq!(again["registry_seq"], 1);
    interrupt(child, out);

    // Without --data-dir, the network lives in the data dir's devnet folder.
    let data = dir.path().join("data");
    let (child, out, ready) = start_devnet(None, Some(&data), &["--nodes", "1"]);
    assert_eq!(ready["network_file"], data.join("devnet").join("network.json").to_str().unwrap());
    interrupt(child, out);
}

/// Runs `hush --data-dir DIR --profile P ARGS…` with `stdin`.
fn hush_as(data_dir: &Path, profile: &str, args: &[&str], stdin: &str) -> Output {
    let mut all = vec!["--profile", profile];
    all.extend_from_slice(args);
    hush(data_dir, &all, stdin)
}

/// The JSON lines a command printed.
fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn two_profiles_exchange_messages_through_a_devnet_and_a_daemon() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // Before any network exists: a clear error, and the message stays queued.
    let alice =
        json(&hush_as(data, "alice", &["--json", "account", "new", "--display-name", "Alice"], ""));
    let bob =
        json(&hush_as(data, "bob", &["--json", "account", "new", "--display-name", "Bob"], ""));
    let (a, b) = (alice["account_id"].as_str().unwrap(), bob["account_id"].as_str().unwrap());
    let offline = hush_as(data, "alice", &["send", "--wait", b, "hello before the network"], "");
    assert_eq!(code(&offline), 1);
    assert!(stderr(&offline).contains("hush devnet"), "{}", stderr(&offline));
    // Bad input: exit 2.
    let bad = hush_as(data, "alice", &["send", "05abc", "hi"], "");
    assert_eq!(code(&bad), 2);
    let empty = hush_as(data, "alice", &["send", b, "   "], "");
    assert_eq!(code(&empty), 2, "{}", stderr(&empty));

    // The devnet in the data dir is where clients look by default.
    let (devnet, devnet_out, _) = start_devnet(None, Some(data), &["--nodes", "6"]);
    let sent = hush_as(data, "alice", &["--json", "send", "--wait", b, "-"], "hi bob\n");
    assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    let sent = json(&sent);
    assert_eq!(sent["status"], "sent");
    // Bob receives both: the one queued offline and the one from stdin, in order.
    let got = hush_as(data, "bob", &["--json", "receive"], "");
    assert_eq!(code(&got), 0, "{}", stderr(&got));
    let lines = json_lines(&got);
    let bodies: Vec<&str> = lines.iter().map(|l| l["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["hello before the network", "hi bob"]);
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{l}");
        assert_eq!(l["type"], "message");
        assert_eq!(l["from"], a);
        assert_eq!(l["conversation"], a);
        assert!(l["sent_at"].is_u64() && l["hash"].is_string());
    }
    assert_eq!(lines[1]["hash"], sent["hash"]);
    // Nothing new the second time.
    assert!(stdout(&hush_as(data, "bob", &["--json", "receive"], "")).is_empty());
    // Alice is a message request for Bob, shown with her display name.
    let requests = json_lines(&hush_as(data, "bob", &["--json", "requests"], ""));
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["id"], a);
    assert_eq!(requests[0]["name"], "Alice");
    assert_eq!(code(&hush_as(data, "bob", &["requests", "accept", a], "")), 0);
    let contacts = json_lines(&hush_as(data, "bob", &["--json", "contacts"], ""));
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["account_id"], a);
    assert_eq!(contacts[0]["display_name"], "Alice");
    assert_eq!(contacts[0]["approved"], true);
    assert_eq!(contacts[0]["blocked"], false);

    // Bob runs a daemon on stdio; Alice writes; the event streams to Bob's subscriber.
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["--data-dir", data.to_str().unwrap(), "--profile", "bob", "daemon", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_daemon = daemon.stdin.take().unwrap();
    let mut from_daemon = BufReader::new(daemon.stdout.take().unwrap());
    let mut read_line = || {
        let mut line = String::new();
        from_daemon.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap_or_else(|_| panic!("{line:?}"))
    };
    writeln!(to_daemon, r#"{{"jsonrpc":"2.0","id":1,"method":"subscribe"}}"#).unwrap();
    assert_eq!(read_line()["result"]["subscription"], 1);
    writeln!(to_daemon, "this is not json").unwrap();
    assert_eq!(read_line()["error"]["code"], -32700);
    writeln!(to_daemon, r#"{{"jsonrpc":"2.0","id":2,"method":"nope"}}"#).unwrap();
    assert_eq!(read_line()["error"]["code"], -32601);
    writeln!(to_daemon, r#"{{"jsonrpc":"2.0","id":3,"method":"account"}}"#).unwrap();
    assert_eq!(read_line()["result"]["account_id"], b);
    let sent = hush_as(data, "alice", &["send", "--wait", b, "live"], "");
    assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    let event = loop {
        let line = read_line();
        if line["method"] == "event" && line["params"]["event"]["type"] == "message" {
            break line;
        }
    };
    assert_eq!(event["params"]["event"]["message"]["body"], "live");
    assert_eq!(event["params"]["event"]["message"]["author"], a);
    // Bob answers through the daemon; Alice receives it.
    writeln!(
        to_daemon,
        r#"{{"jsonrpc":"2.0","id":4,"method":"send","params":{{"to":"{a}","text":"hello alice","wait":true}}}}"#
    )
    .unwrap();
    let answer = loop {
        let line = read_line();
        if line["id"] == 4 {
            break line;
        }
    };
    assert_eq!(answer["result"]["status"], "sent", "{answer}");
    let got = json_lines(&hush_as(data, "alice", &["--json", "receive"], ""));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["body"], "hello alice");
    drop(to_daemon);
    assert!(daemon.wait().unwrap().success());

    // Bob renames himself and nicknames Alice.
    let renamed = hush_as(data, "bob", &["settings", "display-name", "Robert"], "");
    assert_eq!(code(&renamed), 0, "{}", stderr(&renamed));
    assert_eq!(code(&hush_as(data, "bob", &["contacts", "nickname", a, "Al"], "")), 0);

    // `receive --follow` streams what arrives, one JSON line per message, until Ctrl-C.
    let mut follow = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["--data-dir", data.to_str().unwrap(), "--profile", "alice", "--json"])
        .args(["receive", "--follow"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut followed = BufReader::new(follow.stdout.take().unwrap());
    for text in ["one", "two"] {
        let sent = hush_as(data, "bob", &["send", "--wait", a, text], "");
        assert_eq!(code(&sent), 0, "{}", stderr(&sent));
        let mut line = String::new();
        followed.read_line(&mut line).unwrap();
        let line: Value = serde_json::from_str(&line).unwrap();
        assert_eq!((line["type"].as_str(), line["body"].as_str()), (Some("message"), Some(text)));
        assert_eq!(line["from"], b);
    }
    let pid = follow.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    assert!(follow.wait().unwrap().success());

    // A restore of Bob's recovery password in a new profile brings back his name, the
    // contact and the conversation, every message (the copies of what he sent went out
    // before `send --wait` returned), with progress lines.
    let bobs = json_lines(&hush_as(data, "bob", &["--json", "messages", a], ""));
    let words = hush_as(data, "bob", &["--json", "account", "recovery-password", "--yes"], "");
    let phrase = json(&words)["recovery_password"].as_str().unwrap().to_owned();
    let restored = hush_as(data, "bob2", &["--json", "account", "restore"], &phrase);
    assert_eq!(code(&restored), 0, "{}", stderr(&restored));
    let lines = json_lines(&restored);
    assert_eq!(lines[0]["account_id"], b);
    assert_eq!(lines[1]["type"], "restore_progress");
    assert_eq!(lines[1]["progress"]["phase"], "connecting");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "restored", "{lines:?}");
    assert_eq!(last["display_name"], "Robert");
    assert_eq!(last["contacts"], 1);
    assert_eq!(last["conversations"], 1);
    assert_eq!(last["messages"].as_u64(), Some(bobs.len() as u64), "{last}");
    let contacts = json_lines(&hush_as(data, "bob2", &["--json", "contacts"], ""));
    assert_eq!(
        (contacts[0]["account_id"].as_str(), contacts[0]["nickname"].as_str()),
        (Some(a), Some("Al"))
    );
    // A new account's first command is `send --wait`: its profile, its contact list and the
    // copy of the message for its other devices all reach its swarm before it returns.
    json(&hush_as(data, "carol", &["--json", "account", "new", "--display-name", "Carol"], ""));
    let sent = hush_as(data, "carol", &["send", "--wait", a, "first words"], "");
    assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    let words = hush_as(data, "carol", &["--json", "account", "recovery-password", "--yes"], "");
    let phrase = json(&words)["recovery_password"].as_str().unwrap().to_owned();
    let restored = json_lines(&hush_as(data, "carol2", &["--json", "account", "restore"], &phrase));
    let last = restored.last().unwrap();
    assert_eq!(
        (last["display_name"].as_str(), last["contacts"].as_u64(), last["messages"].as_u64()),
        (Some("Carol"), Some(1), Some(1)),
        "{last}"
    );
    interrupt(devnet, devnet_out);
    // The network file is there but no node answers: a clear error, at once; still queued.
    #[allow(clippy::disallowed_methods, reason = "the test bounds how long the failure takes")]
    let started = std::time::Instant::now();
    let down = hush_as(data, "alice", &["send", "--wait", b, "anyone there?"], "");
    assert_eq!(code(&down), 1);
    assert!(stderr(&down).contains("could be reached"), "{}", stderr(&down));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let queued = json_lines(&hush_as(data, "alice", &["--json", "messages", b], ""));
    assert_eq!(queued.last().unwrap()["status"], "sending");
}

//! The terminal UI end to end, driven through tmux: a local network (`hush devnet`), two
//! profiles each in its own `hush` TUI — Alice's account created in the TUI's onboarding
//! (display name, the recovery password shown once); Bob starts a conversation by pasting
//! Alice's Account ID and writes; Alice sees it as a message request (capture-pane), accepts it and replies;
//! Bob sees the reply; then disappearing messages, a nickname on the contacts screen, and
//! the recovery password behind its confirmation. Needs tmux: `.ci/run` installs it and sets HUSH_REQUIRE_TMUX=1;
//! elsewhere the test says why it is skipped.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{hush_as, interrupt, json, start_devnet};

/// One tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
    }

    fn new(name: &str) -> Self {
        Self { socket: format!("hush-test-{name}-{}", std::process::id()) }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A session running `hush --profile PROFILE` (the TUI) in an 100×30 terminal.
    fn open(&self, data: &Path, profile: &str) {
        let command = format!(
            "HUSH_DATA_DIR={} NO_COLOR=1 {} --profile {profile}",
            data.display(),
            env!("CARGO_BIN_EXE_hush")
        );
        self.run(&["new-session", "-d", "-s", profile, "-x", "100", "-y", "30", &command]);
    }

    fn keys(&self, session: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", session];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Esc on its own: a key right after it would read as Alt+key (an escape sequence).
    fn escape(&self, session: &str) {
        self.keys(session, &["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn text(&self, session: &str, text: &str) {
        self.run(&["send-keys", "-t", session, "-l", text]);
    }

    fn screen(&self, session: &str) -> String {
        self.run(&["capture-pane", "-p", "-t", session])
    }

    /// Waits until the session's screen shows `what`; panics with the screen otherwise.
    fn wait_for(&self, session: &str, what: &str) -> String {
        for _ in 0..150 {
            let screen = self.screen(session);
            if screen.contains(what) {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{what:?} never showed in {session}'s TUI:\n{}", self.screen(session));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}

#[test]
fn two_tuis_exchange_a_request_and_a_reply_over_a_devnet() {
    if !Tmux::available() {
        assert!(
            std::env::var_os("HUSH_REQUIRE_TMUX").is_none(),
            "HUSH_REQUIRE_TMUX is set but tmux is not installed"
        );
        eprintln!("skipped: tmux is not installed (CI installs it and sets HUSH_REQUIRE_TMUX)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    json(&hush_as(data, "bob", &["--json", "account", "new", "--display-name", "Bob"], ""));
    let (devnet, devnet_out, _) = start_devnet(None, Some(data), &["--nodes", "6"]);
    let tmux = Tmux::new("tui");
    // Alice has no account: the TUI starts with onboarding.
    tmux.open(data, "alice");
    tmux.wait_for("alice", "create a new account");
    tmux.keys("alice", &["c"]);
    tmux.wait_for("alice", "display name");
    tmux.text("alice", "Alice");
    tmux.keys("alice", &["Enter"]);
    let shown = tmux.wait_for("alice", "ONLY way to get this account back");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "connected");
    let alice = json(&hush_as(data, "alice", &["--json", "account", "show"], ""));
    assert_eq!(alice["display_name"], "Alice");
    let a = alice["account_id"].as_str().unwrap().to_owned();
    // The words shown were the account's recovery password.
    let words =
        json(&hush_as(data, "alice", &["--json", "account", "recovery-password", "--yes"], ""));
    let first_words: Vec<&str> =
        words["recovery_password"].as_str().unwrap().split(' ').take(4).collect();
    assert!(shown.contains(&first_words.join(" ")), "{first_words:?} not in\n{shown}");
    tmux.open(data, "bob");
    tmux.wait_for("bob", "connected");

    // Bob: n, paste Alice's ID (validated as typed), Enter opens, write, Enter sends.
    tmux.keys("bob", &["n"]);
    tmux.text("bob", &a[..20]);
    tmux.wait_for("bob", "20 of 66 characters");
    tmux.text("bob", &a[20..]);
    tmux.wait_for("bob", "valid — Enter opens");
    tmux.keys("bob", &["Enter"]);
    tmux.text("bob", "hello from bob's terminal");
    tmux.keys("bob", &["Enter"]);
    tmux.wait_for("bob", "You ✓");

    // Alice: the request arrives with Bob's name; accept it, open it, reply.
    let screen = tmux.wait_for("alice", "hello from bob's terminal");
    assert!(screen.contains("message requests"), "{screen}");
    assert!(screen.contains("Bob (1)"), "{screen}");
    tmux.keys("alice", &["A"]);
    tmux.wait_for("alice", "accepted");
    tmux.keys("alice", &["Enter"]);
    tmux.text("alice", "hi bob, accepted");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "You ✓");

    // Bob sees the reply under Alice's name.
    let screen = tmux.wait_for("bob", "hi bob, accepted");
    assert!(screen.contains("Alice"), "{screen}");

    // Alice turns on disappearing messages (Ctrl-T, 1 day after sending): both sides show it.
    tmux.keys("alice", &["C-t"]);
    tmux.wait_for("alice", "Disappearing messages");
    tmux.keys("alice", &["j", "j", "Enter"]);
    tmux.wait_for("alice", "⏱ 1 day after sending");
    tmux.wait_for("bob", "⏱ 1 day after sending");

    // Contacts: Bob is listed; the nickname Alice gives him replaces his name.
    tmux.escape("alice");
    tmux.keys("alice", &["c"]);
    tmux.wait_for("alice", "Contacts — Enter write");
    tmux.keys("alice", &["e"]);
    tmux.wait_for("alice", "Nickname");
    tmux.text("alice", "Bobby");
    tmux.keys("alice", &["Enter"]);
    tmux.wait_for("alice", "calls themselves Bob");
    tmux.escape("alice");

    // The account screen: sync status, and the recovery password only after a confirmation.
    tmux.keys("alice", &["a"]);
    tmux.wait_for("alice", "last sync");
    tmux.keys("alice", &["p"]);
    let asked = tmux.wait_for("alice", "y: show it");
    assert!(!asked.contains(&first_words.join(" ")), "{asked}");
    tmux.keys("alice", &["y"]);
    tmux.wait_for("alice", &first_words.join(" "));
    tmux.escape("alice");
    tmux.escape("alice");
    tmux.keys("alice", &["q"]);
    tmux.keys("bob", &["q"]);
    drop(tmux);
    interrupt(devnet, devnet_out);
}

//! A `hush daemon --stdio` for the tests that speak JSON-RPC to it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// A `hush daemon --stdio`, its lines read by a thread so that every wait has a deadline.
pub(crate) struct Daemon {
    pub(crate) child: Child,
    to: ChildStdin,
    pub(crate) lines: mpsc::Receiver<Value>,
    next: u64,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// Starts `hush --data-dir DATA --profile PROFILE EXTRA… daemon --stdio`.
    pub(crate) fn start(data: &Path, profile: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hush"))
            .arg("--data-dir")
            .arg(data)
            .args(["--profile", profile])
            .args(extra)
            .args(["daemon", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let to = child.stdin.take().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in from.lines() {
                let Ok(line) = line else { return };
                let Ok(value) = serde_json::from_str::<Value>(&line) else { continue };
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Self { child, to, lines, next: 0 }
    }

    pub(crate) fn request(&mut self, method: &str, params: Value) -> u64 {
        self.next += 1;
        let line = json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        writeln!(self.to, "{line}").unwrap();
        self.next
    }

    /// The next line that `wanted` accepts, within `within`.
    #[allow(clippy::disallowed_methods, reason = "a deadline for a blocking channel")]
    pub(crate) fn wait(
        &mut self,
        within: Duration,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!("no {what} within {within:?}"),
            }
        }
    }

    /// Calls `method` and returns the whole answer (result or error), within `within`.
    pub(crate) fn call_within(&mut self, within: Duration, method: &str, params: Value) -> Value {
        let id = self.request(method, params);
        self.wait(within, method, |l| l["id"] == id)
    }

    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        self.call_within(Duration::from_secs(60), method, params)
    }

    pub(crate) fn stats(&mut self) -> Value {
        self.call("stats", json!({}))["result"].clone()
    }
}

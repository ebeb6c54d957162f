//! Everything `hush` prints goes through here: results on stdout (one JSON object per line
//! with `--json`), messages for people on stderr.
//!
//! Human-readable lines carry remote text (message bodies, names, what a node answered), so
//! [`result`], [`note`] and [`error`] pass them through
//! [`hush_client::display::terminal_safe`]: escape sequences, controls and bidirectional
//! overrides are shown, never obeyed. JSON is printed exact. [`prompt`] is for hush's own
//! text only (it may move the cursor on purpose).
//!
//! A closed stdout or stderr (`hush … | head -c0`) is not an error: by the time anything is
//! printed the command has done its work, so write errors are ignored rather than turned into
//! a panic or a misleading failure.

use std::io::{self, Write};

use hush_client::display::{terminal_safe, terminal_safe_line};

/// Prints one JSON object on one line of stdout.
pub fn json(value: &serde_json::Value) {
    let _ = writeln!(io::stdout().lock(), "{value}");
}

/// Prints an error as the one JSON object on stdout: `{"error":{"kind","message"}}`.
pub fn json_error(kind: &str, message: &str) {
    json(&serde_json::json!({"error": {"kind": kind, "message": message}}));
}

/// Prints already-serialized JSON (one object) as one line of stdout.
pub fn json_bytes(serialized: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(serialized).and_then(|()| out.write_all(b"\n"));
}

/// Prints a result line on stdout (made safe for a terminal).
pub fn result(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{}", terminal_safe(line));
}

/// Prints a message for people on stderr (made safe for a terminal).
pub fn note(message: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", terminal_safe(message));
}

/// Prints a prompt on stderr without a newline.
pub fn prompt(message: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(message.as_bytes()).and_then(|()| err.flush());
}

/// Prints an error and its causes on stderr (made safe for a terminal: a node's refusal
/// is remote text).
pub fn error(error: &anyhow::Error) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "error: {}", terminal_safe(&error.to_string()));
    for cause in error.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {}", terminal_safe(&cause.to_string()));
    }
}

/// Remote text for one line of a listing (a name, a preview): shown safe, newlines included.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    terminal_safe_line(text)
}

//! Everything `hush` prints goes through here: results on stdout (one JSON object per line
//! with `--json`), messages for people on stderr.
//!
//! A closed stdout or stderr (`hush … | head -c0`) is not an error: by the time anything is
//! printed the command has done its work, so write errors are ignored rather than turned into
//! a panic or a misleading failure.

use std::io::{self, Write};

/// Prints one JSON object on one line of stdout.
pub fn json(value: &serde_json::Value) {
    let _ = writeln!(io::stdout().lock(), "{value}");
}

/// Prints already-serialized JSON (one object) as one line of stdout.
pub fn json_bytes(serialized: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(serialized).and_then(|()| out.write_all(b"\n"));
}

/// Prints a result line on stdout.
pub fn result(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

/// Prints a message for people on stderr.
pub fn note(message: &str) {
    let _ = writeln!(io::stderr().lock(), "{message}");
}

/// Prints a prompt on stderr without a newline.
pub fn prompt(message: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(message.as_bytes()).and_then(|()| err.flush());
}

/// Prints an error and its causes on stderr.
pub fn error(error: &anyhow::Error) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
}

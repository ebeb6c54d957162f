//! Everything `hush` prints goes through here: results on stdout (one JSON object per line
//! with `--json`), messages for people on stderr.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "this module is the CLI's output"
)]

use std::io::{self, Write};

/// Prints one JSON object on one line of stdout.
pub fn json(value: &serde_json::Value) {
    println!("{value}");
}

/// Prints a result line on stdout.
pub fn result(line: &str) {
    println!("{line}");
}

/// Prints a message for people on stderr.
pub fn note(message: &str) {
    eprintln!("{message}");
}

/// Prints a prompt on stderr without a newline.
pub fn prompt(message: &str) {
    eprint!("{message}");
    let _ = io::stderr().flush();
}

/// Prints an error and its causes on stderr.
pub fn error(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

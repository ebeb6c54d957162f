//! `hush`: the command-line interface of the hush messenger.
//!
//! This binary is thin glue: it parses arguments ([`args`]) into validated settings, runs a
//! command ([`commands`]), prints the result ([`output`]) and maps failures to exit codes.
//! The protocol lives in `hush-proto`; profiles, the database, the network and messaging
//! live in `hush-client`.

#![allow(unreachable_pub, reason = "a binary crate: `pub` only marks what other modules use")]

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

/// Exit codes, as listed in `hush --help`.
pub mod exit {
    /// The command did what was asked.
    pub const OK: u8 = 0;
    /// The command failed: no account, an account already exists, an I/O error…
    pub const FAILURE: u8 = 1;
    /// The input was invalid: bad arguments, a bad recovery password or display name.
    /// Nothing was written.
    pub const INVALID_INPUT: u8 = 2;
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// Exit 2: the user's input was wrong.
    pub fn invalid_input(error: impl Into<anyhow::Error>) -> Self {
        Self { code: exit::INVALID_INPUT, error: error.into() }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        // The client library says when the input was at fault.
        let code = match error.downcast_ref::<hush_client::Error>() {
            Some(hush_client::Error::InvalidInput(_)) => exit::INVALID_INPUT,
            _ => exit::FAILURE,
        };
        Self { code, error }
    }
}

fn main() -> ExitCode {
    // `--json` anywhere asks for machine-readable errors, even when the arguments are wrong.
    let json = std::env::args_os().skip(1).any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !json || !e.use_stderr() => e.exit(),
        Err(e) => {
            let _ = e.print();
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            output::json_error("invalid_input", first.strip_prefix("error: ").unwrap_or(first));
            return ExitCode::from(exit::INVALID_INPUT);
        }
    };
    let settings = match cli.settings() {
        Ok(s) => s,
        Err(failure) => return report(&failure, json),
    };
    let result = match cli.command {
        Some(command) => commands::run(&settings, command),
        None => commands::tui::run(&settings),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => report(&failure, json),
    }
}

/// Prints a failure for people (stderr) and, with `--json`, as one JSON object on stdout:
/// `{"error":{"kind","message"}}`.
fn report(failure: &Failure, json: bool) -> ExitCode {
    output::error(&failure.error);
    if json {
        let kind = match failure.error.downcast_ref::<hush_client::Error>() {
            Some(e) => e.kind().as_str(),
            None if failure.code == exit::INVALID_INPUT => "invalid_input",
            None => "failed",
        };
        let mut message = failure.error.to_string();
        for cause in failure.error.chain().skip(1) {
            message.push_str(": ");
            message.push_str(&cause.to_string());
        }
        output::json_error(kind, &message);
    }
    ExitCode::from(failure.code)
}

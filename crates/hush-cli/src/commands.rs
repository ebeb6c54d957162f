//! The subcommands. Each takes validated [`Settings`] and returns a [`Failure`] with the right
//! exit code when it cannot do what was asked.

mod account;
mod devnet;

use crate::Failure;
use crate::args::{Command, Settings};

/// Runs `command`.
pub fn run(settings: &Settings, command: Command) -> Result<(), Failure> {
    match command {
        Command::Account(cmd) => account::run(settings, cmd),
        Command::Devnet(args) => devnet::run(settings, &args),
    }
}

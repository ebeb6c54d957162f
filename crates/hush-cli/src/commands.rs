//! The subcommands. Each takes validated [`Settings`] and returns a [`Failure`] with the right
//! exit code when it cannot do what was asked.

mod account;
mod backup;
mod daemon;
mod devnet;
mod messaging;
pub mod session;
pub mod tui;

use crate::Failure;
use crate::args::{Command, Settings};

/// Runs `command`.
pub fn run(settings: &Settings, command: Command) -> Result<(), Failure> {
    match command {
        Command::Account(cmd) => account::run(settings, cmd),
        Command::Backup(cmd) => backup::run(settings, cmd),
        Command::Devnet(args) => devnet::run(settings, &args),
        Command::Send(args) => messaging::send(settings, args),
        Command::Receive(args) => messaging::receive(settings, &args),
        Command::Conversations => messaging::conversations(settings),
        Command::Messages(args) => messaging::messages(settings, &args),
        Command::Read(a) => messaging::read(settings, &a.id),
        Command::Unread(a) => messaging::unread(settings, &a.id),
        Command::Unsend(a) => messaging::unsend(settings, a.id),
        Command::Delete(a) => messaging::delete(settings, a.id),
        Command::Retry(a) => messaging::retry(settings, a.id),
        Command::Contacts(args) => messaging::contacts(settings, args.action),
        Command::Requests(args) => messaging::requests(settings, args.action),
        Command::Block(a) => messaging::block(settings, &a.id, true),
        Command::Unblock(a) => messaging::block(settings, &a.id, false),
        Command::Settings(args) => messaging::settings_cmd(settings, args.action),
        Command::Disappearing(args) => messaging::disappearing(settings, &args),
        Command::Daemon(args) => daemon::run(settings, &args),
    }
}

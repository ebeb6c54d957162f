//! What a running client tells its UIs ([`crate::Client::subscribe`]).
//!
//! A bounded broadcast channel: a UI that falls far behind misses events (it is told how
//! many, and can re-read the database); nothing else waits for it.

use serde::Serialize;

use crate::db::{Contact, Message, MessageStatus};

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A new message: received, or sent from another device of this account.
    Message {
        /// The message.
        message: Message,
    },
    /// An outgoing message changed status.
    Status {
        /// The message's local ID.
        id: i64,
        /// Its conversation.
        conversation: String,
        /// The new status.
        status: MessageStatus,
        /// Why, when it failed.
        error: Option<String>,
    },
    /// Someone not approved wrote for the first time: a message request.
    Request {
        /// Their Account ID.
        from: String,
    },
    /// Someone started or stopped typing.
    Typing {
        /// Their Account ID.
        from: String,
        /// Started (true) or stopped.
        started: bool,
    },
    /// A message was deleted: unsent by its author, or disappeared.
    Deleted {
        /// The message's local ID.
        id: i64,
        /// Its conversation.
        conversation: String,
        /// `unsent`, `deleted` (here, or with [`crate::Client::delete_message`]) or
        /// `expired`.
        reason: &'static str,
    },
    /// A contact changed (approval, name, block).
    Contact {
        /// The contact now.
        contact: Contact,
    },
    /// A conversation's disappearing-messages setting changed.
    Disappearing {
        /// The conversation.
        conversation: String,
        /// The new setting.
        setting: crate::db::Disappearing,
    },
    /// A contact was removed on another device of this account.
    ContactRemoved {
        /// Their Account ID.
        account_id: String,
    },
    /// A conversation was read on another device of this account.
    Read {
        /// The conversation.
        conversation: String,
        /// Read up to this send time (ms).
        last_read: u64,
    },
    /// Our display name changed on another device of this account.
    Profile {
        /// The new name.
        display_name: Option<String>,
    },
}

//! The message view: who wrote each message, when, and where an outgoing one stands.

use hush_client::display::{terminal_safe, terminal_safe_line};
use hush_client::{Message, MessageStatus};

use crate::model::clock::Clock;

/// One message as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// Local ID (to retry, unsend or delete it).
    pub id: i64,
    /// "You", or the other side's name.
    pub author: String,
    /// When it was sent, local time (with the date when not today).
    pub time: String,
    /// The text.
    pub body: String,
    /// Delivery status of our messages: `…` sending, `✓` sent, `✓✓` read, `failed`.
    pub status: &'static str,
    /// Ours.
    pub outgoing: bool,
    /// Failed: can be retried.
    pub failed: bool,
    /// A disappearing message: how long it has left (`5 min`).
    pub expires_in: Option<String>,
}

fn status(m: &Message) -> &'static str {
    if !m.outgoing {
        return "";
    }
    match m.status {
        MessageStatus::Sending => "…",
        MessageStatus::Sent => "✓",
        MessageStatus::Read => "✓✓",
        MessageStatus::Failed => "failed",
        MessageStatus::Received => "",
    }
}

/// The rows of a conversation's messages; `their_name` is how to call the other side.
pub fn rows(messages: &[Message], their_name: &str, clock: &Clock) -> Vec<MessageRow> {
    messages
        .iter()
        .map(|m| MessageRow {
            id: m.id,
            author: if m.outgoing {
                "You".to_owned()
            } else {
                terminal_safe_line(their_name).into_owned()
            },
            time: clock.message_time(m.sent_at),
            // Other people's text: escape sequences and overrides shown, not obeyed.
            body: terminal_safe(&m.body).into_owned(),
            status: status(m),
            outgoing: m.outgoing,
            failed: m.status == MessageStatus::Failed,
            expires_in: m.expires_at.map(|at| clock.remaining(at)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use hush_client::Disappearing;
    use jiff::tz::TimeZone;

    use super::*;

    fn message(id: i64, outgoing: bool, status: MessageStatus) -> Message {
        Message {
            id,
            conversation: "05bb".into(),
            outgoing,
            author: "05bb".into(),
            body: format!("m{id}"),
            sent_at: 1_700_000_000_000 + id as u64 * 60_000,
            received_at: 0,
            status,
            error: None,
            hash: None,
            disappearing: Disappearing::Off,
            expires_at: None,
            synced: false,
        }
    }

    #[test]
    fn rows_show_author_time_and_status() {
        let list = rows(
            &[
                message(1, false, MessageStatus::Received),
                Message {
                    expires_at: Some(1_700_000_000_000 + 14 * 60_000 + 30_000),
                    ..message(2, true, MessageStatus::Sending)
                },
                message(3, true, MessageStatus::Sent),
                message(4, true, MessageStatus::Read),
                message(5, true, MessageStatus::Failed),
            ],
            "Bob",
            &Clock::new(TimeZone::UTC, 1_700_000_000_000 + 10 * 60_000),
        );
        let statuses: Vec<&str> = list.iter().map(|r| r.status).collect();
        assert_eq!(statuses, ["", "…", "✓", "✓✓", "failed"]);
        assert_eq!((list[0].author.as_str(), list[1].author.as_str()), ("Bob", "You"));
        assert_eq!(list[0].time, "22:14");
        assert!(list[4].failed && !list[3].failed);
        assert_eq!(
            (list[0].expires_in.as_deref(), list[1].expires_in.as_deref()),
            (None, Some("4 min"))
        );
    }

    #[test]
    fn remote_text_cannot_drive_the_terminal() {
        let hostile = Message {
            body: "\u{1b}[2J\u{1b}]0;title\u{7}forged\u{202e}txt.exe\nsecond line".into(),
            ..message(1, false, MessageStatus::Received)
        };
        let clock = Clock::new(TimeZone::UTC, 1_700_000_000_000);
        let row = &rows(&[hostile], "Mallory\u{1b}[31m\nYou", &clock)[0];
        assert_eq!(row.body, "␛[2J␛]0;title␇forged<U+202E>txt.exe\nsecond line");
        assert_eq!(row.author, "Mallory␛[31m␊You");
    }
}

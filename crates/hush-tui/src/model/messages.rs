//! The message view: who wrote each message, when, and where an outgoing one stands.

use hush_client::{Message, MessageStatus};

/// One message as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// Local ID (to retry, unsend or delete it).
    pub id: i64,
    /// "You", or the other side's name.
    pub author: String,
    /// When it was sent, `HH:MM` (UTC).
    pub time: String,
    /// The text.
    pub body: String,
    /// Delivery status of our messages: `…` sending, `✓` sent, `✓✓` read, `failed`.
    pub status: &'static str,
    /// Ours.
    pub outgoing: bool,
    /// Failed: can be retried.
    pub failed: bool,
}

/// `HH:MM` of a time in ms since the epoch (UTC).
pub fn clock(ms: u64) -> String {
    let minutes = ms / 60_000;
    format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60)
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
pub fn rows(messages: &[Message], their_name: &str) -> Vec<MessageRow> {
    messages
        .iter()
        .map(|m| MessageRow {
            id: m.id,
            author: if m.outgoing { "You".to_owned() } else { their_name.to_owned() },
            time: clock(m.sent_at),
            body: m.body.clone(),
            status: status(m),
            outgoing: m.outgoing,
            failed: m.status == MessageStatus::Failed,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use hush_client::Disappearing;

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
                message(2, true, MessageStatus::Sending),
                message(3, true, MessageStatus::Sent),
                message(4, true, MessageStatus::Read),
                message(5, true, MessageStatus::Failed),
            ],
            "Bob",
        );
        let statuses: Vec<&str> = list.iter().map(|r| r.status).collect();
        assert_eq!(statuses, ["", "…", "✓", "✓✓", "failed"]);
        assert_eq!((list[0].author.as_str(), list[1].author.as_str()), ("Bob", "You"));
        assert_eq!(list[0].time, "22:14");
        assert!(list[4].failed && !list[3].failed);
    }
}

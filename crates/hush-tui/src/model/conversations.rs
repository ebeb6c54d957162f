//! The conversation list: pinned conversations first, then by latest activity (the order the
//! database gives), with unread counts and a preview; message requests in their own section.

use hush_client::display::terminal_safe_line;
use hush_client::{Contact, Conversation, Disappearing};

/// Longest preview, in characters.
const PREVIEW_CHARS: usize = 60;

/// One row of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    /// The conversation (the other account's ID; ours for Note to Self).
    pub id: String,
    /// What to call it.
    pub title: String,
    /// The newest message, on one line, shortened.
    pub preview: String,
    /// Unread messages (1 when marked unread by hand with none).
    pub unread: u64,
    /// Pinned.
    pub pinned: bool,
    /// A message request.
    pub is_request: bool,
    /// We blocked them.
    pub blocked: bool,
    /// The disappearing-messages setting.
    pub disappearing: Disappearing,
}

/// `05ab…cdef`: an Account ID short enough for a list.
pub fn short_id(id: &str) -> String {
    if id.len() > 12 { format!("{}…{}", &id[..4], &id[id.len() - 4..]) } else { id.to_owned() }
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = terminal_safe_line(&flat).into_owned();
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The rows for conversations (`me` is our Account ID: Note to Self; `contacts` tell who is
/// blocked).
pub fn rows(
    conversations: &[Conversation],
    me: &str,
    contacts: &[Contact],
) -> Vec<ConversationRow> {
    conversations
        .iter()
        .map(|c| ConversationRow {
            id: c.id.clone(),
            title: if c.id == me {
                "Note to Self".to_owned()
            } else {
                c.name
                    .as_deref()
                    .map_or_else(|| short_id(&c.id), |n| terminal_safe_line(n).into_owned())
            },
            preview: c
                .last_message
                .as_deref()
                .map(|m| one_line(m, PREVIEW_CHARS))
                .unwrap_or_default(),
            unread: if c.marked_unread { c.unread.max(1) } else { c.unread },
            pinned: c.pinned,
            is_request: c.is_request,
            blocked: contacts.iter().any(|k| k.blocked && k.account_id == c.id),
            disappearing: c.disappearing,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use hush_client::Disappearing;

    use super::*;

    fn convo(id: &str, name: Option<&str>, last: Option<&str>) -> Conversation {
        Conversation {
            id: id.into(),
            name: name.map(Into::into),
            last_activity: 1,
            unread: 0,
            is_request: false,
            disappearing: Disappearing::Off,
            last_message: last.map(Into::into),
            pinned: false,
            marked_unread: false,
        }
    }

    #[test]
    fn rows_name_shorten_and_count() {
        let me = format!("05{}", "a".repeat(64));
        let bob = format!("05{}", "b".repeat(64));
        let mut marked = convo(&bob, None, Some("line one\nline   two"));
        marked.marked_unread = true;
        let list = rows(
            &[convo(&me, None, None), marked, convo("05cc", Some("Carol"), Some(&"x".repeat(100)))],
            &me,
            &[],
        );
        assert_eq!(list[0].title, "Note to Self");
        assert_eq!(list[1].title, "05bb…bbbb");
        assert_eq!(list[1].preview, "line one line two");
        assert_eq!(list[1].unread, 1, "marked unread shows as one");
        assert_eq!(list[2].title, "Carol");
        assert_eq!(list[2].preview.chars().count(), PREVIEW_CHARS);
        assert!(list[2].preview.ends_with('…'));
    }
}

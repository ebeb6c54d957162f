//! The contacts screen: everyone we have a contact entry for (accepted, blocked, or whose
//! request we have not answered), by name, with what applies to each.

use hush_client::Contact;
use hush_client::display::terminal_safe_line;

use crate::model::conversations::short_id;

/// One contact as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRow {
    /// Their Account ID.
    pub id: String,
    /// Our nickname for them, else their display name, else a short ID.
    pub title: String,
    /// Their own name when we call them otherwise, and their state (blocked, pinned, …).
    pub detail: String,
    /// Their messages are dropped.
    pub blocked: bool,
    /// Pinned to the top of the conversation list.
    pub pinned: bool,
    /// The nickname we gave them.
    pub nickname: Option<String>,
}

/// What to call a contact.
/// Names come from other people (or other devices): shown safe, on one line.
pub fn name_of(c: &Contact) -> String {
    match c.nickname.as_deref().or(c.display_name.as_deref()) {
        Some(name) => terminal_safe_line(name).into_owned(),
        None => short_id(&c.account_id),
    }
}

/// The rows, sorted by name (case-insensitive); our own entry is left out.
pub fn rows(contacts: &[Contact], me: &str) -> Vec<ContactRow> {
    let mut rows: Vec<ContactRow> = contacts
        .iter()
        .filter(|c| c.account_id != me)
        .map(|c| {
            let mut detail = Vec::new();
            if let (Some(_), Some(own)) = (&c.nickname, &c.display_name) {
                detail.push(format!("calls themselves {}", terminal_safe_line(own)));
            }
            if c.blocked {
                detail.push("blocked".to_owned());
            } else if !c.approved {
                detail.push("request not accepted".to_owned());
            }
            if c.priority > 0 {
                detail.push("pinned".to_owned());
            }
            ContactRow {
                id: c.account_id.clone(),
                title: name_of(c),
                detail: detail.join(" · "),
                blocked: c.blocked,
                pinned: c.priority > 0,
                nickname: c.nickname.clone(),
            }
        })
        .collect();
    rows.sort_by_cached_key(|r| (r.title.to_lowercase(), r.id.clone()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, name: Option<&str>, nickname: Option<&str>) -> Contact {
        Contact {
            account_id: id.into(),
            display_name: name.map(Into::into),
            nickname: nickname.map(Into::into),
            approved: true,
            approved_me: true,
            blocked: false,
            priority: 0,
            notifications: 0,
            mute_until: 0,
        }
    }

    #[test]
    fn contacts_are_named_sorted_and_described() {
        let mut mallory = contact("05mm", Some("mallory"), None);
        mallory.blocked = true;
        let mut stranger = contact(&format!("05{}", "c".repeat(64)), None, None);
        stranger.approved = false;
        let mut bob = contact("05bb", Some("Robert"), Some("Bob"));
        bob.priority = 1;
        let list = rows(&[mallory, contact("05me", Some("Me"), None), stranger, bob], "05me");
        let titles: Vec<&str> = list.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["05cc…cccc", "Bob", "mallory"]);
        assert_eq!(list[0].detail, "request not accepted");
        assert_eq!(list[1].detail, "calls themselves Robert · pinned");
        assert!(list[1].pinned && list[2].blocked);
        assert_eq!(list[2].detail, "blocked");
    }
}

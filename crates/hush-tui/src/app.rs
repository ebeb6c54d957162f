//! The application state and what keys do to it. No terminal and no network here: keys
//! become [`Action`]s that the event loop carries out on the client, and the loop feeds the
//! results back with [`App::set_conversations`] and [`App::set_messages`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hush_client::Disappearing;
use zeroize::Zeroizing;

use crate::model::account_input::{IdCheck, check_account_id};
use crate::model::composer::{Composer, ComposerOutcome};
use crate::model::contacts::ContactRow;
use crate::model::conversations::{ConversationRow, short_id};
use crate::model::disappearing;
use crate::model::messages::MessageRow;

/// Which pane has the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The conversation list.
    List,
    /// The composer of the open conversation.
    Composer,
}

/// The colour scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThemeName {
    /// Light text on a dark terminal.
    #[default]
    Dark,
    /// Dark text on a light terminal.
    Light,
    /// No colours, only bold and reverse (also what `NO_COLOR` gives).
    Mono,
}

impl ThemeName {
    /// The name stored in the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dark => "dark",
            Self::Light => "light",
            Self::Mono => "mono",
        }
    }

    /// A stored name (anything else is the default).
    pub fn parse(s: &str) -> Self {
        match s {
            "light" => Self::Light,
            "mono" => Self::Mono,
            _ => Self::Dark,
        }
    }

    /// The next one (the account screen's `c` cycles through them).
    pub fn next(self) -> Self {
        match self {
            Self::Dark => Self::Light,
            Self::Light => Self::Mono,
            Self::Mono => Self::Dark,
        }
    }
}

/// A secret text (a passphrase, the recovery password): zeroized when dropped and never
/// shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Hidden(pub Zeroizing<String>);

impl Hidden {
    /// The text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hidden(..)")
    }
}

/// Showing the recovery password from the account screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// "Anyone who sees it can take the account" — y to go on.
    Confirm,
    /// The account is sealed with a passphrase: type it.
    Passphrase(Hidden),
    /// The words (and on request the QR code).
    Shown {
        /// The recovery password.
        words: Hidden,
        /// Draw the QR code too.
        qr: bool,
    },
}

/// A window over the main screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// None.
    None,
    /// The key bindings.
    Help,
    /// Starting a conversation: the Account ID typed so far.
    NewConversation(String),
    /// The account: Account ID (with a QR code), settings, network status.
    Account,
    /// Changing our display name: typed so far.
    DisplayName(String),
    /// The recovery password, behind a confirmation.
    RecoveryPassword(Reveal),
    /// The contacts screen.
    Contacts {
        /// The selected contact.
        selected: usize,
    },
    /// Giving a contact a nickname.
    Nickname {
        /// The contact.
        id: String,
        /// Typed so far.
        typed: String,
    },
    /// Choosing a conversation's disappearing-messages setting.
    Disappearing {
        /// The conversation.
        conversation: String,
        /// The highlighted choice (an index into [`disappearing::choices`]).
        selected: usize,
    },
    /// "Are you sure?" before something that cannot be taken back.
    Confirm {
        /// The question.
        question: String,
        /// What y does.
        action: Box<Action>,
    },
}

/// Something for the event loop to do with the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a text.
    Send {
        /// The conversation.
        to: String,
        /// The text.
        text: String,
    },
    /// Open (and mark read) a conversation.
    Open(String),
    /// Accept a message request.
    Accept(String),
    /// Decline a message request.
    Decline(String),
    /// Block an account.
    Block(String),
    /// Unblock an account.
    Unblock(String),
    /// Remove a contact.
    RemoveContact(String),
    /// Give a contact a nickname (or take it away).
    SetNickname {
        /// The contact.
        id: String,
        /// The nickname.
        nickname: Option<String>,
    },
    /// Pin or unpin a conversation.
    SetPinned {
        /// The conversation.
        id: String,
        /// Pinned.
        pinned: bool,
    },
    /// Mark a conversation unread.
    MarkUnread(String),
    /// Change a conversation's disappearing-messages setting.
    SetDisappearing {
        /// The conversation.
        conversation: String,
        /// The setting.
        setting: Disappearing,
    },
    /// Try a failed message again.
    Retry(i64),
    /// Unsend our message (for everyone).
    Unsend(i64),
    /// Delete a message for us (on our devices).
    Delete(i64),
    /// Turn read receipts on or off.
    SetReadReceipts(bool),
    /// Turn typing indicators on or off.
    SetTypingIndicators(bool),
    /// Change the colours.
    SetTheme(ThemeName),
    /// Change our display name.
    SetDisplayName(Option<String>),
    /// Load the recovery password (opening the account file with this passphrase if sealed).
    RevealPassword(Option<Hidden>),
    /// Tell the other side we are typing (or stopped).
    Typing {
        /// The conversation.
        to: String,
        /// Started or stopped.
        started: bool,
    },
    /// Leave.
    Quit,
}

/// Everything the screens show.
#[derive(Clone, Debug)]
pub struct App {
    /// Our Account ID.
    pub me: String,
    /// Our display name.
    pub my_name: Option<String>,
    /// Conversations, then message requests.
    pub rows: Vec<ConversationRow>,
    /// The selected row.
    pub selected: usize,
    /// The open conversation.
    pub open: Option<String>,
    /// Its messages, oldest first.
    pub messages: Vec<MessageRow>,
    /// The selected message (for retry / unsend / delete), counted from the newest.
    pub message_cursor: usize,
    /// Contacts (for the contacts screen).
    pub contacts: Vec<ContactRow>,
    /// The text being written.
    pub composer: Composer,
    /// Which pane has the keyboard.
    pub focus: Focus,
    /// The window shown over the main screen.
    pub overlay: Overlay,
    /// A line about the last thing that happened (or went wrong).
    pub status: String,
    /// Whether the other side of the open conversation is typing.
    pub typing: bool,
    /// Requests waiting in the outbox.
    pub pending: u64,
    /// Read receipts are on.
    pub read_receipts: bool,
    /// Typing indicators are on.
    pub typing_indicators: bool,
    /// The colours.
    pub theme: ThemeName,
    /// The account file is sealed with a passphrase.
    pub locked: bool,
    /// Onion paths in use.
    pub paths: usize,
    /// Successful and failed polls of our swarm.
    pub polls: (u64, u64),
    /// When our swarm last answered a poll (`3 s ago`).
    pub last_sync: Option<String>,
    /// Whether we told the other side we are typing.
    typing_sent: bool,
}

/// Ctrl held.
fn ctrl(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Up and down in a list of `len` (arrows and vim keys); `None` for other keys.
fn moved(key: &KeyEvent, at: usize, len: usize) -> Option<usize> {
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => Some((at + 1).min(last)),
        KeyCode::Up | KeyCode::Char('k') => Some(at.saturating_sub(1)),
        KeyCode::Home | KeyCode::Char('g') => Some(0),
        KeyCode::End | KeyCode::Char('G') => Some(last),
        _ => None,
    }
}

/// Typing into a one-line field.
fn edit(buffer: &mut String, key: &KeyEvent) {
    match key.code {
        KeyCode::Backspace => {
            buffer.pop();
        }
        KeyCode::Char('u') if ctrl(key) => buffer.clear(),
        KeyCode::Char(c) if !ctrl(key) => buffer.push(c),
        _ => {}
    }
}

impl App {
    /// An empty screen for account `me`.
    pub fn new(me: String, my_name: Option<String>) -> Self {
        Self {
            me,
            my_name,
            rows: Vec::new(),
            selected: 0,
            open: None,
            messages: Vec::new(),
            message_cursor: 0,
            contacts: Vec::new(),
            composer: Composer::default(),
            focus: Focus::List,
            overlay: Overlay::None,
            status: "? for help".to_owned(),
            typing: false,
            pending: 0,
            read_receipts: false,
            typing_indicators: false,
            theme: ThemeName::default(),
            locked: false,
            paths: 0,
            polls: (0, 0),
            last_sync: None,
            typing_sent: false,
        }
    }

    /// New conversation rows (the selection follows its conversation).
    pub fn set_conversations(&mut self, rows: Vec<ConversationRow>) {
        let selected_id = self.rows.get(self.selected).map(|r| r.id.clone());
        self.rows = rows;
        self.selected = selected_id
            .and_then(|id| self.rows.iter().position(|r| r.id == id))
            .unwrap_or(0)
            .min(self.rows.len().saturating_sub(1));
    }

    /// The open conversation's messages.
    pub fn set_messages(&mut self, messages: Vec<MessageRow>) {
        self.messages = messages;
        self.message_cursor = self.message_cursor.min(self.messages.len().saturating_sub(1));
    }

    /// New contact rows (the selection on the contacts screen stays in range).
    pub fn set_contacts(&mut self, contacts: Vec<ContactRow>) {
        self.contacts = contacts;
        if let Overlay::Contacts { selected } = &mut self.overlay {
            *selected = (*selected).min(self.contacts.len().saturating_sub(1));
        }
    }

    /// Shows the recovery password the loop loaded.
    pub fn show_recovery_password(&mut self, words: Hidden) {
        self.overlay = Overlay::RecoveryPassword(Reveal::Shown { words, qr: false });
    }

    /// The selected row.
    pub fn selected_row(&self) -> Option<&ConversationRow> {
        self.rows.get(self.selected)
    }

    /// The open conversation's row.
    pub fn open_row(&self) -> Option<&ConversationRow> {
        self.open.as_ref().and_then(|id| self.rows.iter().find(|r| &r.id == id))
    }

    /// The title of the open conversation.
    pub fn open_title(&self) -> String {
        match (&self.open, self.open_row()) {
            (_, Some(row)) => row.title.clone(),
            (Some(id), None) => short_id(id),
            _ => String::new(),
        }
    }

    /// The message chosen with ↑/↓ in the open conversation.
    pub fn selected_message(&self) -> Option<&MessageRow> {
        self.messages.len().checked_sub(1 + self.message_cursor).and_then(|i| self.messages.get(i))
    }

    fn title_of(&self, id: &str) -> String {
        self.rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.title.clone())
            .or_else(|| self.contacts.iter().find(|c| c.id == id).map(|c| c.title.clone()))
            .unwrap_or_else(|| short_id(id))
    }

    fn confirm(&mut self, question: String, action: Action) {
        self.overlay = Overlay::Confirm { question, action: Box::new(action) };
    }

    fn open_conversation(&mut self, id: String) -> Vec<Action> {
        self.overlay = Overlay::None;
        self.open = Some(id.clone());
        self.message_cursor = 0;
        self.focus = Focus::Composer;
        vec![Action::Open(id)]
    }

    /// The disappearing-messages setting of a conversation.
    pub fn disappearing_of(&self, conversation: &str) -> Disappearing {
        self.rows
            .iter()
            .find(|r| r.id == conversation)
            .map_or(Disappearing::Off, |r| r.disappearing)
    }

    fn choose_disappearing(&mut self, conversation: String) {
        let selected = disappearing::position(self.disappearing_of(&conversation));
        self.overlay = Overlay::Disappearing { conversation, selected };
    }

    fn block_or_unblock(&mut self, id: String, blocked: bool) -> Vec<Action> {
        if blocked {
            return vec![Action::Unblock(id)];
        }
        let name = self.title_of(&id);
        self.confirm(
            format!("Block {name}? Their messages will be dropped, on all your devices."),
            Action::Block(id),
        );
        Vec::new()
    }

    /// Handles a key; returns what the loop should do.
    pub fn key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.code == KeyCode::Char('c') && ctrl(&key) {
            return vec![Action::Quit];
        }
        // Terminals send Alt+x as Esc, x: a quick Esc then a key arrives as Alt+key. Outside
        // the composer (where Alt-Enter breaks the line) it is read as the two keys.
        if key.modifiers.contains(KeyModifiers::ALT)
            && matches!(key.code, KeyCode::Char(_))
            && !(self.overlay == Overlay::None && self.focus == Focus::Composer)
        {
            let mut actions = self.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
            actions.extend(self.key(KeyEvent::new(key.code, key.modifiers - KeyModifiers::ALT)));
            return actions;
        }
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::None => {}
            overlay => return self.overlay_key(overlay, key),
        }
        match self.focus {
            Focus::List => self.list_key(key),
            Focus::Composer => self.composer_key(key),
        }
    }

    /// A key while `overlay` is shown (taken out of `self.overlay`; put back unless closed).
    fn overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Action> {
        let closes = matches!(key.code, KeyCode::Esc);
        match overlay {
            Overlay::None => Vec::new(),
            Overlay::Help => {
                if !matches!(key.code, KeyCode::Esc | KeyCode::Char('q' | '?') | KeyCode::Enter) {
                    self.overlay = Overlay::Help;
                }
                Vec::new()
            }
            Overlay::NewConversation(mut typed) => {
                if closes {
                    return Vec::new();
                }
                if key.code == KeyCode::Enter
                    && let IdCheck::Valid(id) = check_account_id(&typed)
                {
                    return self.open_conversation(id.to_string());
                }
                edit(&mut typed, &key);
                self.overlay = Overlay::NewConversation(typed);
                Vec::new()
            }
            Overlay::Account => self.account_key(key),
            Overlay::DisplayName(mut typed) => {
                match key.code {
                    KeyCode::Esc => self.overlay = Overlay::Account,
                    KeyCode::Enter => {
                        self.overlay = Overlay::Account;
                        let name = typed.trim();
                        return vec![Action::SetDisplayName(
                            (!name.is_empty()).then(|| name.to_owned()),
                        )];
                    }
                    _ => {
                        edit(&mut typed, &key);
                        self.overlay = Overlay::DisplayName(typed);
                    }
                }
                Vec::new()
            }
            Overlay::RecoveryPassword(reveal) => self.reveal_key(reveal, key),
            Overlay::Contacts { selected } => self.contacts_key(selected, key),
            Overlay::Nickname { id, mut typed } => {
                match key.code {
                    KeyCode::Esc => {}
                    KeyCode::Enter => {
                        let nickname = typed.trim();
                        let action = Action::SetNickname {
                            id: id.clone(),
                            nickname: (!nickname.is_empty()).then(|| nickname.to_owned()),
                        };
                        let selected = self.contacts.iter().position(|c| c.id == id).unwrap_or(0);
                        self.overlay = Overlay::Contacts { selected };
                        return vec![action];
                    }
                    _ => {
                        edit(&mut typed, &key);
                        self.overlay = Overlay::Nickname { id, typed };
                        return Vec::new();
                    }
                }
                let selected = self.contacts.iter().position(|c| c.id == id).unwrap_or(0);
                self.overlay = Overlay::Contacts { selected };
                Vec::new()
            }
            Overlay::Disappearing { conversation, selected } => {
                let choices = disappearing::choices(self.disappearing_of(&conversation));
                if let Some(selected) = moved(&key, selected, choices.len()) {
                    self.overlay = Overlay::Disappearing { conversation, selected };
                    return Vec::new();
                }
                match key.code {
                    KeyCode::Enter => {
                        let setting = choices.get(selected).copied().unwrap_or(Disappearing::Off);
                        vec![Action::SetDisappearing { conversation, setting }]
                    }
                    KeyCode::Esc | KeyCode::Char('q') => Vec::new(),
                    _ => {
                        self.overlay = Overlay::Disappearing { conversation, selected };
                        Vec::new()
                    }
                }
            }
            Overlay::Confirm { question, action } => match key.code {
                KeyCode::Char('y' | 'Y') => vec![*action],
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => Vec::new(),
                _ => {
                    self.overlay = Overlay::Confirm { question, action };
                    Vec::new()
                }
            },
        }
    }

    fn account_key(&mut self, key: KeyEvent) -> Vec<Action> {
        self.overlay = Overlay::Account;
        match key.code {
            KeyCode::Char('r') => return vec![Action::SetReadReceipts(!self.read_receipts)],
            KeyCode::Char('t') => {
                return vec![Action::SetTypingIndicators(!self.typing_indicators)];
            }
            KeyCode::Char('c') => return vec![Action::SetTheme(self.theme.next())],
            KeyCode::Char('n') => {
                self.overlay = Overlay::DisplayName(self.my_name.clone().unwrap_or_default());
            }
            KeyCode::Char('p') => self.overlay = Overlay::RecoveryPassword(Reveal::Confirm),
            KeyCode::Esc | KeyCode::Char('q' | 'a') | KeyCode::Enter => {
                self.overlay = Overlay::None;
            }
            _ => {}
        }
        Vec::new()
    }

    fn reveal_key(&mut self, reveal: Reveal, key: KeyEvent) -> Vec<Action> {
        match reveal {
            Reveal::Confirm => match key.code {
                KeyCode::Char('y' | 'Y') if self.locked => {
                    // Room enough that typing never reallocates (and leaves copies behind).
                    let typed = Hidden(Zeroizing::new(String::with_capacity(256)));
                    self.overlay = Overlay::RecoveryPassword(Reveal::Passphrase(typed));
                }
                KeyCode::Char('y' | 'Y') => return vec![Action::RevealPassword(None)],
                _ => self.overlay = Overlay::Account,
            },
            Reveal::Passphrase(mut typed) => match key.code {
                KeyCode::Esc => self.overlay = Overlay::Account,
                KeyCode::Enter => {
                    self.overlay = Overlay::Account;
                    return vec![Action::RevealPassword(Some(typed))];
                }
                _ => {
                    edit(&mut typed.0, &key);
                    self.overlay = Overlay::RecoveryPassword(Reveal::Passphrase(typed));
                }
            },
            Reveal::Shown { words, qr } => match key.code {
                KeyCode::Char('q') => {
                    self.overlay = Overlay::RecoveryPassword(Reveal::Shown { words, qr: !qr });
                }
                // Anything else hides the words (and drops them, zeroized).
                _ => self.overlay = Overlay::Account,
            },
        }
        Vec::new()
    }

    fn contacts_key(&mut self, selected: usize, key: KeyEvent) -> Vec<Action> {
        if let Some(selected) = moved(&key, selected, self.contacts.len()) {
            self.overlay = Overlay::Contacts { selected };
            return Vec::new();
        }
        self.overlay = Overlay::Contacts { selected };
        let Some(contact) = self.contacts.get(selected).cloned() else {
            if matches!(key.code, KeyCode::Esc | KeyCode::Char('q' | 'c')) {
                self.overlay = Overlay::None;
            }
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc | KeyCode::Char('q' | 'c') => self.overlay = Overlay::None,
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                return self.open_conversation(contact.id);
            }
            KeyCode::Char('b' | 'B') => return self.block_or_unblock(contact.id, contact.blocked),
            KeyCode::Char('e' | 'r') => {
                self.overlay = Overlay::Nickname {
                    id: contact.id,
                    typed: contact.nickname.unwrap_or_default(),
                };
            }
            KeyCode::Char('p') => {
                return vec![Action::SetPinned { id: contact.id, pinned: !contact.pinned }];
            }
            KeyCode::Char('x' | 'd') => {
                self.confirm(
                    format!(
                        "Remove {} from your contacts? The conversation stays; their new \
                         messages arrive as a request.",
                        contact.title
                    ),
                    Action::RemoveContact(contact.id),
                );
            }
            _ => {}
        }
        Vec::new()
    }

    /// Pasted text: into the composer or the field being typed.
    pub fn paste(&mut self, text: &str) {
        match &mut self.overlay {
            Overlay::NewConversation(typed) => typed.push_str(text.trim()),
            Overlay::DisplayName(typed) | Overlay::Nickname { typed, .. } => {
                typed.push_str(text.trim());
            }
            Overlay::RecoveryPassword(Reveal::Passphrase(typed)) => typed.0.push_str(text),
            Overlay::None if self.focus == Focus::Composer => self.composer.insert(text),
            _ => {}
        }
    }

    fn list_key(&mut self, key: KeyEvent) -> Vec<Action> {
        if let Some(selected) = moved(&key, self.selected, self.rows.len()) {
            self.selected = selected;
            return Vec::new();
        }
        match key.code {
            KeyCode::Char('q') => return vec![Action::Quit],
            KeyCode::Char('?') => self.overlay = Overlay::Help,
            KeyCode::Char('a') => self.overlay = Overlay::Account,
            KeyCode::Char('c') => self.overlay = Overlay::Contacts { selected: 0 },
            KeyCode::Char('n') => self.overlay = Overlay::NewConversation(String::new()),
            KeyCode::Char('N') => return self.open_conversation(self.me.clone()),
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') | KeyCode::Tab => {
                if let Some(row) = self.selected_row() {
                    return self.open_conversation(row.id.clone());
                }
            }
            _ => {}
        }
        let Some(row) = self.selected_row().cloned() else { return Vec::new() };
        match key.code {
            KeyCode::Char('A') if row.is_request => return vec![Action::Accept(row.id)],
            KeyCode::Char('D') if row.is_request => self.confirm(
                format!("Decline the request from {} and delete its messages?", row.title),
                Action::Decline(row.id),
            ),
            KeyCode::Char('B') if row.id != self.me => {
                return self.block_or_unblock(row.id, row.blocked);
            }
            KeyCode::Char('p') if !row.is_request => {
                return vec![Action::SetPinned { id: row.id, pinned: !row.pinned }];
            }
            KeyCode::Char('u') => return vec![Action::MarkUnread(row.id)],
            KeyCode::Char('t') => self.choose_disappearing(row.id),
            _ => {}
        }
        Vec::new()
    }

    fn composer_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(open) = self.open.clone() else {
            self.focus = Focus::List;
            return Vec::new();
        };
        let mut actions = Vec::new();
        match key.code {
            KeyCode::Esc | KeyCode::BackTab => {
                self.focus = Focus::List;
                self.message_cursor = 0;
                if self.typing_sent {
                    self.typing_sent = false;
                    actions.push(Action::Typing { to: open, started: false });
                }
                return actions;
            }
            KeyCode::Up if self.composer.is_empty() => {
                self.message_cursor =
                    (self.message_cursor + 1).min(self.messages.len().saturating_sub(1));
                return actions;
            }
            KeyCode::Down if self.composer.is_empty() => {
                self.message_cursor = self.message_cursor.saturating_sub(1);
                return actions;
            }
            KeyCode::Char('r') if ctrl(&key) => {
                if let Some(m) = self.selected_message().filter(|m| m.failed) {
                    actions.push(Action::Retry(m.id));
                }
                return actions;
            }
            KeyCode::Char('x') if ctrl(&key) => {
                if let Some(m) = self.selected_message().filter(|m| m.outgoing) {
                    let id = m.id;
                    self.confirm(
                        "Unsend this message? It is deleted for everyone in the conversation."
                            .to_owned(),
                        Action::Unsend(id),
                    );
                }
                return actions;
            }
            KeyCode::Char('d') if ctrl(&key) => {
                if let Some(m) = self.selected_message() {
                    let id = m.id;
                    self.confirm(
                        "Delete this message on your devices? The other side keeps theirs."
                            .to_owned(),
                        Action::Delete(id),
                    );
                }
                return actions;
            }
            KeyCode::Char('t') if ctrl(&key) => {
                self.choose_disappearing(open);
                return actions;
            }
            _ => {}
        }
        match self.composer.key(key) {
            ComposerOutcome::Send(text) => {
                self.typing_sent = false;
                self.message_cursor = 0;
                actions.push(Action::Send { to: open, text });
            }
            ComposerOutcome::Edited if !self.typing_sent && !self.composer.is_empty() => {
                self.typing_sent = true;
                actions.push(Action::Typing { to: open, started: true });
            }
            _ => {}
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ch(c: char) -> KeyEvent {
        key(KeyCode::Char(c))
    }

    fn ctrl_key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn row(id: &str, is_request: bool) -> ConversationRow {
        ConversationRow {
            id: id.into(),
            title: id.into(),
            preview: String::new(),
            unread: 0,
            pinned: false,
            is_request,
            blocked: false,
            disappearing: Disappearing::Off,
        }
    }

    fn contact(id: &str, blocked: bool) -> ContactRow {
        ContactRow {
            id: id.into(),
            title: format!("name of {id}"),
            detail: String::new(),
            blocked,
            pinned: false,
            nickname: None,
        }
    }

    #[test]
    fn open_a_conversation_write_and_send() {
        let mut app = App::new("05me".into(), None);
        app.set_conversations(vec![row("05aa", false), row("05bb", true)]);
        app.key(ch('j'));
        assert_eq!(app.selected_row().unwrap().id, "05bb");
        assert_eq!(app.key(ch('A')), [Action::Accept("05bb".into())]);
        // The selection follows its conversation when the list changes.
        app.set_conversations(vec![row("05cc", false), row("05aa", false), row("05bb", false)]);
        assert_eq!(app.selected_row().unwrap().id, "05bb");
        assert_eq!(app.key(key(KeyCode::Enter)), [Action::Open("05bb".into())]);
        assert_eq!(app.focus, Focus::Composer);
        assert_eq!(app.key(ch('h')), [Action::Typing { to: "05bb".into(), started: true }]);
        assert!(app.key(ch('i')).is_empty(), "typing is said once");
        assert_eq!(
            app.key(key(KeyCode::Enter)),
            [Action::Send { to: "05bb".into(), text: "hi".into() }]
        );
        assert!(app.key(key(KeyCode::Esc)).is_empty());
        assert_eq!(app.focus, Focus::List);
        assert_eq!(app.key(ch('N')), [Action::Open("05me".into())], "Note to Self");
        app.key(key(KeyCode::Esc));
        assert_eq!(app.key(ch('q')), [Action::Quit]);
    }

    #[test]
    fn list_keys_pin_mark_unread_and_ask_before_declining_or_blocking() {
        let mut app = App::new("05me".into(), None);
        let mut blocked = row("05cc", false);
        blocked.blocked = true;
        app.set_conversations(vec![row("05aa", false), row("05bb", true), blocked]);
        assert_eq!(app.key(ch('p')), [Action::SetPinned { id: "05aa".into(), pinned: true }]);
        assert_eq!(app.key(ch('u')), [Action::MarkUnread("05aa".into())]);
        app.key(ch('j'));
        assert!(app.key(ch('p')).is_empty(), "requests are not pinned");
        assert!(app.key(ch('D')).is_empty(), "declining asks first");
        assert!(matches!(app.overlay, Overlay::Confirm { .. }));
        assert!(app.key(ch('n')).is_empty());
        assert_eq!(app.overlay, Overlay::None);
        app.key(ch('D'));
        assert_eq!(app.key(ch('y')), [Action::Decline("05bb".into())]);
        app.key(ch('B'));
        assert_eq!(app.key(ch('y')), [Action::Block("05bb".into())]);
        // A blocked conversation is unblocked at once.
        app.key(ch('G'));
        assert_eq!(app.key(ch('B')), [Action::Unblock("05cc".into())]);
    }

    #[test]
    fn a_new_conversation_needs_a_valid_account_id() {
        let id = "05d871fc80ca007eed9b2f4df72853e2a2d5465a92fcb1889fb5c84aa2833b3b40";
        let mut app = App::new("05me".into(), None);
        app.key(ch('n'));
        app.paste(&id[..10]);
        assert!(app.key(key(KeyCode::Enter)).is_empty(), "incomplete: nothing happens");
        app.paste(&id[10..]);
        assert_eq!(app.key(key(KeyCode::Enter)), [Action::Open(id.into())]);
        assert_eq!((app.overlay.clone(), app.focus), (Overlay::None, Focus::Composer));
        assert_eq!(app.open.as_deref(), Some(id));
    }

    #[test]
    fn a_quick_esc_then_a_key_is_read_as_both() {
        // Terminals deliver Esc, y typed quickly as Alt+y: it must cancel, not confirm.
        let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
        let mut app = App::new("05me".into(), None);
        app.set_conversations(vec![row("05aa", true)]);
        app.key(ch('D'));
        assert!(matches!(app.overlay, Overlay::Confirm { .. }));
        assert!(app.key(alt('y')).is_empty(), "Esc cancelled; y alone does nothing");
        assert_eq!(app.overlay, Overlay::None);
        app.key(ch('?'));
        app.key(alt('c'));
        assert_eq!(app.overlay, Overlay::Contacts { selected: 0 }, "help closed, contacts open");
    }

    #[test]
    fn the_account_overlay_changes_settings() {
        let mut app = App::new("05me".into(), Some("Alice".into()));
        app.key(ch('a'));
        assert_eq!(app.overlay, Overlay::Account);
        assert_eq!(app.key(ch('r')), [Action::SetReadReceipts(true)]);
        app.typing_indicators = true;
        assert_eq!(app.key(ch('t')), [Action::SetTypingIndicators(false)]);
        assert_eq!(app.key(ch('c')), [Action::SetTheme(ThemeName::Light)]);
        app.key(ch('n'));
        assert_eq!(app.overlay, Overlay::DisplayName("Alice".into()));
        app.key(key(KeyCode::Backspace));
        app.paste(" ");
        app.key(ch('!'));
        assert_eq!(app.key(key(KeyCode::Enter)), [Action::SetDisplayName(Some("Alic!".into()))]);
        assert_eq!(app.overlay, Overlay::Account);
        app.key(key(KeyCode::Esc));
        assert_eq!(app.overlay, Overlay::None);
        assert_eq!(ThemeName::parse(ThemeName::Mono.as_str()), ThemeName::Mono);
        assert_eq!(ThemeName::Mono.next(), ThemeName::Dark);
    }

    #[test]
    fn the_recovery_password_needs_a_confirmation_and_the_passphrase() {
        let mut app = App::new("05me".into(), None);
        app.key(ch('a'));
        app.key(ch('p'));
        assert_eq!(app.overlay, Overlay::RecoveryPassword(Reveal::Confirm));
        assert!(app.key(ch('x')).is_empty(), "anything but y goes back");
        assert_eq!(app.overlay, Overlay::Account);
        app.key(ch('p'));
        assert_eq!(app.key(ch('y')), [Action::RevealPassword(None)]);
        let words = Hidden(Zeroizing::new("thirteen secret words".to_owned()));
        app.show_recovery_password(words.clone());
        assert!(!format!("{:?}", app.overlay).contains("secret"), "Debug never shows it");
        app.key(ch('q'));
        assert_eq!(app.overlay, Overlay::RecoveryPassword(Reveal::Shown { words, qr: true }));
        app.key(key(KeyCode::Esc));
        assert_eq!(app.overlay, Overlay::Account, "hidden again");
        // A sealed account asks for its passphrase first.
        app.locked = true;
        app.key(ch('p'));
        assert!(app.key(ch('y')).is_empty());
        app.paste("pass");
        app.key(ch('!'));
        assert_eq!(
            app.key(key(KeyCode::Enter)),
            [Action::RevealPassword(Some(Hidden(Zeroizing::new("pass!".to_owned()))))]
        );
    }

    #[test]
    fn the_contacts_screen_opens_renames_blocks_and_removes() {
        let mut app = App::new("05me".into(), None);
        app.set_contacts(vec![contact("05aa", false), contact("05bb", true)]);
        app.key(ch('c'));
        assert_eq!(app.overlay, Overlay::Contacts { selected: 0 });
        app.key(ch('e'));
        app.paste("Al");
        assert_eq!(
            app.key(key(KeyCode::Enter)),
            [Action::SetNickname { id: "05aa".into(), nickname: Some("Al".into()) }]
        );
        assert_eq!(app.overlay, Overlay::Contacts { selected: 0 });
        assert_eq!(app.key(ch('p')), [Action::SetPinned { id: "05aa".into(), pinned: true }]);
        assert!(app.key(ch('b')).is_empty(), "blocking asks first");
        assert_eq!(app.key(ch('y')), [Action::Block("05aa".into())]);
        app.key(ch('c'));
        app.key(ch('j'));
        assert_eq!(app.key(ch('b')), [Action::Unblock("05bb".into())]);
        app.key(ch('x'));
        assert_eq!(app.key(ch('y')), [Action::RemoveContact("05bb".into())]);
        // The list shrinks under the selection: it stays in range.
        app.key(ch('c'));
        app.key(ch('j'));
        app.set_contacts(vec![contact("05aa", false)]);
        assert_eq!(app.overlay, Overlay::Contacts { selected: 0 });
        assert_eq!(app.key(key(KeyCode::Enter)), [Action::Open("05aa".into())]);
        assert_eq!((app.overlay.clone(), app.focus), (Overlay::None, Focus::Composer));
    }

    #[test]
    fn disappearing_messages_are_chosen_from_the_list_or_the_conversation() {
        let mut app = App::new("05me".into(), None);
        let mut r = row("05aa", false);
        r.disappearing = disappearing::CHOICES[2];
        app.set_conversations(vec![r]);
        app.key(ch('t'));
        assert_eq!(
            app.overlay,
            Overlay::Disappearing { conversation: "05aa".into(), selected: 2 },
            "the current setting is highlighted"
        );
        app.key(ch('j'));
        assert_eq!(
            app.key(key(KeyCode::Enter)),
            [Action::SetDisappearing {
                conversation: "05aa".into(),
                setting: disappearing::CHOICES[3]
            }]
        );
        app.key(key(KeyCode::Enter));
        app.key(ctrl_key('t'));
        app.key(ch('g'));
        assert_eq!(
            app.key(key(KeyCode::Enter)),
            [Action::SetDisappearing { conversation: "05aa".into(), setting: Disappearing::Off }]
        );
    }

    #[test]
    fn failed_messages_can_be_retried_ours_unsent_any_deleted() {
        let mut app = App::new("05me".into(), None);
        app.set_conversations(vec![row("05aa", false)]);
        app.key(key(KeyCode::Enter));
        let msg = |id: i64, outgoing: bool, failed: bool| MessageRow {
            id,
            author: String::new(),
            time: String::new(),
            body: String::new(),
            status: "",
            outgoing,
            failed,
            expires_in: None,
        };
        app.set_messages(vec![msg(1, false, false), msg(2, true, true)]);
        assert_eq!(app.key(ctrl_key('r')), [Action::Retry(2)]);
        app.key(key(KeyCode::Up));
        assert!(app.key(ctrl_key('x')).is_empty());
        assert_eq!(app.overlay, Overlay::None, "not ours: nothing to unsend");
        app.key(ctrl_key('d'));
        assert_eq!(app.key(ch('y')), [Action::Delete(1)]);
        app.key(key(KeyCode::Down));
        app.key(ctrl_key('x'));
        assert!(matches!(app.overlay, Overlay::Confirm { .. }), "unsending asks first");
        assert_eq!(app.key(ch('y')), [Action::Unsend(2)]);
    }
}

//! The application state and what keys do to it. No terminal and no network here: keys
//! become [`Action`]s that the event loop carries out on the client, and the loop feeds the
//! results back with [`App::set_conversations`] and [`App::set_messages`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::account_input::{IdCheck, check_account_id};
use crate::model::composer::{Composer, ComposerOutcome};
use crate::model::conversations::{ConversationRow, short_id};
use crate::model::messages::MessageRow;

/// Which pane has the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The conversation list.
    List,
    /// The composer of the open conversation.
    Composer,
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
    /// The account: Account ID (with a QR code).
    Account,
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
    /// Try a failed message again.
    Retry(i64),
    /// Unsend our message.
    Unsend(i64),
    /// Turn read receipts on or off.
    SetReadReceipts(bool),
    /// Turn typing indicators on or off.
    SetTypingIndicators(bool),
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
    /// The selected message (for retry / unsend), counted from the newest.
    pub message_cursor: usize,
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
    /// Onion paths in use.
    pub paths: usize,
    /// Successful and failed polls of our swarm.
    pub polls: (u64, u64),
    /// Whether we told the other side we are typing.
    typing_sent: bool,
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
            composer: Composer::default(),
            focus: Focus::List,
            overlay: Overlay::None,
            status: "? for help".to_owned(),
            typing: false,
            pending: 0,
            read_receipts: false,
            typing_indicators: false,
            paths: 0,
            polls: (0, 0),
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

    fn selected_message(&self) -> Option<&MessageRow> {
        self.messages.len().checked_sub(1 + self.message_cursor).and_then(|i| self.messages.get(i))
    }

    /// Handles a key; returns what the loop should do.
    pub fn key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return vec![Action::Quit];
        }
        match self.overlay.clone() {
            Overlay::Account => {
                match key.code {
                    KeyCode::Char('r') => {
                        return vec![Action::SetReadReceipts(!self.read_receipts)];
                    }
                    KeyCode::Char('t') => {
                        return vec![Action::SetTypingIndicators(!self.typing_indicators)];
                    }
                    KeyCode::Esc | KeyCode::Char('q' | 'a') | KeyCode::Enter => {
                        self.overlay = Overlay::None;
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Overlay::Help => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('q' | '?' | 'a') | KeyCode::Enter
                ) {
                    self.overlay = Overlay::None;
                }
                return Vec::new();
            }
            Overlay::NewConversation(mut typed) => {
                return self.new_conversation_key(key, &mut typed);
            }
            Overlay::None => {}
        }
        match self.focus {
            Focus::List => self.list_key(key),
            Focus::Composer => self.composer_key(key),
        }
    }

    /// Pasted text: into the composer or the Account ID being typed.
    pub fn paste(&mut self, text: &str) {
        match &mut self.overlay {
            Overlay::NewConversation(typed) => typed.push_str(text.trim()),
            Overlay::None if self.focus == Focus::Composer => self.composer.insert(text),
            _ => {}
        }
    }

    fn new_conversation_key(&mut self, key: KeyEvent, typed: &mut String) -> Vec<Action> {
        let mut actions = Vec::new();
        match key.code {
            KeyCode::Esc => {
                self.overlay = Overlay::None;
                return actions;
            }
            KeyCode::Enter => {
                if let IdCheck::Valid(id) = check_account_id(typed) {
                    self.overlay = Overlay::None;
                    self.open = Some(id.to_string());
                    self.focus = Focus::Composer;
                    actions.push(Action::Open(id.to_string()));
                    return actions;
                }
            }
            KeyCode::Backspace => {
                typed.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => typed.push(c),
            _ => {}
        }
        self.overlay = Overlay::NewConversation(typed.clone());
        actions
    }

    fn list_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let last = self.rows.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('q') => return vec![Action::Quit],
            KeyCode::Char('?') => self.overlay = Overlay::Help,
            KeyCode::Char('a') => self.overlay = Overlay::Account,
            KeyCode::Char('n') => self.overlay = Overlay::NewConversation(String::new()),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') | KeyCode::Tab => {
                if let Some(row) = self.selected_row() {
                    let id = row.id.clone();
                    self.open = Some(id.clone());
                    self.message_cursor = 0;
                    self.focus = Focus::Composer;
                    return vec![Action::Open(id)];
                }
            }
            KeyCode::Char('A') => {
                if let Some(row) = self.selected_row().filter(|r| r.is_request) {
                    return vec![Action::Accept(row.id.clone())];
                }
            }
            KeyCode::Char('D') => {
                if let Some(row) = self.selected_row().filter(|r| r.is_request) {
                    return vec![Action::Decline(row.id.clone())];
                }
            }
            KeyCode::Char('B') => {
                if let Some(row) = self.selected_row().filter(|r| r.id != self.me) {
                    return vec![Action::Block(row.id.clone())];
                }
            }
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
            KeyCode::Char('r') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                if let Some(m) = self.selected_message().filter(|m| m.failed) {
                    actions.push(Action::Retry(m.id));
                }
                return actions;
            }
            KeyCode::Char('x') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                if let Some(m) = self.selected_message().filter(|m| m.outgoing) {
                    actions.push(Action::Unsend(m.id));
                }
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

    fn row(id: &str, is_request: bool) -> ConversationRow {
        ConversationRow {
            id: id.into(),
            title: id.into(),
            preview: String::new(),
            unread: 0,
            pinned: false,
            is_request,
        }
    }

    #[test]
    fn open_a_conversation_write_and_send() {
        let mut app = App::new("05me".into(), None);
        app.set_conversations(vec![row("05aa", false), row("05bb", true)]);
        app.key(key(KeyCode::Char('j')));
        assert_eq!(app.selected_row().unwrap().id, "05bb");
        assert_eq!(app.key(key(KeyCode::Char('A'))), [Action::Accept("05bb".into())]);
        // The selection follows its conversation when the list changes.
        app.set_conversations(vec![row("05cc", false), row("05aa", false), row("05bb", false)]);
        assert_eq!(app.selected_row().unwrap().id, "05bb");
        assert_eq!(app.key(key(KeyCode::Enter)), [Action::Open("05bb".into())]);
        assert_eq!(app.focus, Focus::Composer);
        assert_eq!(
            app.key(key(KeyCode::Char('h'))),
            [Action::Typing { to: "05bb".into(), started: true }]
        );
        assert!(app.key(key(KeyCode::Char('i'))).is_empty(), "typing is said once");
        assert_eq!(
            app.key(key(KeyCode::Enter)),
            [Action::Send { to: "05bb".into(), text: "hi".into() }]
        );
        assert!(app.key(key(KeyCode::Esc)).is_empty());
        assert_eq!(app.focus, Focus::List);
        assert_eq!(app.key(key(KeyCode::Char('q'))), [Action::Quit]);
    }

    #[test]
    fn a_new_conversation_needs_a_valid_account_id() {
        let id = "05d871fc80ca007eed9b2f4df72853e2a2d5465a92fcb1889fb5c84aa2833b3b40";
        let mut app = App::new("05me".into(), None);
        app.key(key(KeyCode::Char('n')));
        app.paste(&id[..10]);
        assert!(app.key(key(KeyCode::Enter)).is_empty(), "incomplete: nothing happens");
        app.paste(&id[10..]);
        assert_eq!(app.key(key(KeyCode::Enter)), [Action::Open(id.into())]);
        assert_eq!((app.overlay.clone(), app.focus), (Overlay::None, Focus::Composer));
        assert_eq!(app.open.as_deref(), Some(id));
    }

    #[test]
    fn the_account_overlay_toggles_settings() {
        let mut app = App::new("05me".into(), None);
        app.key(key(KeyCode::Char('a')));
        assert_eq!(app.overlay, Overlay::Account);
        assert_eq!(app.key(key(KeyCode::Char('r'))), [Action::SetReadReceipts(true)]);
        app.typing_indicators = true;
        assert_eq!(app.key(key(KeyCode::Char('t'))), [Action::SetTypingIndicators(false)]);
        app.key(key(KeyCode::Esc));
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn failed_messages_can_be_retried_and_ours_unsent() {
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
        };
        app.set_messages(vec![msg(1, false, false), msg(2, true, true)]);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(app.key(ctrl('r')), [Action::Retry(2)]);
        app.key(key(KeyCode::Up));
        assert!(app.key(ctrl('x')).is_empty(), "not ours");
        app.key(key(KeyCode::Down));
        assert_eq!(app.key(ctrl('x')), [Action::Unsend(2)]);
    }
}

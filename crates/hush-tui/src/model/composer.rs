//! The message composer: a multi-line text buffer with a cursor. Enter sends, Alt-Enter (or
//! Shift-Enter where the terminal reports it) breaks the line.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key did to the composer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComposerOutcome {
    /// The text changed or the cursor moved.
    Edited,
    /// Enter on a text that is not blank: send this (the composer is emptied).
    Send(String),
    /// The key means nothing here.
    Ignored,
}

/// A text being written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Composer {
    text: String,
    /// Byte offset of the cursor, always on a character boundary.
    cursor: usize,
}

impl Composer {
    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The cursor as (line, column in characters).
    pub fn cursor_position(&self) -> (usize, usize) {
        let before = &self.text[..self.cursor];
        let line = before.matches('\n').count();
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
        (line, column)
    }

    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor].char_indices().next_back().map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.text[self.cursor..].chars().next().map_or(self.cursor, |c| self.cursor + c.len_utf8())
    }

    /// Inserts text at the cursor (pasting).
    pub fn insert(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    /// Handles one key.
    pub fn key(&mut self, key: KeyEvent) -> ComposerOutcome {
        let alt = key.modifiers.intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter if alt => self.insert("\n"),
            KeyCode::Enter => {
                if self.text.trim().is_empty() {
                    return ComposerOutcome::Ignored;
                }
                self.cursor = 0;
                return ComposerOutcome::Send(std::mem::take(&mut self.text));
            }
            KeyCode::Char('u') if ctrl => {
                self.text.clear();
                self.cursor = 0;
            }
            // Ctrl and Alt chords are commands, not text (Alt+x is also what a quick
            // Esc, x reads as).
            KeyCode::Char(_) if ctrl || key.modifiers.contains(KeyModifiers::ALT) => {
                return ComposerOutcome::Ignored;
            }
            KeyCode::Char(c) => {
                let mut buf = [0u8; 4];
                self.insert(c.encode_utf8(&mut buf));
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let start = self.prev_boundary();
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
            }
            KeyCode::Delete if self.cursor < self.text.len() => {
                let end = self.next_boundary();
                self.text.replace_range(self.cursor..end, "");
            }
            KeyCode::Left => self.cursor = self.prev_boundary(),
            KeyCode::Right => self.cursor = self.next_boundary(),
            KeyCode::Home => {
                self.cursor = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
            }
            KeyCode::End => {
                self.cursor = self.text[self.cursor..]
                    .find('\n')
                    .map_or(self.text.len(), |i| self.cursor + i);
            }
            _ => return ComposerOutcome::Ignored,
        }
        ComposerOutcome::Edited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(c: &mut Composer, code: KeyCode, modifiers: KeyModifiers) -> ComposerOutcome {
        c.key(KeyEvent::new(code, modifiers))
    }

    fn typed(c: &mut Composer, text: &str) {
        for ch in text.chars() {
            press(c, KeyCode::Char(ch), KeyModifiers::NONE);
        }
    }

    #[test]
    fn enter_sends_alt_enter_breaks_the_line() {
        let mut c = Composer::default();
        assert_eq!(press(&mut c, KeyCode::Enter, KeyModifiers::NONE), ComposerOutcome::Ignored);
        typed(&mut c, "héllo");
        press(&mut c, KeyCode::Enter, KeyModifiers::ALT);
        typed(&mut c, "wörld");
        assert_eq!(c.cursor_position(), (1, 5));
        assert_eq!(
            press(&mut c, KeyCode::Enter, KeyModifiers::NONE),
            ComposerOutcome::Send("héllo\nwörld".into())
        );
        assert!(c.is_empty());
        assert_eq!(c.cursor_position(), (0, 0));
    }

    #[test]
    fn editing_moves_by_characters() {
        let mut c = Composer::default();
        typed(&mut c, "aé€b");
        press(&mut c, KeyCode::Left, KeyModifiers::NONE);
        press(&mut c, KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!(c.text(), "aéb");
        press(&mut c, KeyCode::Home, KeyModifiers::NONE);
        press(&mut c, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(c.text(), "éb");
        press(&mut c, KeyCode::End, KeyModifiers::NONE);
        typed(&mut c, "!");
        assert_eq!(c.text(), "éb!");
        assert_eq!(press(&mut c, KeyCode::Char('c'), KeyModifiers::ALT), ComposerOutcome::Ignored);
        assert_eq!(c.text(), "éb!");
        press(&mut c, KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert!(c.is_empty());
        // Blank text is not sent.
        typed(&mut c, "   ");
        assert_eq!(press(&mut c, KeyCode::Enter, KeyModifiers::NONE), ComposerOutcome::Ignored);
    }
}

//! Remote text made safe to show in a terminal.
//!
//! Everything other people choose — message bodies, display names, and any text a node puts
//! in an answer — may carry bytes a terminal obeys: ESC sequences that clear the screen, set
//! the window title, move the cursor or draw forged lines; C1 controls (8-bit CSI); a
//! carriage return that overwrites what was printed; bidirectional overrides that make text
//! read differently from what it is. [`terminal_safe`] and [`terminal_safe_line`] make each
//! of those *visible and harmless*: C0 controls and DEL become their Unicode control pictures
//! (ESC shows as `␛`), C1 controls, bidirectional controls and invisible format characters
//! become `<U+XXXX>`. Everything else — any script, emoji with their joiners — is untouched.
//!
//! Machine output (`--json`, JSON-RPC) stays exact: this is for people's screens only.

use std::borrow::Cow;

/// `text` with every character a terminal could act on shown as a visible stand-in; newlines
/// and tabs are kept (for message bodies).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// [`terminal_safe`] for text that must stay on one line (names, previews, list entries):
/// newlines and tabs are shown as stand-ins too.
pub fn terminal_safe_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Whether a terminal could act on `c` (or it hides or reorders text).
fn is_dangerous(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' => !multiline,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional controls: embeddings, overrides, isolates, marks.
        '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => true,
        // Line and paragraph separators; invisible characters used to disguise text (zero
        // width space, word joiner and invisible operators, byte order mark, interlinear
        // annotation). Zero-width joiners (U+200C, U+200D) stay: emoji and scripts need them.
        '\u{2028}' | '\u{2029}' | '\u{200b}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => true,
        // Mongolian vowel separator (invisible).
        '\u{180e}' => true,
        '\u{fff9}'..='\u{fffb}' => true,
        _ => false,
    }
}

fn escape(text: &str, multiline: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_dangerous(c, multiline)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !is_dangerous(c, multiline) {
            out.push(c);
            continue;
        }
        match u32::from(c) {
            // C0 → U+2400…U+241F (␀…␟), DEL → U+2421 (␡).
            n @ 0..=0x1f => out.push(char::from_u32(0x2400 + n).unwrap_or('?')),
            0x7f => out.push('\u{2421}'),
            n => out.push_str(&format!("<U+{n:04X}>")),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_become_visible() {
        let forged = "hi\u{1b}[2J\u{1b}]0;pwned\u{7}\rBank: send money\u{9b}31m";
        let safe = terminal_safe(forged);
        assert!(!safe.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{safe}");
        assert_eq!(safe, "hi␛[2J␛]0;pwned␇␍Bank: send money<U+009B>31m");
    }

    #[test]
    fn bidirectional_overrides_and_invisibles_are_shown() {
        assert_eq!(terminal_safe("invoice\u{202e}fdp.exe"), "invoice<U+202E>fdp.exe");
        assert_eq!(
            terminal_safe("a\u{2066}b\u{2069}\u{200b}c\u{feff}"),
            "a<U+2066>b<U+2069><U+200B>c<U+FEFF>"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for text in ["hello", "Grüße, 你好, مرحبا", "👩‍👩‍👧 family", "two\nlines\tand a tab"]
        {
            assert!(matches!(terminal_safe(text), Cow::Borrowed(t) if t == text), "{text}");
        }
    }

    #[test]
    fn one_line_text_shows_newlines_too() {
        assert_eq!(terminal_safe_line("Alice\nBob: forged line"), "Alice␊Bob: forged line");
        assert_eq!(terminal_safe_line("a\tb"), "a␉b");
    }
}

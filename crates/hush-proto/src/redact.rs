//! [`Redacted`]: shows only the start of an identifier, for logs at `info` and above.

use std::fmt;

/// Wraps something printable and shows only its first 8 characters followed by `…`.
///
/// Account IDs and message hashes go into logs at `info` and above only through this wrapper,
/// so that logs cannot be used to list who talks to whom.
#[derive(Clone, Copy)]
pub struct Redacted<T>(pub T);

impl<T: fmt::Display> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.0.to_string();
        let shown: String = full.chars().take(8).collect();
        if shown.len() < full.len() { write!(f, "{shown}…") } else { f.write_str(&shown) }
    }
}

impl<T: fmt::Display> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::Redacted;

    #[test]
    fn shows_a_prefix_only() {
        let id = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
        assert_eq!(Redacted(id).to_string(), "05d2ad01…");
        assert_eq!(Redacted("short").to_string(), "short");
    }
}

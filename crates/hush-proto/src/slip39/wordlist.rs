//! The SLIP-39 word list: 1,024 English words, 4 to 8 letters, unique in their first four
//! letters (`slip-0039/wordlist.txt` of satoshilabs/slips; its SHA-256 is checked in a test).

use std::sync::OnceLock;

fn list() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| include_str!("english.txt").lines().collect())
}

/// The word for a 10-bit index.
pub(super) fn word(index: u16) -> &'static str {
    list().get(usize::from(index)).copied().unwrap_or("")
}

/// The index of a (lower-case) word.
pub(super) fn index(word: &str) -> Option<u16> {
    list().binary_search(&word).ok().and_then(|i| u16::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_published_one() {
        let text = include_str!("english.txt");
        let digest = hush_sodium::hash::sha256(text.as_bytes());
        assert_eq!(
            hex::encode(digest),
            "bcc4555340332d169718aed8bf31dd9d5248cb7da6e5d355140ef4f1e601eec3"
        );
        let words = list();
        assert_eq!(words.len(), 1024);
        assert!(words.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(words.iter().all(|w| (4..=8).contains(&w.len())));
        let prefixes: std::collections::HashSet<&str> = words.iter().map(|w| &w[..4]).collect();
        assert_eq!(prefixes.len(), 1024, "unique 4-letter prefixes");
        assert_eq!(index("academic"), Some(0));
        assert_eq!(word(1023), "zero");
        assert_eq!(index("bitcoin"), None);
    }
}

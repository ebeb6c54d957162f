//! Padding of 1:1 (and community) message content (session-protocol.md §3.2).
//!
//! The serialized `Content` gets a `0x80` byte and then zeros up to the next multiple of 160
//! bytes, so that ciphertext lengths reveal only a coarse size class.

/// Block size of 1:1 message padding.
pub const BLOCK: usize = 160;
/// The byte that marks where padding starts.
pub const TERMINATOR: u8 = 0x80;

/// Pads as current libsession does: `0x80`, then zeros to a multiple of 160. When
/// `len + 1` is already a multiple of 160 a whole extra block of zeros is added (this matches
/// the reference implementation byte for byte).
pub fn pad(content: &[u8]) -> Vec<u8> {
    let with_terminator = content.len() + 1;
    let total = with_terminator + (BLOCK - with_terminator % BLOCK);
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(content);
    out.push(TERMINATOR);
    out.resize(total, 0);
    out
}

/// Removes padding as receivers do: strip trailing zeros, then one `0x80` if it is the last
/// byte left. If a byte other than `0x80` ends the zeros, the message was not padded and is
/// returned whole. Accepts both the current and the legacy desktop padding.
pub fn unpad(padded: &[u8]) -> &[u8] {
    let Some(last_nonzero) = padded.iter().rposition(|&b| b != 0) else {
        return padded;
    };
    if padded[last_nonzero] == TERMINATOR { &padded[..last_nonzero] } else { padded }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_multiples_of_160() {
        assert_eq!(pad(b"").len(), 160);
        assert_eq!(pad(&[1; 158]).len(), 160);
        // 159 + 1 = 160 is already a multiple: a full extra block is added.
        assert_eq!(pad(&[1; 159]).len(), 320);
        assert_eq!(pad(&[1; 160]).len(), 320);
        let p = pad(b"hi");
        assert_eq!(&p[..3], &[b'h', b'i', 0x80]);
        assert!(p[3..].iter().all(|&b| b == 0));
    }

    #[test]
    fn unpad_inverts_pad_and_accepts_legacy_and_unpadded() {
        for len in [0usize, 1, 158, 159, 160, 1000] {
            let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
            assert_eq!(unpad(&pad(&content)), &content[..]);
        }
        // Legacy desktop padding: ceil((len + 2) / 160) · 160 − 1 bytes in total.
        let legacy = [b"abc".as_slice(), &[0x80], &[0u8; 155]].concat();
        assert_eq!(unpad(&legacy), b"abc");
        // Not padded at all (ends in a non-zero byte other than 0x80, or zeros after one).
        assert_eq!(unpad(b"abc"), b"abc");
        assert_eq!(unpad(&[1, 2, 0, 0]), &[1, 2, 0, 0]);
        assert_eq!(unpad(&[]), &[] as &[u8]);
        assert_eq!(unpad(&[0, 0]), &[0, 0]);
    }
}

//! The RS1024 checksum of a share: a Reed–Solomon code over GF(1024) (SLIP-39 "Checksum"),
//! three 10-bit words that detect any error in up to three words. Never used to correct.

/// The generator of the code.
const GENERATOR: [u32; 10] = [
    0x00E0_E040,
    0x01C1_C080,
    0x0383_8100,
    0x0707_0200,
    0x0E0E_0009,
    0x1C0C_2412,
    0x3808_6C24,
    0x3090_FC48,
    0x21B1_F890,
    0x03F3_F120,
];

fn polymod(customization: &[u8], words: impl Iterator<Item = u16>) -> u32 {
    let mut chk: u32 = 1;
    for v in customization.iter().map(|&b| u32::from(b)).chain(words.map(u32::from)) {
        let b = chk >> 20;
        chk = ((chk & 0xF_FFFF) << 10) ^ v;
        for (i, g) in GENERATOR.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// The three checksum words for `data` (the share's words before the checksum).
pub(super) fn checksum(customization: &[u8], data: &[u16]) -> [u16; 3] {
    let pm = polymod(customization, data.iter().copied().chain([0, 0, 0])) ^ 1;
    // Each value is masked to 10 bits, so the narrowing cannot lose anything.
    [((pm >> 20) & 1023) as u16, ((pm >> 10) & 1023) as u16, (pm & 1023) as u16]
}

/// Whether `words` (data followed by its checksum) verify.
pub(super) fn verify(customization: &[u8], words: &[u16]) -> bool {
    polymod(customization, words.iter().copied()) == 1
}

/// The one position whose word, changed, would make `words` verify — to point the user at a
/// mistyped word. `None` when no single change (or more than one position) would. Nothing is
/// corrected: the user retypes the word. `customization` gives the customisation string for
/// a candidate (it depends on the words themselves: the extendable flag is in word 2).
pub(super) fn suspect_position(
    customization: impl Fn(&[u16]) -> &'static [u8],
    words: &[u16],
) -> Option<usize> {
    let mut found = None;
    let mut trial = zeroize::Zeroizing::new(words.to_vec());
    for i in 0..words.len() {
        let original = trial[i];
        let fits = (0..1024u16).any(|w| {
            w != original && {
                trial[i] = w;
                verify(customization(&trial), &trial)
            }
        });
        trial[i] = original;
        if fits {
            if found.is_some() {
                return None;
            }
            found = Some(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_verifies_and_any_single_change_breaks_it() {
        let data: Vec<u16> = (0..17).map(|i| (i * 37 + 5) % 1024).collect();
        let sum = checksum(b"shamir", &data);
        let mut all = data;
        all.extend_from_slice(&sum);
        assert!(verify(b"shamir", &all));
        assert!(!verify(b"shamir_extendable", &all), "the customisation is part of it");
        for i in 0..all.len() {
            let mut bad = all.clone();
            bad[i] ^= 1;
            assert!(!verify(b"shamir", &bad));
            assert_eq!(suspect_position(|_| b"shamir", &bad), Some(i));
        }
    }
}

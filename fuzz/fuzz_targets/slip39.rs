//! SLIP-39 shares typed or pasted in, one per line: inspection (checksums, groups,
//! thresholds) and combination with a passphrase.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let shares: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(32).collect();
    let _ = hush_proto::slip39::inspect(&shares);
    let _ = hush_proto::slip39::combine(&shares, b"TREZOR");
});

//! A recovery password typed or pasted in: words, prefixes, the checksum word.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = hush_proto::RecoveryPassword::parse(&text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let _ = hush_proto::mnemonic::decode(&words);
});

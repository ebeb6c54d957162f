//! Opening a 1:1 message (Session V1): the envelope, the sealed box, the signature, the
//! padding and the content, as the recipient of the `session_encrypt` vector.
#![no_main]

use hush_proto::{AccountSeed, Identity, envelope, message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seed = AccountSeed::from_entropy(&[
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ])
    .unwrap();
    let me = Identity::from_seed(&seed);
    let _ = envelope::open_1to1(&me, data);
    let _ = message::decrypt(me.x25519(), data);
});

//! Opening a 1:1 message (Session V1): the envelope, the sealed box, the signature, the
//! padding and the content, as the recipient of the `session_encrypt` vector. The input is
//! tried twice: as stored bytes (which mutations rarely get past the authenticated
//! decryption), and as the plaintext of a message sealed here to that recipient, so the
//! padding and `Content` decoding behind the decryption are fuzzed too.
#![no_main]

use hush_proto::protos::Envelope;
use hush_proto::protos::session::envelope::Type;
use hush_proto::{AccountSeed, Identity, envelope, message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let me = Identity::from_seed(
        &AccountSeed::from_entropy(&[
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ])
        .unwrap(),
    );
    let _ = envelope::open_1to1(&me, data);
    let _ = message::decrypt(me.x25519(), data);

    let sender = Identity::from_seed(&AccountSeed::from_entropy(&[9; 16]).unwrap());
    if let Ok(sealed) = message::encrypt_deterministic(sender.ed25519(), me.x25519().public(), data)
    {
        let stored = envelope::wrap(&Envelope {
            r#type: Type::SessionMessage as i32,
            source: None,
            timestamp: 1_700_000_000_000,
            source_device: Some(1),
            content: Some(sealed),
            ..Default::default()
        });
        let _ = envelope::open_1to1(&me, &stored);
    }
});

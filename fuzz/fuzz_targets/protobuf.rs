//! The protobuf messages a client reads from its swarm: `WebSocketMessage` / `Envelope`
//! (`envelope::unwrap`, size-bounded) and the decrypted `Content`, and config wrappers.
#![no_main]

use hush_proto::protos::{Content, Envelope, WebSocketMessage};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let _ = hush_proto::envelope::unwrap(data);
    let _ = WebSocketMessage::decode(data);
    let _ = Envelope::decode(data);
    let _ = Content::decode(data);
});

//! prost types for every Session protobuf (session-protocol.md §4), generated at build time
//! from `proto/session.proto` and `proto/websocket.proto` (our own definitions, written from
//! the field tables; protox compiles them, so no `protoc` is needed).
//!
//! Decoding arbitrary bytes never panics: prost bounds every length by the input and limits
//! nesting depth. proto2 `required` fields are not enforced by prost; code that reads a
//! message checks the fields it relies on.

/// `Envelope`, `Content`, `DataMessage` and the other Session message types.
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod session {
    include!(concat!(env!("OUT_DIR"), "/session_protos.rs"));
}

/// `WebSocketMessage` and its request and response.
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod websocket {
    include!(concat!(env!("OUT_DIR"), "/websocket_protos.rs"));
}

pub use session::{Content, DataMessage, Envelope, LokiProfile};
pub use websocket::{WebSocketMessage, WebSocketRequestMessage};

//! View models: what the screens show, computed from the client's data without a terminal
//! (unit-tested on their own).

pub mod account_input;
pub mod composer;
pub mod conversations;
pub mod messages;

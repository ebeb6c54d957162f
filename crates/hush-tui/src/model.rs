//! View models: what the screens show, computed from the client's data without a terminal
//! (unit-tested on their own).

pub mod account_input;
pub mod clock;
pub mod composer;
pub mod contacts;
pub mod conversations;
pub mod disappearing;
pub mod messages;

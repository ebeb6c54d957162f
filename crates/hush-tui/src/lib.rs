//! The hush terminal UI, in the manner of gurk and iamb: a conversation list (pinned first,
//! unread counts, message requests apart), the open conversation with delivery status and a
//! multi-line composer, and overlays: help, new conversation, contacts, disappearing
//! messages, confirmations, the account (settings, theme, network status) and its recovery
//! password behind a confirmation.
//!
//! - [`onboarding`]: the first start of a profile — create an account (the recovery password
//!   shown once, with a QR code on request) or restore one from its recovery password or
//!   Shamir shares (and their passphrase), then fetch its data;
//! - [`model`]: view models, terminal-free and unit-tested;
//! - [`app`]: the state and what keys do to it (keys become [`app::Action`]s);
//! - [`ui`]: drawing with ratatui (80×24 and up, a theme, `NO_COLOR` honoured);
//! - [`run`]: the terminal and the event loop over a [`hush_client::Client`], whose tasks do
//!   all network work — the UI only renders events and database reads.

pub mod app;
pub mod model;
pub mod onboarding;
pub mod run;
pub mod ui;

pub use run::run_profile;

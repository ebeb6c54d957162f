//! `hush` with no subcommand: the terminal UI (hush-tui) on the profile's client.

use anyhow::anyhow;
use hush_client::Profile;

use crate::Failure;
use crate::args::Settings;
use crate::commands::session::{open_client, runtime};

/// Opens the terminal UI.
pub fn run(settings: &Settings) -> Result<(), Failure> {
    let profile = Profile::new(&settings.data_dir, settings.profile.clone());
    if !profile.has_account() {
        return Err(anyhow!(
            "profile '{}' has no account yet: create one with `hush account new --display-name \
             NAME`, or bring one back with `hush account restore` or `hush backup recover`",
            profile.name()
        )
        .into());
    }
    let client = open_client(settings)?;
    runtime()?.block_on(hush_tui::run(client))?;
    Ok(())
}

//! What the commands that use an account share: the passphrase of a locked profile, opening
//! the client, the async runtime, the clock.

use std::io::IsTerminal;

use anyhow::{Context, anyhow};
use hush_client::{Client, ClientConfig, Profile};
use zeroize::Zeroizing;

use crate::Failure;
use crate::args::Settings;
use crate::output;

/// The passphrase of a locked profile: `$HUSH_PASSPHRASE`, else asked on the terminal.
/// `None` when the profile is not locked.
pub fn passphrase(profile: &Profile) -> Result<Option<Zeroizing<String>>, Failure> {
    if !profile.has_account() || !profile.is_locked()? {
        return Ok(None);
    }
    if let Ok(p) = std::env::var("HUSH_PASSPHRASE")
        && !p.is_empty()
    {
        return Ok(Some(Zeroizing::new(p)));
    }
    if !std::io::stdin().is_terminal() {
        return Err(anyhow!(hush_client::Error::Locked)
            .context("set HUSH_PASSPHRASE or run this in a terminal")
            .into());
    }
    Ok(Some(read_secret(&format!("Passphrase of profile '{}': ", profile.name()))?))
}

/// Reads a secret from the terminal without echo.
pub fn read_secret(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(anyhow!("a passphrase is needed: run this in a terminal").into());
    }
    output::prompt("");
    let secret = rpassword::prompt_password(prompt).context("reading from the terminal")?;
    Ok(Zeroizing::new(secret))
}

/// The profile's client configuration, with the passphrase of a locked profile.
pub fn client_config(settings: &Settings) -> Result<ClientConfig, Failure> {
    let profile = Profile::new(&settings.data_dir, settings.profile.clone());
    let mut config = ClientConfig::new(
        settings.data_dir.clone(),
        settings.profile.clone(),
        settings.network_file.clone(),
    );
    config.passphrase = passphrase(&profile)?;
    Ok(config)
}

/// Opens the profile's client (no network contact yet). A network file that was chosen
/// (`--network`, `HUSH_NETWORK`) must exist and be one, and the devnet's, when it exists,
/// must be one: a wrong file is an error now, not a message queued for nowhere.
pub fn open_client(settings: &Settings) -> Result<Client, Failure> {
    if settings.network_chosen || settings.network_file.exists() {
        hush_client::check_network_file(&settings.network_file).map_err(|e| {
            let e = anyhow!(e).context("the network file cannot be used");
            if settings.network_chosen { Failure::invalid_input(e) } else { Failure::from(e) }
        })?;
    }
    Ok(Client::open(client_config(settings)?)?)
}

/// After a failed [`hush_client::Client::start`]: a note when the network is only unreachable (the
/// client keeps trying in the background), the error otherwise (a damaged network file).
pub fn offline_or_fail(e: hush_client::Error) -> Result<(), Failure> {
    if e.kind() == hush_client::ErrorKind::Network {
        output::note(&format!("offline for now ({e}); connecting in the background"));
        Ok(())
    } else {
        Err(e.into())
    }
}

/// A multi-threaded runtime for commands that talk to the network.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?)
}

/// Milliseconds since the Unix epoch, from the system clock.
#[allow(clippy::disallowed_methods, reason = "the CLI's one use of the wall clock")]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

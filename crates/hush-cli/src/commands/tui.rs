//! `hush` with no subcommand: the terminal UI (hush-tui) on the profile — onboarding first
//! when the profile has no account. With no network chosen and no local network running, it
//! starts `hush devnet` in the background first, so `hush` alone is enough to try hush.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::Failure;
use crate::args::Settings;
use crate::commands::session::{client_config, runtime};
use crate::output;

/// Opens the terminal UI.
pub fn run(settings: &Settings) -> Result<(), Failure> {
    if !settings.network_chosen {
        ensure_local_network(settings)?;
    }
    // A locked profile's passphrase is asked before the screen changes.
    let config = client_config(settings)?;
    runtime()?.block_on(hush_tui::run_profile(config))?;
    Ok(())
}

/// Whether a `hush devnet` holds the devnet folder's lock.
fn devnet_running(dir: &std::path::Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(dir.join("lock")) else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// Starts the local network in the background unless one runs: `hush devnet` as a process of
/// its own (its own process group, so the terminal's signals do not reach it), logging to
/// `devnet.log` in its folder; returns once its network file is written.
fn ensure_local_network(settings: &Settings) -> Result<(), Failure> {
    let dir = settings.data_dir.join("devnet");
    if devnet_running(&dir) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let log_path = dir.join("devnet.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding the hush executable")?;
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .args(["--json", "devnet"])
            .env("HUSH_DATA_DIR", &settings.data_dir)
            .env_remove("HUSH_NETWORK")
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("opening the devnet log")?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .context("starting hush devnet")?
    };
    for _ in 0..150 {
        if devnet_running(&dir) && settings.network_file.exists() {
            output::note(&format!(
                "Started a local network in the background (hush devnet, pid {}, in {}); \
                 it keeps running for other profiles — `kill {}` stops it.",
                child.id(),
                dir.display(),
                child.id()
            ));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(anyhow::anyhow!("the local network did not start within 15 s; see {}", log_path.display())
        .into())
}

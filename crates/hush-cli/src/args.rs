//! Command-line arguments: clap structures, turned into validated [`Settings`] before any
//! command runs (two-stage parsing).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::Failure;
use crate::profile::ProfileName;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (no account, an account already exists, an I/O error, …)
  2  invalid input (bad arguments, recovery password or display name); nothing was written";

/// hush: a private messenger that speaks Session's protocol.
#[derive(Debug, Parser)]
#[command(name = "hush", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    /// Where profiles are kept [default: $HUSH_DATA_DIR, $XDG_DATA_HOME/hush, or
    /// ~/.local/share/hush]. For `devnet`: the network's own folder [default: the devnet
    /// folder in the data dir].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// The profile (one account per profile).
    #[arg(
        long,
        global = true,
        env = "HUSH_PROFILE",
        default_value = "default",
        value_name = "NAME"
    )]
    profile: String,

    /// Print exactly one JSON object per line on stdout (messages for people go to stderr).
    #[arg(long, global = true)]
    json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, restore and inspect the account of a profile.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Run a local hush network in the foreground: real nodes on 127.0.0.1 under a signed
    /// registry, kept in a folder so it resumes where it stopped. Ctrl-C stops it.
    Devnet(DevnetArgs),
}

/// Options of `devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// How many nodes [default: 12, or as many as the folder already has].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub nodes: Option<u16>,
}

/// `hush account …`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create a new account: no phone number, no email, just keys made on this device.
    New(NewArgs),
    /// Restore an account from its 13-word recovery password (read from stdin when it is not
    /// a terminal, otherwise asked for without echo).
    Restore(NewArgs),
    /// Show the Account ID, the Ed25519 public key and the display name.
    Show,
    /// Show the recovery password, after a confirmation.
    RecoveryPassword(RecoveryPasswordArgs),
}

/// Options of `account new` and `account restore`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The name others see (1 to 100 characters).
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
    /// Replace an existing account in this profile (its recovery password is the only way
    /// back to it).
    #[arg(long)]
    pub force: bool,
}

/// Options of `account recovery-password`.
#[derive(Debug, Args)]
pub struct RecoveryPasswordArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Also draw the recovery password as a QR code.
    #[arg(long)]
    pub qr: bool,
}

/// Validated global settings.
#[derive(Debug)]
pub struct Settings {
    /// The data directory.
    pub data_dir: PathBuf,
    /// Whether `--data-dir` was given on the command line (for `devnet` it names the
    /// network's folder itself).
    pub data_dir_flag: bool,
    /// The profile's name.
    pub profile: ProfileName,
    /// Machine-readable output.
    pub json: bool,
}

impl Cli {
    /// Validates the global options.
    pub fn settings(&self) -> Result<Settings, Failure> {
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => data_dir_from_env().ok_or_else(|| {
                Failure::invalid_input(anyhow::anyhow!(
                    "cannot find a home for hush's data: set --data-dir, HUSH_DATA_DIR, \
                     XDG_DATA_HOME or HOME"
                ))
            })?,
        };
        let profile = ProfileName::parse(&self.profile).map_err(Failure::invalid_input)?;
        Ok(Settings { data_dir, data_dir_flag: self.data_dir.is_some(), profile, json: self.json })
    }
}

/// `$HUSH_DATA_DIR`, else `$XDG_DATA_HOME/hush`, else `$HOME/.local/share/hush`.
fn data_dir_from_env() -> Option<PathBuf> {
    let non_empty =
        |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = non_empty("HUSH_DATA_DIR") {
        return Some(dir);
    }
    non_empty("XDG_DATA_HOME")
        .or_else(|| non_empty("HOME").map(|home| home.join(".local").join("share")))
        .map(|base| base.join("hush"))
}

//! Command-line arguments: clap structures, turned into validated [`Settings`] before any
//! command runs (two-stage parsing).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::Failure;
use hush_client::{AccountId, ProfileName};

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

    /// The network to use: a network.json file [default: the local network that hush devnet
    /// keeps in the data dir, DATA_DIR/devnet/network.json].
    #[arg(long, global = true, env = "HUSH_NETWORK", value_name = "FILE")]
    network: Option<PathBuf>,

    /// What to do (nothing: open the terminal UI).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, restore and inspect the account of a profile.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Shamir backups of the account (SLIP-39): split it into word shares, any T of which
    /// restore it.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Run a local hush network in the foreground: real nodes on 127.0.0.1 under a signed
    /// registry, kept in a folder so it resumes where it stopped. Ctrl-C stops it.
    Devnet(DevnetArgs),
    /// Send a text message (delivered through a 3-hop onion path).
    Send(SendArgs),
    /// Fetch new messages and print them; `--follow` keeps streaming.
    Receive(ReceiveArgs),
    /// List conversations, most recent first.
    Conversations,
    /// Show the messages of a conversation.
    Messages(MessagesArgs),
    /// Mark a conversation read (sends read receipts when they are on).
    Read(IdArg),
    /// Mark a conversation unread (on your other devices too) until it is read.
    Unread(IdArg),
    /// Unsend one of your messages: deleted for the recipient, your other devices and here.
    Unsend(MessageIdArg),
    /// Try a failed message again.
    Retry(MessageIdArg),
    /// Delete a message on this device and its copy in your swarm (so a restore does not
    /// bring it back); the other side keeps theirs.
    Delete(MessageIdArg),
    /// List contacts, or change one.
    Contacts(ContactsArgs),
    /// List message requests (first messages from people you have not approved), or answer
    /// one.
    Requests(RequestsArgs),
    /// Block an account: its messages are dropped.
    Block(IdArg),
    /// Unblock an account.
    Unblock(IdArg),
    /// Show or change settings (read receipts, typing indicators).
    Settings(SettingsArgs),
    /// Set disappearing messages for a conversation.
    Disappearing(DisappearingArgs),
    /// Run the client in the background and serve JSON-RPC 2.0 (docs/json-rpc.md).
    Daemon(DaemonArgs),
}

/// An Account ID argument.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The Account ID (66 hex characters starting with 05).
    #[arg(value_name = "ACCOUNT_ID", value_parser = account_id)]
    pub id: AccountId,
}

/// A local message ID argument.
#[derive(Debug, Args)]
pub struct MessageIdArg {
    /// The message's local ID (from `hush messages --json`).
    #[arg(value_name = "MESSAGE_ID")]
    pub id: i64,
}

/// Options of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The recipient's Account ID (your own for Note to Self).
    #[arg(value_name = "ACCOUNT_ID", value_parser = account_id)]
    pub to: AccountId,
    /// The text. Best left out: it is then read from stdin, or asked for on a terminal, and
    /// never shows in the process list (which every local user can read) or in your shell
    /// history. `-` reads stdin too.
    #[arg(value_name = "TEXT", conflicts_with = "file")]
    pub text: Option<String>,
    /// Read the text from this file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// An ID of your choosing (1 to 128 bytes) that makes this send idempotent: run again
    /// with the same ID (after a crash, say), it reports the message the first run stored
    /// instead of sending a second one.
    #[arg(long, value_name = "ID")]
    pub send_id: Option<String>,
    /// Wait until the recipient's swarm stored it; exit non-zero if it could not be.
    #[arg(long)]
    pub wait: bool,
}

/// Options of `receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Keep running and print messages as they arrive.
    #[arg(long)]
    pub follow: bool,
}

/// Options of `messages`.
#[derive(Debug, Args)]
pub struct MessagesArgs {
    /// The conversation (the other account's ID).
    #[arg(value_name = "ACCOUNT_ID", value_parser = account_id)]
    pub id: AccountId,
    /// How many of the newest messages.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
}

/// Options of `contacts`.
#[derive(Debug, Args)]
pub struct ContactsArgs {
    /// What to change (nothing: list them).
    #[command(subcommand)]
    pub action: Option<ContactsAction>,
}

/// `contacts …`
#[derive(Debug, Subcommand)]
pub enum ContactsAction {
    /// Approve an account: its messages arrive as messages, not requests.
    Add(IdArg),
    /// Forget a contact.
    Remove(IdArg),
    /// Give a contact a name only you see (no NAME: clear it).
    Nickname {
        /// The contact.
        #[arg(value_name = "ACCOUNT_ID", value_parser = account_id)]
        id: AccountId,
        /// The nickname.
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },
    /// Pin a contact's conversation (shown first; synced to your other devices).
    Pin(IdArg),
    /// Unpin it.
    Unpin(IdArg),
    /// How a contact's messages notify (synced to your other devices).
    Notifications {
        /// The contact.
        #[arg(value_name = "ACCOUNT_ID", value_parser = account_id)]
        id: AccountId,
        /// default, all, mentions or off.
        #[arg(value_name = "MODE", value_parser = ["default", "all", "mentions", "off"])]
        mode: String,
    },
}

/// Options of `requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// What to answer (nothing: list them).
    #[command(subcommand)]
    pub action: Option<RequestsAction>,
}

/// `requests …`
#[derive(Debug, Subcommand)]
pub enum RequestsAction {
    /// Accept: the sender becomes a contact and is told so.
    Accept(IdArg),
    /// Decline: the request is deleted.
    Decline(IdArg),
    /// Block the sender (and delete the request).
    Block(IdArg),
}

/// Options of `settings`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// What to change (nothing: show them).
    #[command(subcommand)]
    pub action: Option<SettingsAction>,
}

/// `settings …`
#[derive(Debug, Subcommand)]
pub enum SettingsAction {
    /// The name others see (synced to your other devices).
    DisplayName {
        /// 1 to 100 characters.
        name: String,
    },
    /// Send read receipts and show those of others.
    ReadReceipts {
        /// on or off.
        #[arg(value_name = "on|off", value_parser = on_off)]
        on: bool,
    },
    /// Send typing indicators and show those of others.
    Typing {
        /// on or off.
        #[arg(value_name = "on|off", value_parser = on_off)]
        on: bool,
    },
}

/// An Account ID as pasted: surrounding whitespace (a newline, spaces) is ignored.
pub fn account_id(s: &str) -> Result<AccountId, String> {
    s.trim().parse().map_err(|e: hush_proto::Error| e.to_string())
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err("expected on or off".to_owned()),
    }
}

/// Options of `disappearing`.
#[derive(Debug, Args)]
pub struct DisappearingArgs {
    /// The conversation.
    #[arg(value_name = "ACCOUNT_ID", value_parser = account_id)]
    pub id: AccountId,
    /// off, after-send or after-read.
    #[arg(value_name = "MODE", value_parser = ["off", "after-send", "after-read"])]
    pub mode: String,
    /// The timer: seconds, or a number with s, m, h, d or w (for example 30s, 5m, 1d).
    #[arg(value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<u32>,
}

/// The longest disappearing timer: 14 days, as long as a swarm keeps a message.
pub const MAX_DISAPPEARING_SECS: u32 = 14 * 86_400;

const DURATION_RANGE: &str = "a timer is 1s to 14d (1209600 seconds), for example 30s, 5m, 12h, \
                              1d or 2w";

/// A disappearing timer in seconds, checked against the range Session's clients accept.
pub fn disappearing_seconds(seconds: u64) -> Result<u32, String> {
    u32::try_from(seconds)
        .ok()
        .filter(|s| (1..=MAX_DISAPPEARING_SECS).contains(s))
        .ok_or_else(|| format!("{seconds} seconds is out of range: {DURATION_RANGE}"))
}

/// Parses `90`, `30s`, `5m`, `12h`, `1d`, `2w` into seconds (1 s to 14 days).
pub fn parse_duration(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| format!("invalid duration {s:?}: {DURATION_RANGE}"))?;
    let factor: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("invalid duration {s:?}: use s, m, h, d or w; {DURATION_RANGE}")),
    };
    let seconds = n.saturating_mul(factor);
    disappearing_seconds(seconds).map_err(|_| format!("{s} is out of range: {DURATION_RANGE}"))
}

/// Options of `daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Listen on this Unix socket (mode 0600) [default: daemon.sock in the profile folder].
    #[arg(long, value_name = "PATH", conflicts_with = "stdio")]
    pub socket: Option<PathBuf>,
    /// Speak JSON-RPC on stdin/stdout instead of a socket.
    #[arg(long)]
    pub stdio: bool,
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
    Restore(RestoreArgs),
    /// Show the Account ID, the Ed25519 public key and the display name.
    Show,
    /// Show the recovery password, after a confirmation.
    RecoveryPassword(RecoveryPasswordArgs),
    /// Seal the account and its database key with a passphrase (asked on the terminal, or
    /// read from $HUSH_PASSPHRASE); commands then need it.
    Lock,
    /// Remove the passphrase.
    Unlock,
}

/// `hush backup …`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Split the account's secret into SLIP-39 shares (20 words each): any THRESHOLD of them
    /// restore it, fewer reveal nothing. With --group, a two-level scheme: any
    /// GROUP_THRESHOLD groups, each with its own threshold.
    Split(SplitArgs),
    /// Restore the account from shares read from stdin, one per line (or asked for on a
    /// terminal). Prints the Account ID.
    Recover(RecoverArgs),
    /// Check a set of shares (from stdin or a terminal) without restoring anything.
    Check,
}

/// Options of `backup split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Shares needed to restore (single group).
    #[arg(long, value_name = "T", requires = "shares", conflicts_with = "groups")]
    pub threshold: Option<u8>,
    /// Shares to make (single group, at most 16).
    #[arg(long, value_name = "N", requires = "threshold")]
    pub shares: Option<u8>,
    /// A group of shares: T of N (repeat for each group).
    #[arg(long = "group", value_name = "T/N", value_parser = parse_group, id = "groups")]
    pub groups: Vec<(u8, u8)>,
    /// Groups needed to restore (with --group).
    #[arg(long, value_name = "GT", requires = "groups")]
    pub group_threshold: Option<u8>,
    /// Protect the shares with the passphrase in this file (printable ASCII; a trailing
    /// newline is ignored). It is needed to restore; a wrong one restores another account.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Make non-extendable shares (for SLIP-39 implementations older than 2024).
    #[arg(long)]
    pub not_extendable: bool,
    /// Do not ask for confirmation before printing the shares.
    #[arg(long)]
    pub yes: bool,
}

fn parse_group(s: &str) -> Result<(u8, u8), String> {
    let (t, n) =
        s.split_once('/').ok_or_else(|| format!("{s:?}: expected T/N, for example 2/3"))?;
    let t: u8 = t.trim().parse().map_err(|_| format!("{s:?}: T is a number"))?;
    let n: u8 = n.trim().parse().map_err(|_| format!("{s:?}: N is a number"))?;
    Ok((t, n))
}

/// Options of `backup recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The name others see (1 to 100 characters).
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
    /// The passphrase the shares were made with, in this file.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Replace an existing account in this profile.
    #[arg(long)]
    pub force: bool,
    /// Only restore the keys here; fetch nothing from the network.
    #[arg(long)]
    pub offline: bool,
}

/// Options of `account restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub new: NewArgs,
    /// Only restore the keys here; fetch nothing from the network (the first command that
    /// connects brings the account's contacts and messages).
    #[arg(long)]
    pub offline: bool,
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
    /// The network file.
    pub network_file: PathBuf,
    /// Whether the network was chosen (`--network` / `HUSH_NETWORK`) rather than defaulted
    /// to the local devnet.
    pub network_chosen: bool,
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
        let network_file =
            self.network.clone().unwrap_or_else(|| data_dir.join("devnet").join("network.json"));
        Ok(Settings {
            data_dir,
            data_dir_flag: self.data_dir.is_some(),
            profile,
            json: self.json,
            network_file,
            network_chosen: self.network.is_some(),
        })
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

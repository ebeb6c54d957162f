//! `hush account new | restore | show | recovery-password | lock | unlock`.

use std::io::{self, BufRead, IsTerminal, Read};

use anyhow::{Context, anyhow};
use hush_proto::{AccountSeed, RecoveryPassword};
use hush_sodium::SystemRng;
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use serde_json::json;
use zeroize::Zeroizing;

use crate::Failure;
use crate::args::{AccountCommand, NewArgs, RecoveryPasswordArgs, RestoreArgs, Settings};
use crate::commands::session::{now_ms, open_client, passphrase, read_secret, runtime};
use crate::output;
use hush_client::RestoreProgress;
use hush_client::profile::{Created, Previous, Profile, validate_display_name};

/// Longest line accepted as a recovery password on stdin (25 long words fit easily).
const MAX_PASSWORD_LINE: u64 = 4096;

/// Runs one `account` subcommand.
pub fn run(settings: &Settings, command: AccountCommand) -> Result<(), Failure> {
    let profile = Profile::new(&settings.data_dir, settings.profile.clone());
    match command {
        AccountCommand::New(args) => new(settings, &profile, args),
        AccountCommand::Restore(args) => restore(settings, &profile, args),
        AccountCommand::Show => show(settings, &profile),
        AccountCommand::RecoveryPassword(args) => recovery_password(settings, &profile, &args),
        AccountCommand::Lock => lock(settings, &profile),
        AccountCommand::Unlock => unlock(settings, &profile),
    }
}

/// Validates the display name and refuses to replace an account without `--force`.
pub fn prepare(
    profile: &Profile,
    display_name: Option<&str>,
    force: bool,
) -> Result<Option<String>, Failure> {
    let display_name =
        display_name.map(validate_display_name).transpose().map_err(Failure::invalid_input)?;
    if profile.has_account() && !force {
        return Err(anyhow!(
            "profile '{}' already has an account; it is never overwritten. Use another \
             profile (--profile NAME) or pass --force to replace it",
            profile.name()
        )
        .into());
    }
    Ok(display_name)
}

fn new(settings: &Settings, profile: &Profile, args: NewArgs) -> Result<(), Failure> {
    let display_name = prepare(profile, args.display_name.as_deref(), args.force)?;
    let seed = AccountSeed::generate(&mut SystemRng);
    let stored = profile.create(seed, display_name, now_ms(), args.force)?;
    report_account(settings, profile, &stored, false);
    Ok(())
}

fn restore(settings: &Settings, profile: &Profile, args: RestoreArgs) -> Result<(), Failure> {
    let display_name = prepare(profile, args.new.display_name.as_deref(), args.new.force)?;
    let phrase = read_recovery_password()?;
    let seed = RecoveryPassword::parse(&phrase)
        .map_err(|e| Failure::invalid_input(anyhow!(e).context("invalid recovery password")))?;
    let stored = profile.create(seed, display_name, now_ms(), args.new.force)?;
    report_account(settings, profile, &stored, true);
    fetch_restored(settings, args.offline)
}

/// After a restore: fetches what the swarm keeps of the account — its config messages, then
/// the last 14 days of messages — with progress (a line on a terminal, `restore_progress`
/// objects with `--json`) and a summary. Without a network file there is nothing to reach:
/// the keys are restored and the first command that connects fetches the rest.
pub fn fetch_restored(settings: &Settings, offline: bool) -> Result<(), Failure> {
    if offline {
        return Ok(());
    }
    if !settings.network_file.exists() {
        output::note(&format!(
            "No network file at {}: only the keys are restored. The account's contacts and \
             messages come the first time hush connects (for example `hush receive`).",
            settings.network_file.display()
        ));
        return Ok(());
    }
    let client = open_client(settings)?;
    let runtime = runtime()?;
    let live = !settings.json && io::stderr().is_terminal();
    let restore = client.restore(|progress| match progress {
        RestoreProgress::Done(_) => {}
        _ if settings.json => {
            output::json(&json!({ "type": "restore_progress", "progress": progress }));
        }
        RestoreProgress::Connecting if live => output::prompt("[1/2] connecting to the network…"),
        RestoreProgress::Fetching { configs, messages, .. } if live => output::prompt(&format!(
            "\r\x1b[2K[2/2] fetching: {configs} config messages, {messages} messages"
        )),
        _ => {}
    });
    let summary = runtime.block_on(restore).map_err(|e| {
        anyhow!(e).context(
            "the account is restored on this device, but fetching its data failed; \
             `hush receive` tries again",
        )
    })?;
    runtime.block_on(client.shutdown());
    if live {
        output::note("");
    }
    if settings.json {
        output::json(&json!({
            "type": "restored",
            "display_name": summary.display_name,
            "contacts": summary.contacts,
            "conversations": summary.conversations,
            "messages": summary.messages,
        }));
    } else {
        output::note(&format!(
            "Fetched {} contacts, {} conversations and {} messages{}.",
            summary.contacts,
            summary.conversations,
            summary.messages,
            summary.display_name.map(|n| format!(" for {n}")).unwrap_or_default()
        ));
    }
    Ok(())
}

/// One line from stdin when it is not a terminal; otherwise a prompt without echo.
fn read_recovery_password() -> Result<Zeroizing<String>, Failure> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        output::note("Enter your 13-word recovery password (the words are not shown as you type).");
        let phrase = rpassword::prompt_password("Recovery password: ")
            .context("reading the recovery password from the terminal")?;
        return Ok(Zeroizing::new(phrase));
    }
    let mut line = Zeroizing::new(String::new());
    stdin.lock().take(MAX_PASSWORD_LINE + 1).read_line(&mut line).map_err(|e| {
        Failure::invalid_input(anyhow!(e).context("reading the recovery password from stdin"))
    })?;
    if line.len() as u64 > MAX_PASSWORD_LINE {
        return Err(Failure::invalid_input(anyhow!(
            "the recovery password line is longer than {MAX_PASSWORD_LINE} bytes"
        )));
    }
    Ok(line)
}

pub fn report_account(settings: &Settings, profile: &Profile, stored: &Created, restored: bool) {
    let id = stored.identity.account_id().to_string();
    let show_command = if profile.name() == "default" {
        "hush account recovery-password".to_owned()
    } else {
        format!("hush --profile {} account recovery-password", profile.name())
    };
    if settings.json {
        output::json(&json!({
            "account_id": id,
            "ed25519_pubkey": hex::encode(stored.identity.ed25519_public().as_bytes()),
            "display_name": stored.display_name,
            "profile": profile.name(),
            "restored": restored,
            "recovery_password_command": show_command,
            "previous": match &stored.previous {
                Previous::Nothing => json!(null),
                Previous::Kept => json!({"kept": true}),
                Previous::MovedAside(dir) => json!({"moved_aside": dir}),
            },
        }));
    } else {
        output::result(&id);
        let verb = if restored { "Restored" } else { "Created" };
        output::note(&format!(
            "{verb} the account above in profile '{}'. Share the Account ID with people who \
             should reach you.",
            profile.name()
        ));
    }
    match &stored.previous {
        Previous::Nothing => {}
        Previous::Kept => output::note(
            "This account was already in the profile: its database (messages, contacts, \
             queued messages) and its passphrase, if any, are kept.",
        ),
        Previous::MovedAside(dir) => output::note(&format!(
            "What the profile held before (an account file and/or its database) was moved to \
             {}; nothing was deleted.",
            dir.display()
        )),
    }
    if !restored {
        output::note(&format!(
            "Your recovery password is the only way to get this account back on another \
             device. Write it down and keep it offline; to see it, run: {show_command}"
        ));
    }
}

fn show(settings: &Settings, profile: &Profile) -> Result<(), Failure> {
    let stored = profile.load(passphrase(profile)?.as_deref().map(String::as_str))?;
    let id = stored.identity.account_id().to_string();
    let ed = hex::encode(stored.identity.ed25519_public().as_bytes());
    if settings.json {
        output::json(&json!({
            "account_id": id,
            "ed25519_pubkey": ed,
            "display_name": stored.display_name,
        }));
    } else {
        output::result(&format!("Account ID:    {id}"));
        output::result(&format!("Ed25519 key:   {ed}"));
        output::result(&format!(
            "Display name:  {}",
            output::one_line(stored.display_name.as_deref().unwrap_or("(not set)"))
        ));
        output::result(&format!("Profile:       {}", profile.name()));
    }
    Ok(())
}

fn recovery_password(
    settings: &Settings,
    profile: &Profile,
    args: &RecoveryPasswordArgs,
) -> Result<(), Failure> {
    if args.qr && settings.json {
        return Err(Failure::invalid_input(anyhow!(
            "--qr draws on a terminal and cannot be combined with --json"
        )));
    }
    let stored = profile.load(passphrase(profile)?.as_deref().map(String::as_str))?;
    if !args.yes {
        confirm_showing()?;
    }
    let words = stored.seed.recovery_password();
    if settings.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            recovery_password: &'a str,
        }
        // Serialized into a wiped, never-reallocated buffer rather than a `serde_json::Value`.
        let mut line = Zeroizing::new(Vec::with_capacity(64 + 2 * words.expose().len()));
        serde_json::to_writer(&mut *line, &Shown { recovery_password: words.expose() })
            .context("serializing")?;
        output::json_bytes(&line);
        return Ok(());
    }
    output::note("Anyone who sees these words controls your account. Never share them.");
    output::result(words.expose());
    if args.qr {
        let code = QrCode::with_error_correction_level(words.expose().as_bytes(), EcLevel::M)
            .context("drawing the QR code")?;
        // Light modules drawn as blocks: scannable on the usual dark terminal background.
        // The rendered art encodes the words too: keep it in a wiped buffer.
        let art = Zeroizing::new(
            code.render::<Dense1x2>()
                .dark_color(Dense1x2::Light)
                .light_color(Dense1x2::Dark)
                .quiet_zone(true)
                .build(),
        );
        output::result(&art);
    }
    Ok(())
}

/// Asks on the terminal; refuses without a terminal (scripts pass `--yes`).
fn confirm_showing() -> Result<(), Failure> {
    confirm_secrets(
        "the recovery password",
        "Your recovery password gives full control of your account to whoever sees it.\n\
         Show it now? [y/N] ",
    )
}

/// Asks on the terminal before printing `what` (secrets that control the account); without
/// a terminal, refuses unless the caller passed `--yes`.
pub fn confirm_secrets(what: &str, question: &str) -> Result<(), Failure> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return Err(anyhow!(
            "not showing {what} without a confirmation: run this in a terminal, or pass --yes"
        )
        .into());
    }
    output::prompt(question);
    let mut answer = String::new();
    stdin.lock().take(64).read_line(&mut answer).context("reading the answer")?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(anyhow!("not shown").into())
    }
}

fn lock(settings: &Settings, profile: &Profile) -> Result<(), Failure> {
    let current = passphrase(profile)?;
    let new = match std::env::var("HUSH_NEW_PASSPHRASE") {
        Ok(p) if !p.is_empty() => Zeroizing::new(p),
        _ if current.is_none() && std::env::var("HUSH_PASSPHRASE").is_ok_and(|p| !p.is_empty()) => {
            Zeroizing::new(std::env::var("HUSH_PASSPHRASE").unwrap_or_default())
        }
        _ => {
            let first = read_secret("New passphrase (at least 8 characters): ")?;
            let again = read_secret("Repeat it: ")?;
            if *first != *again {
                return Err(Failure::invalid_input(anyhow!("the passphrases differ")));
            }
            first
        }
    };
    profile.lock_with(current.as_deref().map(String::as_str), &new)?;
    if settings.json {
        output::json(&json!({"profile": profile.name(), "locked": true}));
    } else {
        output::note(&format!(
            "Profile '{}' is locked: its account and database open only with the passphrase \
             (asked for, or taken from $HUSH_PASSPHRASE).",
            profile.name()
        ));
    }
    Ok(())
}

fn unlock(settings: &Settings, profile: &Profile) -> Result<(), Failure> {
    if !profile.is_locked()? {
        return Err(anyhow!("profile '{}' is not locked", profile.name()).into());
    }
    let Some(current) = passphrase(profile)? else {
        return Err(hush_client::Error::Locked.into());
    };
    profile.unlock(&current)?;
    if settings.json {
        output::json(&json!({"profile": profile.name(), "locked": false}));
    } else {
        output::note(&format!("Profile '{}' no longer needs a passphrase.", profile.name()));
    }
    Ok(())
}

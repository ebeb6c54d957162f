//! `hush backup split | recover | check`: Shamir backups of the account's secret (SLIP-39,
//! `hush_proto::slip39`), compatible with Trezor's `shamir` tool.
//!
//! Shares are read one per line (blank lines and extra spaces ignored) from stdin, or asked
//! for one at a time on a terminal until there are enough. Nothing is written unless the
//! shares restore an account.

use std::io::{self, BufRead, IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, anyhow};
use hush_client::Profile;
use hush_proto::AccountSeed;
use hush_proto::slip39::{self, Group, Options, Scheme};
use hush_sodium::SystemRng;
use serde_json::json;
use zeroize::Zeroizing;

use crate::Failure;
use crate::args::{BackupCommand, RecoverArgs, Settings, SplitArgs};
use crate::commands::account::{prepare, report_account};
use crate::commands::session::{now_ms, passphrase};
use crate::output;

/// Lines read from stdin at most, and their length.
const MAX_LINES: usize = 300;
const MAX_LINE: u64 = 1024;

/// Runs one `backup` subcommand.
pub fn run(settings: &Settings, command: BackupCommand) -> Result<(), Failure> {
    let profile = Profile::new(&settings.data_dir, settings.profile.clone());
    match command {
        BackupCommand::Split(args) => split(settings, &profile, &args),
        BackupCommand::Recover(args) => recover(settings, &profile, &args),
        BackupCommand::Check => check(settings),
    }
}

/// The SLIP-39 passphrase from a file: printable ASCII, trailing newline dropped.
fn read_passphrase(file: Option<&Path>) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let Some(path) = file else { return Ok(Zeroizing::new(Vec::new())) };
    let mut bytes =
        Zeroizing::new(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    if !bytes.iter().all(|b| (32..=126).contains(b)) {
        return Err(Failure::invalid_input(anyhow!(
            "{}: a SLIP-39 passphrase is printable ASCII only",
            path.display()
        )));
    }
    Ok(bytes)
}

fn split(settings: &Settings, profile: &Profile, args: &SplitArgs) -> Result<(), Failure> {
    let scheme = match (args.threshold, args.shares, args.groups.is_empty()) {
        (Some(t), Some(n), true) => Scheme::single(t, n),
        (None, None, false) => {
            let groups: Vec<Group> =
                args.groups.iter().map(|&(threshold, count)| Group { threshold, count }).collect();
            let group_threshold = match (args.group_threshold, groups.len()) {
                (Some(gt), _) => gt,
                (None, 1) => 1,
                (None, _) => {
                    return Err(Failure::invalid_input(anyhow!(
                        "with several groups, say how many are needed: --group-threshold GT"
                    )));
                }
            };
            Scheme { group_threshold, groups }
        }
        _ => {
            return Err(Failure::invalid_input(anyhow!(
                "say how to split: --threshold T --shares N, or --group T/N (repeated) with \
                 --group-threshold GT"
            )));
        }
    };
    let secret_phrase = read_passphrase(args.passphrase_file.as_deref())?;
    let stored = profile.load(passphrase(profile)?.as_deref().map(String::as_str))?;
    let options = Options { extendable: !args.not_extendable, ..Options::default() };
    let groups =
        slip39::split(stored.seed.entropy(), &secret_phrase, &scheme, options, &mut SystemRng)
            .map_err(Failure::invalid_input)?;
    if settings.json {
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Shares<'a> {
            One(Vec<&'a str>),
            Groups(Vec<Vec<&'a str>>),
        }
        #[derive(serde::Serialize)]
        struct Out<'a> {
            shares: Shares<'a>,
        }
        let lists: Vec<Vec<&str>> =
            groups.iter().map(|g| g.iter().map(|m| m.as_str()).collect()).collect();
        let shares = if lists.len() == 1 && args.groups.is_empty() {
            Shares::One(lists.into_iter().next().unwrap_or_default())
        } else {
            Shares::Groups(lists)
        };
        let mut line = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer(&mut *line, &Out { shares }).context("serializing")?;
        output::json_bytes(&line);
        return Ok(());
    }
    let id = stored.identity.account_id().to_string();
    output::note(&format!(
        "Shamir backup of account {}… — write each share on its own paper and keep them in \
         different places. Anyone with enough shares controls the account; fewer reveal nothing.",
        &id[..10]
    ));
    for (g, (group, spec)) in groups.iter().zip(&scheme.groups).enumerate() {
        if scheme.groups.len() > 1 {
            output::result(&format!(
                "Group {} of {} ({} of its {} shares needed; {} groups needed in all):",
                g + 1,
                scheme.groups.len(),
                spec.threshold,
                spec.count,
                scheme.group_threshold
            ));
        }
        for (i, share) in group.iter().enumerate() {
            output::result(&format!("Share {}: {}", i + 1, share.as_str()));
        }
    }
    let needed = if scheme.groups.len() == 1 {
        format!("any {} of these {} shares", scheme.groups[0].threshold, scheme.groups[0].count)
    } else {
        format!("shares from any {} of the groups", scheme.group_threshold)
    };
    output::note(&format!(
        "To restore: `hush backup recover` with {needed}{}. Check a set any time with `hush \
         backup check`.",
        if args.passphrase_file.is_some() { " and the passphrase" } else { "" }
    ));
    Ok(())
}

/// Shares from stdin (one per line) or, on a terminal, asked for until there are enough.
fn read_shares() -> Result<Vec<Zeroizing<String>>, Failure> {
    let stdin = io::stdin();
    let mut shares: Vec<Zeroizing<String>> = Vec::new();
    if stdin.is_terminal() {
        output::note("Enter the shares, one per line (an empty line when done).");
        loop {
            output::prompt(&format!("Share {}: ", shares.len() + 1));
            let mut line = Zeroizing::new(String::new());
            if stdin.lock().take(MAX_LINE).read_line(&mut line).context("reading a share")? == 0 {
                break;
            }
            let line = Zeroizing::new(line.split_whitespace().collect::<Vec<_>>().join(" "));
            if line.is_empty() {
                break;
            }
            // Tell at once what is wrong with this share, or whether more are needed.
            let mut trial: Vec<&str> = shares.iter().map(|s| s.as_str()).collect();
            trial.push(&line);
            match slip39::inspect(&trial) {
                Ok(_) => {
                    shares.push(line);
                    break;
                }
                Err(e) if e.to_string().starts_with("not enough shares") => {
                    output::note(&e.to_string());
                    shares.push(line);
                }
                Err(e) => output::note(&format!("{e} — type it again")),
            }
        }
        return Ok(shares);
    }
    let mut lock = stdin.lock();
    for _ in 0..MAX_LINES {
        let mut line = Zeroizing::new(String::new());
        if (&mut lock).take(MAX_LINE).read_line(&mut line).context("reading shares from stdin")?
            == 0
        {
            break;
        }
        let line = Zeroizing::new(line.split_whitespace().collect::<Vec<_>>().join(" "));
        if !line.is_empty() {
            shares.push(line);
        }
    }
    Ok(shares)
}

fn recover(settings: &Settings, profile: &Profile, args: &RecoverArgs) -> Result<(), Failure> {
    let display_name = prepare(profile, args.display_name.as_deref(), args.force)?;
    let secret_phrase = read_passphrase(args.passphrase_file.as_deref())?;
    let shares = read_shares()?;
    let secret = slip39::combine(&shares, &secret_phrase).map_err(Failure::invalid_input)?;
    let seed = AccountSeed::from_entropy(&secret).map_err(|e| {
        Failure::invalid_input(
            anyhow!(e).context("the shares hold a secret that is not a hush account"),
        )
    })?;
    let stored = profile.create(seed, display_name, now_ms(), args.force)?;
    report_account(settings, profile, &stored, true);
    Ok(())
}

fn check(settings: &Settings) -> Result<(), Failure> {
    let shares = read_shares()?;
    let set = slip39::inspect(&shares).map_err(Failure::invalid_input)?;
    if settings.json {
        output::json(&json!({
            "valid": true,
            "shares": shares.len(),
            "identifier": set.identifier,
            "extendable": set.extendable,
            "iteration_exponent": set.iteration_exponent,
            "group_threshold": set.group_threshold,
            "group_count": set.group_count,
            "groups": set.groups.iter().map(|(g, t, h)| json!({"group": g, "threshold": t, "given": h})).collect::<Vec<_>>(),
            "secret_bits": set.secret_len * 8,
        }));
    } else {
        output::result(&format!(
            "These {} shares are enough to restore the account (a {}-bit secret; {} of {} groups needed). \
             Whether the passphrase is right shows only in the Account ID `hush backup recover` prints.",
            shares.len(),
            set.secret_len * 8,
            set.group_threshold,
            set.group_count
        ));
    }
    Ok(())
}

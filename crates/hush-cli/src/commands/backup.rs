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
use crate::commands::account::{confirm_secrets, prepare, report_account};
use crate::commands::session::{now_ms, passphrase};
use crate::output;

/// Lines read from stdin at most, and their length.
const MAX_LINES: usize = 300;
const MAX_LINE: usize = 1024;
/// Longest passphrase file.
const MAX_PASSPHRASE: usize = 1024;

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
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PASSPHRASE + 1));
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PASSPHRASE as u64 + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > MAX_PASSPHRASE {
        return Err(Failure::invalid_input(anyhow!(
            "{}: a passphrase file holds at most {MAX_PASSPHRASE} bytes",
            path.display()
        )));
    }
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
    scheme.validate().map_err(Failure::invalid_input)?;
    let secret_phrase = read_passphrase(args.passphrase_file.as_deref())?;
    let stored = profile.load(passphrase(profile)?.as_deref().map(String::as_str))?;
    if !args.yes {
        confirm_secrets(
            "the shares",
            "Enough of these shares give full control of your account to whoever holds them.\n\
             Show them now? [y/N] ",
        )?;
    }
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
        // Sized for the largest scheme (16 × 16 shares of 33 words) so it never reallocates.
        let mut line = Zeroizing::new(Vec::with_capacity(160 * 1024));
        serde_json::to_writer(&mut *line, &Out { shares }).context("serializing")?;
        line.push(b'\n');
        // A backup that did not reach its destination must not look like a success.
        write_out(&line)?;
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
            let line = Zeroizing::new(format!("Share {}: {}\n", i + 1, share.as_str()));
            write_out(line.as_bytes())?;
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

/// Writes to stdout and flushes, failing (exit 1) if that does not work.
fn write_out(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).context("writing the shares to stdout")?;
    Ok(())
}

/// One line of at most [`MAX_LINE`] bytes, whitespace normalised; `None` at the end of input.
fn read_share_line(input: &mut impl BufRead) -> Result<Option<Zeroizing<String>>, Failure> {
    let mut raw = Zeroizing::new(Vec::with_capacity(MAX_LINE + 1));
    let n =
        input.take(MAX_LINE as u64 + 1).read_until(b'\n', &mut raw).context("reading shares")?;
    if n == 0 {
        return Ok(None);
    }
    if raw.len() > MAX_LINE && !raw.ends_with(b"\n") {
        return Err(Failure::invalid_input(anyhow!(
            "a line of the input is longer than {MAX_LINE} bytes: one share per line"
        )));
    }
    let text = std::str::from_utf8(&raw)
        .map_err(|_| Failure::invalid_input(anyhow!("the shares are not UTF-8 text")))?;
    let text = text.trim_start_matches('\u{feff}');
    Ok(Some(Zeroizing::new(text.split_whitespace().collect::<Vec<_>>().join(" "))))
}

/// Shares from stdin (one per line) or, on a terminal, asked for one at a time — each
/// checked as it comes — until an empty line or the end of input.
fn read_shares() -> Result<Vec<Zeroizing<String>>, Failure> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut shares: Vec<Zeroizing<String>> = Vec::new();
    if io::stdin().is_terminal() {
        output::note("Enter the shares, one per line; an empty line when done.");
        loop {
            output::prompt(&format!("Share {}: ", shares.len() + 1));
            let Some(line) = read_share_line(&mut input)? else { break };
            if line.is_empty() {
                break;
            }
            let mut trial: Vec<&str> = shares.iter().map(|s| s.as_str()).collect();
            trial.push(&line);
            match slip39::inspect(&trial) {
                Ok(_) => {
                    output::note("That is enough shares: press Enter to finish (or add more).");
                    shares.push(line);
                }
                Err(hush_proto::Error::SharesMissing(what)) => {
                    output::note(&format!("Accepted; {what}."));
                    shares.push(line);
                }
                Err(e) => output::note(&format!(
                    "{e} — type it again (or, if an earlier share was the wrong one, press Ctrl-C \
                     and start over)"
                )),
            }
        }
        return Ok(shares);
    }
    while let Some(line) = read_share_line(&mut input)? {
        if line.is_empty() {
            continue;
        }
        if shares.len() == MAX_LINES {
            return Err(Failure::invalid_input(anyhow!("more than {MAX_LINES} shares given")));
        }
        shares.push(line);
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
    super::account::fetch_restored(settings, args.offline)
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

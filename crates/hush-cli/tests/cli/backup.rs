//! `hush backup`: SLIP-39 splits and recovery through the real binary, and interoperability
//! with Trezor's reference tool (`shamir` from PyPI `shamir-mnemonic[cli]`), both ways.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{code, hush, hush_on_tty, json, stderr, stdout};
use hush_proto::RecoveryPassword;

/// `hush --data-dir DIR --profile P ARGS…` with `stdin`.
fn as_profile(dir: &Path, profile: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut all = vec!["--profile", profile];
    all.extend_from_slice(args);
    hush(dir, &all, stdin)
}

/// A new account in `profile`: its Account ID and seed (hex).
fn new_account(dir: &Path, profile: &str) -> (String, String) {
    let id = json(&as_profile(dir, profile, &["--json", "account", "new"], ""))["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown =
        json(&as_profile(dir, profile, &["--json", "account", "recovery-password", "--yes"], ""));
    let seed = RecoveryPassword::parse(shown["recovery_password"].as_str().unwrap()).unwrap();
    (id, hex::encode(seed.entropy()))
}

fn shares_of(out: &std::process::Output) -> Vec<String> {
    assert_eq!(code(out), 0, "{}", stderr(out));
    json(out)["shares"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

#[test]
fn split_recover_and_check_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (id, _) = new_account(d, "alice");
    // Shares control the account: like the recovery password, they are printed only after a
    // confirmation (or --yes); without a terminal to ask on, nothing is printed.
    for args in [&["backup", "split"][..], &["--json", "backup", "split"]] {
        let refused =
            as_profile(d, "alice", &[args, &["--threshold", "2", "--shares", "3"]].concat(), "y\n");
        assert_eq!(code(&refused), 1, "{}", stderr(&refused));
        assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
        assert!(!stdout(&refused).contains("Share ") && !stdout(&refused).contains("\"shares\""));
    }
    let shares = shares_of(&as_profile(
        d,
        "alice",
        &["--json", "backup", "split", "--yes", "--threshold", "2", "--shares", "3"],
        "",
    ));
    assert_eq!(shares.len(), 3);
    assert!(shares.iter().all(|s| s.split(' ').count() == 20));
    // Any two restore the same account; extra spaces and blank lines do not matter.
    let input = format!("\n  {}  \n\n{}\n", shares[2].replace(' ', "   "), shares[0]);
    let restored =
        as_profile(d, "copy", &["--json", "backup", "recover", "--display-name", "Al"], &input);
    assert_eq!(code(&restored), 0, "{}", stderr(&restored));
    assert_eq!(json(&restored)["account_id"], id.as_str());
    assert_eq!(json(&restored)["display_name"], "Al");
    // check: enough, or what is missing — nothing written either way.
    let ok = as_profile(
        d,
        "nobody",
        &["--json", "backup", "check"],
        &format!("{}\n{}\n", shares[0], shares[1]),
    );
    assert_eq!(json(&ok)["valid"], true);
    let few = as_profile(d, "nobody", &["backup", "check"], &format!("{}\n", shares[1]));
    assert_eq!(code(&few), 2);
    assert!(stderr(&few).contains("group 1 needs 1 more share"), "{}", stderr(&few));
    let mut words: Vec<&str> = shares[1].split(' ').collect();
    words[9] = if words[9] == "zero" { "yoga" } else { "zero" };
    let typo = as_profile(
        d,
        "nobody",
        &["backup", "recover"],
        &format!("{}\n{}\n", shares[0], words.join(" ")),
    );
    assert_eq!(code(&typo), 2);
    assert!(stderr(&typo).contains("share 2 fails its checksum: word 10"), "{}", stderr(&typo));
    let dup = as_profile(d, "nobody", &["backup", "recover"], &format!("{0}\n{0}\n", shares[0]));
    assert_eq!(code(&dup), 2);
    assert!(stderr(&dup).contains("share 2 repeats share 1"), "{}", stderr(&dup));
    assert!(!d.join("profiles").join("nobody").join("account.json").exists(), "nothing written");
    // An existing account is not replaced without --force.
    let again = as_profile(d, "copy", &["backup", "recover"], &input);
    assert_eq!(code(&again), 1);
    // Groups: a list per group; 2 of 3 groups restore.
    let grouped = as_profile(
        d,
        "alice",
        &[
            "--json",
            "backup",
            "split",
            "--yes",
            "--group",
            "1/1",
            "--group",
            "2/3",
            "--group",
            "2/2",
            "--group-threshold",
            "2",
        ],
        "",
    );
    assert_eq!(code(&grouped), 0, "{}", stderr(&grouped));
    let groups: Vec<Vec<String>> =
        serde_json::from_value(json(&grouped)["shares"].clone()).unwrap();
    assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [1, 3, 2]);
    let input = format!("{}\n{}\n{}\n", groups[1][2], groups[0][0], groups[1][0]);
    let restored = as_profile(d, "grouped", &["--json", "backup", "recover"], &input);
    assert_eq!(json(&restored)["account_id"], id.as_str());
    let half = as_profile(
        d,
        "nobody",
        &["backup", "check"],
        &format!("{}\n{}\n", groups[1][0], groups[2][0]),
    );
    assert!(stderr(&half).contains("more complete group"), "{}", stderr(&half));
    // Bad schemes exit 2.
    for bad in [
        &["--threshold", "3", "--shares", "2"][..],
        &["--threshold", "1", "--shares", "3"],
        &["--group", "2/3", "--group", "1/1"],
    ] {
        let mut args = vec!["backup", "split", "--yes"];
        args.extend_from_slice(bad);
        assert_eq!(code(&as_profile(d, "alice", &args, "")), 2, "{bad:?}");
    }
    // Text output: the shares and how to restore.
    let text = as_profile(
        d,
        "alice",
        &["backup", "split", "--yes", "--threshold", "2", "--shares", "2"],
        "",
    );
    assert_eq!(stdout(&text).lines().filter(|l| l.starts_with("Share ")).count(), 2);
    assert!(stderr(&text).contains("hush backup recover"));
}

#[test]
fn on_a_terminal_recover_asks_for_shares_until_there_are_enough() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (id, _) = new_account(d, "alice");
    let shares = shares_of(&as_profile(
        d,
        "alice",
        &["--json", "backup", "split", "--yes", "--threshold", "2", "--shares", "3"],
        "",
    ));
    // A mistyped share is refused with the reason and asked for again; after two good ones
    // it says there are enough, and an empty line finishes.
    let mut typo: Vec<&str> = shares[0].split(' ').collect();
    typo[4] = if typo[4] == "zero" { "yoga" } else { "zero" };
    let keys = format!("{}\r{}\r{}\r\r", typo.join(" "), shares[0], shares[1]);
    let out = hush_on_tty(d, "--profile tty --json backup recover", &keys);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("share 1 fails its checksum: word 5"), "{text}");
    assert!(text.contains("needs 1 more share"), "{text}");
    assert!(text.contains("That is enough shares"), "{text}");
    assert!(text.contains(&id), "{text}");
}

/// Trezor's `shamir` tool: `$HUSH_SHAMIR`, else `shamir` on the PATH. `.ci/run` installs it
/// and sets `HUSH_REQUIRE_INTEROP=1`, so CI never skips this.
#[allow(clippy::print_stderr, reason = "a skipped test says so")]
fn shamir() -> Option<PathBuf> {
    let candidate =
        std::env::var_os("HUSH_SHAMIR").map(PathBuf::from).unwrap_or_else(|| "shamir".into());
    let works = Command::new(&candidate)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if works {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("HUSH_REQUIRE_INTEROP").is_none(),
        "HUSH_REQUIRE_INTEROP is set but Trezor's shamir tool is missing (pip install 'shamir-mnemonic[cli]')"
    );
    eprintln!(
        "SKIPPED slip39 interop: Trezor's shamir tool is not installed (bash .ci/run installs it)"
    );
    None
}

/// The 20-word shares `shamir create` printed.
fn trezor_shares(out: &std::process::Output) -> Vec<String> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split(' ').count() == 20)
        .map(str::to_owned)
        .collect()
}

/// Runs `shamir recover ARGS` with `input` on stdin; returns what it printed.
fn trezor_recover(shamir: &Path, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(shamir)
        .arg("recover")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn shares_interoperate_with_trezors_shamir_tool_both_ways() {
    let Some(shamir) = shamir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (id, seed) = new_account(d, "alice");
    let phrase_file = d.join("passphrase.txt");
    std::fs::write(&phrase_file, "correct horse\n").unwrap();
    let pf = phrase_file.to_str().unwrap();
    for (flag, passphrase) in
        [("-x", None), ("-X", None), ("-x", Some("correct horse")), ("-X", Some("correct horse"))]
    {
        // Trezor → hush.
        let mut create = Command::new(&shamir);
        create.args(["create", "2of3", "-S", &seed, flag]);
        if let Some(p) = passphrase {
            create.args(["-p", p]);
        }
        let made = trezor_shares(&create.output().unwrap());
        assert_eq!(made.len(), 3);
        let profile = format!("from-trezor{flag}{}", passphrase.is_some());
        let mut args = vec!["--json", "backup", "recover"];
        if passphrase.is_some() {
            args.extend(["--passphrase-file", pf]);
        }
        let restored = as_profile(d, &profile, &args, &format!("{}\n{}\n", made[0], made[2]));
        assert_eq!(code(&restored), 0, "{flag} {passphrase:?}: {}", stderr(&restored));
        assert_eq!(json(&restored)["account_id"], id.as_str(), "{flag} {passphrase:?}");

        // hush → Trezor.
        let mut args =
            vec!["--json", "backup", "split", "--yes", "--threshold", "2", "--shares", "3"];
        if flag == "-X" {
            args.push("--not-extendable");
        }
        if passphrase.is_some() {
            args.extend(["--passphrase-file", pf]);
        }
        let shares = shares_of(&as_profile(d, "alice", &args, ""));
        let mut input = format!("{}\n{}\n", shares[1], shares[2]);
        let mut recover_args = Vec::new();
        if let Some(p) = passphrase {
            recover_args.push("-p");
            input.push_str(&format!("{p}\n{p}\n"));
        }
        let text = trezor_recover(&shamir, &recover_args, &input);
        assert!(
            text.contains(&format!("Your master secret is: {seed}")),
            "{flag} {passphrase:?}: {text}"
        );
    }
    // Groups, both ways: Trezor's 2-of-{1/1, 2/3} → hush, and hush's → Trezor.
    let made = trezor_shares(
        &Command::new(&shamir)
            .args(["create", "custom", "-t", "2", "-g", "1", "1", "-g", "2", "3", "-S", &seed])
            .output()
            .unwrap(),
    );
    assert_eq!(made.len(), 4);
    let restored = as_profile(
        d,
        "from-trezor-groups",
        &["--json", "backup", "recover"],
        &format!("{}\n{}\n{}\n", made[3], made[0], made[1]),
    );
    assert_eq!(json(&restored)["account_id"], id.as_str(), "{}", stderr(&restored));
    let grouped = as_profile(
        d,
        "alice",
        &[
            "--json",
            "backup",
            "split",
            "--yes",
            "--group",
            "1/1",
            "--group",
            "2/3",
            "--group-threshold",
            "2",
        ],
        "",
    );
    let groups: Vec<Vec<String>> =
        serde_json::from_value(json(&grouped)["shares"].clone()).unwrap();
    let input = format!("{}\n{}\n{}\n", groups[1][2], groups[0][0], groups[1][1]);
    let text = trezor_recover(&shamir, &[], &input);
    assert!(text.contains(&format!("Your master secret is: {seed}")), "groups: {text}");
}

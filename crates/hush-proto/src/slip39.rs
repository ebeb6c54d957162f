//! SLIP-39: Shamir backups of a secret as word shares, compatible with Trezor's
//! implementation (`trezor/python-shamir-mnemonic`, whose 45 test vectors pass here).
//!
//! The secret (hush: the 16-byte account seed) is encrypted with a passphrase (a Feistel
//! network over PBKDF2-HMAC-SHA256, `cipher`), then split in two levels: any `GT` of `G`
//! groups, each group any `Tᵢ` of its `Nᵢ` member shares (`gf256`). Each share is a line of
//! 20 words (33 for a 256-bit secret) from the SLIP-39 word list (`wordlist`), ending in an
//! RS1024 checksum (`rs1024`). A plain `T`-of-`N` split is one group.
//!
//! New backups are *extendable* by default (the 2024 revision of SLIP-39, Trezor's default):
//! more shares for the same secret can be made later with a new identifier. Reading accepts
//! both kinds.
//!
//! Errors name the share (by its 1-based position in the input), the word, or what is
//! missing; fewer shares than needed reveal nothing about the secret. Shares beyond a group's
//! threshold (and complete groups beyond the group threshold) are accepted and checked
//! against the others (Trezor's recovery accepts them too).

mod cipher;
mod gf256;
mod rs1024;
mod share;
mod wordlist;

use hush_sodium::Csprng;
use zeroize::Zeroizing;

use self::gf256::RawShare;
use self::share::Share;
use crate::{Error, Result};

/// One group of a scheme: any `threshold` of its `count` shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// Shares needed.
    pub threshold: u8,
    /// Shares made.
    pub count: u8,
}

/// How a secret is split: any `group_threshold` of the `groups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheme {
    /// Groups needed.
    pub group_threshold: u8,
    /// The groups.
    pub groups: Vec<Group>,
}

impl Scheme {
    /// A plain `threshold`-of-`count` split (one group).
    pub fn single(threshold: u8, count: u8) -> Self {
        Self { group_threshold: 1, groups: vec![Group { threshold, count }] }
    }

    /// Checks that the scheme can be made (before any secret is touched).
    pub fn validate(&self) -> Result<()> {
        let group_count = u8::try_from(self.groups.len()).unwrap_or(u8::MAX);
        if self.groups.is_empty() || group_count > 16 {
            return Err(Error::ShareScheme("a scheme has 1 to 16 groups".into()));
        }
        if self.group_threshold == 0 || self.group_threshold > group_count {
            return Err(Error::ShareScheme(format!(
                "the group threshold ({}) must be between 1 and the number of groups ({group_count})",
                self.group_threshold
            )));
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.threshold == 1 && g.count > 1 {
                return Err(Error::ShareScheme(format!(
                    "group {}: several shares with threshold 1 would be copies of one another; use 1 \
                     of 1",
                    i + 1
                )));
            }
            if g.threshold == 0 || g.threshold > g.count || g.count > 16 {
                return Err(Error::ShareScheme(format!(
                    "group {}: {} of {} is not possible (1 ≤ threshold ≤ shares ≤ 16)",
                    i + 1,
                    g.threshold,
                    g.count
                )));
            }
        }
        Ok(())
    }
}

/// Options of a split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Mark the backup extendable (default: yes, as Trezor).
    pub extendable: bool,
    /// PBKDF2 cost: 10 000 · 2^e iterations in all (default 1, as Trezor).
    pub iteration_exponent: u8,
}

impl Default for Options {
    fn default() -> Self {
        Self { extendable: true, iteration_exponent: 1 }
    }
}

fn check_passphrase(passphrase: &[u8]) -> Result<()> {
    if passphrase.iter().all(|b| (32..=126).contains(b)) {
        Ok(())
    } else {
        Err(Error::ShareScheme("a SLIP-39 passphrase is printable ASCII only".into()))
    }
}

/// Splits `secret` (at least 16 bytes, even length) into shares: one list of mnemonics per
/// group, in group order.
pub fn split(
    secret: &[u8],
    passphrase: &[u8],
    scheme: &Scheme,
    options: Options,
    rng: &mut impl Csprng,
) -> Result<Vec<Vec<Zeroizing<String>>>> {
    check_passphrase(passphrase)?;
    if secret.len() < 16 || !secret.len().is_multiple_of(2) {
        return Err(Error::ShareScheme(format!(
            "a SLIP-39 secret is at least 16 bytes and of even length, got {}",
            secret.len()
        )));
    }
    if options.iteration_exponent > 15 {
        return Err(Error::ShareScheme("the iteration exponent is at most 15".into()));
    }
    scheme.validate()?;
    let group_count = u8::try_from(scheme.groups.len()).unwrap_or(u8::MAX);
    let identifier = u16::from_be_bytes(rng.array::<2>()) & 0x7FFF;
    let encrypted = cipher::encrypt(
        secret,
        passphrase,
        options.iteration_exponent,
        identifier,
        options.extendable,
    );
    let group_shares = gf256::split(scheme.group_threshold, group_count, &encrypted, rng)?;
    let mut out = Vec::with_capacity(scheme.groups.len());
    for (group, group_share) in scheme.groups.iter().zip(&group_shares) {
        let members = gf256::split(group.threshold, group.count, &group_share.data, rng)?;
        out.push(
            members
                .into_iter()
                .map(|m| {
                    Share {
                        identifier,
                        extendable: options.extendable,
                        exponent: options.iteration_exponent,
                        group_index: group_share.x,
                        group_threshold: scheme.group_threshold,
                        group_count,
                        member_index: m.x,
                        member_threshold: group.threshold,
                        value: m.data,
                    }
                    .mnemonic()
                })
                .collect(),
        );
    }
    Ok(out)
}

/// What a set of shares holds, and whether it is enough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareSet {
    /// The backup's random identifier (shared by all its shares).
    pub identifier: u16,
    /// Whether the backup is extendable.
    pub extendable: bool,
    /// The PBKDF2 iteration exponent.
    pub iteration_exponent: u8,
    /// Groups needed.
    pub group_threshold: u8,
    /// Groups made.
    pub group_count: u8,
    /// The groups that have shares here: (group number from 1, shares needed, shares given).
    pub groups: Vec<(u8, u8, u8)>,
    /// Length of the secret in bytes.
    pub secret_len: usize,
}

/// The shares of one group, each with its 1-based position in the input.
type Members = Vec<(usize, Share)>;

/// Reads and checks `mnemonics` as one set: each parses, all belong to the same backup,
/// no duplicates.
fn read_set(mnemonics: &[impl AsRef<str>]) -> Result<(ShareSet, Vec<Members>)> {
    let texts: Vec<&str> =
        mnemonics.iter().map(AsRef::as_ref).filter(|m| !m.trim().is_empty()).collect();
    if texts.is_empty() {
        return Err(Error::Shares("no shares were given".into()));
    }
    let shares: Vec<Share> =
        texts.iter().enumerate().map(|(i, m)| Share::parse(i + 1, m)).collect::<Result<_>>()?;
    let first = &shares[0];
    if first.value.len() < 16 || !first.value.len().is_multiple_of(2) {
        return Err(Error::Shares(format!(
            "share 1 holds a {}-bit secret; SLIP-39 secrets are at least 128 bits and a multiple of 16",
            first.value.len() * 8
        )));
    }
    let mut groups: Vec<Members> = Vec::new();
    for (i, s) in shares.iter().enumerate() {
        let n = i + 1;
        if (s.identifier, s.extendable, s.exponent)
            != (first.identifier, first.extendable, first.exponent)
        {
            return Err(Error::Shares(format!(
                "share {n} is from another backup than share 1 (their first two words differ)"
            )));
        }
        if (s.group_threshold, s.group_count) != (first.group_threshold, first.group_count) {
            return Err(Error::Shares(format!(
                "share {n} does not match share 1: they disagree on the number of groups"
            )));
        }
        if s.value.len() != first.value.len() {
            return Err(Error::Shares(format!("share {n} is not as long as share 1")));
        }
        if let Some(j) = shares[..i].iter().position(|o| o == s) {
            return Err(Error::Shares(format!("share {n} repeats share {}", j + 1)));
        }
        match groups.iter_mut().find(|g| g[0].1.group_index == s.group_index) {
            Some(group) => {
                let (m, leader) = &group[0];
                if leader.member_threshold != s.member_threshold {
                    return Err(Error::Shares(format!(
                        "shares {m} and {n} are in the same group but need different numbers of \
                         shares"
                    )));
                }
                if let Some((m, _)) = group.iter().find(|(_, o)| o.member_index == s.member_index) {
                    return Err(Error::Shares(format!(
                        "shares {m} and {n} are the same member of group {} (duplicate member \
                         index) but differ",
                        s.group_index + 1
                    )));
                }
                group.push((n, s.clone()));
            }
            None => groups.push(vec![(n, s.clone())]),
        }
    }
    let set = ShareSet {
        identifier: first.identifier,
        extendable: first.extendable,
        iteration_exponent: first.exponent,
        group_threshold: first.group_threshold,
        group_count: first.group_count,
        groups: groups
            .iter()
            .map(|g| {
                let have = u8::try_from(g.len()).unwrap_or(u8::MAX);
                (g[0].1.group_index + 1, g[0].1.member_threshold, have)
            })
            .collect(),
        secret_len: first.value.len(),
    };
    Ok((set, groups))
}

/// Recovers the encrypted secret, or says exactly what is missing.
fn recover_encrypted(set: &ShareSet, groups: &[Vec<(usize, Share)>]) -> Result<Zeroizing<Vec<u8>>> {
    let complete: Vec<&Members> =
        groups.iter().filter(|g| g.len() >= usize::from(g[0].1.member_threshold)).collect();
    let needed = usize::from(set.group_threshold);
    if complete.len() < needed {
        let mut missing = Vec::new();
        for g in groups.iter().filter(|g| g.len() < usize::from(g[0].1.member_threshold)) {
            let more = usize::from(g[0].1.member_threshold) - g.len();
            missing.push(format!(
                "group {} needs {more} more share{}",
                g[0].1.group_index + 1,
                if more == 1 { "" } else { "s" }
            ));
        }
        let groups_more = needed - complete.len();
        let text = if set.group_count == 1 {
            missing.join("; ")
        } else {
            let mut t = format!(
                "{groups_more} more complete group{} needed (of {} groups, {needed} are needed)",
                if groups_more == 1 { " is" } else { "s are" },
                set.group_count
            );
            if !missing.is_empty() {
                t.push_str(": ");
                t.push_str(&missing.join("; "));
            }
            t
        };
        return Err(Error::SharesMissing(text));
    }
    // Every complete group is recovered (digest-checked), and every share beyond a
    // threshold must lie on the same polynomial: nothing given is left unchecked.
    let mut group_secrets = Vec::with_capacity(complete.len());
    for group in &complete {
        let threshold = usize::from(group[0].1.member_threshold);
        let group_number = group[0].1.group_index + 1;
        let raw = |(_, s): &(usize, Share)| RawShare { x: s.member_index, data: s.value.clone() };
        let base: Vec<RawShare> = group.iter().take(threshold).map(raw).collect();
        let data = gf256::recover(group[0].1.member_threshold, &base).map_err(|e| match e {
            Error::Shares(why) => Error::Shares(format!("group {group_number}: {why}")),
            other => other,
        })?;
        for (n, extra) in group.iter().skip(threshold) {
            if *gf256::interpolate(&base, extra.member_index)? != *extra.value {
                return Err(Error::Shares(format!(
                    "share {n} does not fit with the other shares of group {group_number}: it is                      from another backup, or was changed"
                )));
            }
        }
        group_secrets.push(RawShare { x: group[0].1.group_index, data });
    }
    let base: Vec<RawShare> = group_secrets
        .iter()
        .take(needed)
        .map(|g| RawShare { x: g.x, data: g.data.clone() })
        .collect();
    let encrypted = gf256::recover(set.group_threshold, &base)?;
    for extra in group_secrets.iter().skip(needed) {
        if *gf256::interpolate(&base, extra.x)? != *extra.data {
            return Err(Error::Shares(format!(
                "the shares of group {} do not fit with the other groups",
                extra.x + 1
            )));
        }
    }
    Ok(encrypted)
}

/// Checks a set of shares without a passphrase: they parse, belong together, are enough,
/// and their digest confirms them. Returns what the set holds.
pub fn inspect(mnemonics: &[impl AsRef<str>]) -> Result<ShareSet> {
    let (set, groups) = read_set(mnemonics)?;
    recover_encrypted(&set, &groups)?;
    Ok(set)
}

/// Recovers the secret from `mnemonics` and the passphrase (empty when none was set). A wrong
/// passphrase gives a different secret, not an error (SLIP-39's plausible deniability).
pub fn combine(mnemonics: &[impl AsRef<str>], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    check_passphrase(passphrase)?;
    let (set, groups) = read_set(mnemonics)?;
    let encrypted = recover_encrypted(&set, &groups)?;
    Ok(cipher::decrypt(
        &encrypted,
        passphrase,
        set.iteration_exponent,
        set.identifier,
        set.extendable,
    ))
}

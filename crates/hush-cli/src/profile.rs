//! Profiles on disk: `<data dir>/profiles/<name>/account.json`.
//!
//! A profile folder is mode 0700 and its account file 0600. The file holds the public facts
//! (Account ID, Ed25519 key, display name) and the secret seed; it is written to a temporary
//! file, synced and renamed into place, so a crash leaves either the old or the new account,
//! never half of one. Loading re-derives the keys from the seed and refuses a file whose
//! public fields disagree with them.
//!
//! This module moves into the client library when it arrives (see ARCHITECTURE.md).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use hush_proto::{AccountSeed, Identity};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Longest display name, in characters (Session's limit).
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

const ACCOUNT_FILE: &str = "account.json";
const FORMAT_VERSION: u32 = 1;

/// A profile name: 1 to 64 of `A-Z a-z 0-9 _ - .`, not starting with a dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName(String);

impl ProfileName {
    /// Validates a name.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        let valid_chars =
            name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if name.is_empty() || name.len() > 64 || !valid_chars || name.starts_with('.') {
            bail!(
                "invalid profile name {name:?}: use 1 to 64 letters, digits, '_', '-' or '.', \
                 not starting with '.'"
            );
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates a display name: trimmed, 1 to 100 characters, no control characters.
pub fn validate_display_name(name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
        bail!("a display name has 1 to {MAX_DISPLAY_NAME_CHARS} characters, got {chars}");
    }
    if name.chars().any(char::is_control) {
        bail!("a display name cannot contain control characters");
    }
    Ok(name.to_owned())
}

/// The account file's contents.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountFile {
    version: u32,
    account_id: String,
    ed25519_pubkey: String,
    display_name: Option<String>,
    /// When the account was created or restored on this device (ms since the epoch).
    created_at_ms: u64,
    secret: SecretPart,
}

/// The secret part of the file. The seed hex is wiped when this is dropped.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretPart {
    kind: SecretKind,
    seed: String,
}

/// How the seed is stored. Only plain storage exists today; passphrase wrapping adds a kind.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum SecretKind {
    Plain,
}

impl Drop for SecretPart {
    fn drop(&mut self) {
        self.seed.zeroize();
    }
}

/// An account loaded from (or just written to) a profile.
#[derive(Debug)]
pub struct StoredAccount {
    /// The secret seed.
    pub seed: AccountSeed,
    /// Keys and Account ID derived from it.
    pub identity: Identity,
    /// The display name, if set.
    pub display_name: Option<String>,
}

/// One profile folder.
#[derive(Debug)]
pub struct Profile {
    name: ProfileName,
    dir: PathBuf,
}

impl Profile {
    /// The profile `name` under `data_dir` (nothing is touched on disk).
    pub fn new(data_dir: &Path, name: ProfileName) -> Self {
        let dir = data_dir.join("profiles").join(name.as_str());
        Self { name, dir }
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    fn account_path(&self) -> PathBuf {
        self.dir.join(ACCOUNT_FILE)
    }

    /// Whether the profile holds an account.
    pub fn has_account(&self) -> bool {
        self.account_path().exists()
    }

    /// Loads and checks the account.
    pub fn load(&self) -> anyhow::Result<StoredAccount> {
        let path = self.account_path();
        if !path.exists() {
            bail!(
                "profile '{}' has no account: create one with `hush account new` or restore one \
                 with `hush account restore`",
                self.name()
            );
        }
        let text = Zeroizing::new(
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
        );
        let file: AccountFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid hush account file", path.display()))?;
        if file.version != FORMAT_VERSION {
            bail!(
                "{} has format version {}; this hush reads version 1",
                path.display(),
                file.version
            );
        }
        let SecretKind::Plain = file.secret.kind;
        let entropy =
            Zeroizing::new(hex::decode(&file.secret.seed).context("the stored seed is not hex")?);
        let seed = AccountSeed::from_entropy(&entropy)?;
        let identity = Identity::from_seed(&seed);
        if identity.account_id().to_string() != file.account_id
            || hex::encode(identity.ed25519_public().as_bytes()) != file.ed25519_pubkey
        {
            bail!("{} is inconsistent: its Account ID does not match its seed", path.display());
        }
        Ok(StoredAccount { seed, identity, display_name: file.display_name })
    }

    /// Writes the account atomically, creating the folders with mode 0700 and the file with
    /// mode 0600. Replaces an existing account only when `replace` is set.
    pub fn save(
        &self,
        seed: AccountSeed,
        display_name: Option<String>,
        created_at_ms: u64,
        replace: bool,
    ) -> anyhow::Result<StoredAccount> {
        create_private_dir(&self.dir)?;
        // Serialise concurrent `new`/`restore` runs on this profile: the existence check and
        // the write happen under one lock.
        let _lock = self.lock()?;
        if self.has_account() && !replace {
            bail!("profile '{}' already has an account", self.name());
        }
        let identity = Identity::from_seed(&seed);
        let file = AccountFile {
            version: FORMAT_VERSION,
            account_id: identity.account_id().to_string(),
            ed25519_pubkey: hex::encode(identity.ed25519_public().as_bytes()),
            display_name: display_name.clone(),
            created_at_ms,
            secret: SecretPart { kind: SecretKind::Plain, seed: hex::encode(seed.entropy()) },
        };
        // Sized up front (the file is well under 4 KiB) so the buffer holding the seed never
        // reallocates and leaves unwiped copies.
        let mut json = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer_pretty(&mut *json, &file)?;
        write_atomically(&self.account_path(), &json, replace)?;
        Ok(StoredAccount { seed, identity, display_name })
    }
}

impl Profile {
    /// An exclusive lock on the profile, held until the returned file is dropped.
    fn lock(&self) -> anyhow::Result<File> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.lock().with_context(|| format!("locking {}", path.display()))?;
        Ok(file)
    }
}

/// Creates the profile folder and any missing parents with mode 0700. The `profiles` folder
/// and the profile folder, which are hush's own, are set to 0700 even if they existed with
/// looser modes; a data directory the user chose is left as it was.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        fs::set_permissions(d, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to its owner", d.display()))?;
    }
    Ok(())
}

/// Writes `path` via a uniquely named 0600 temporary file in the same folder: write, fsync,
/// then rename over the old file (`replace`) or hard-link into place, which fails if the file
/// exists. The folder is fsynced afterwards; once the file is in place, a failure of that
/// last fsync (some filesystems refuse it) no longer fails the write.
fn write_atomically(path: &Path, contents: &[u8], replace: bool) -> anyhow::Result<()> {
    let dir = path.parent().context("a file path has a parent")?;
    let suffix: [u8; 8] = hush_sodium::Csprng::array(&mut hush_sodium::SystemRng);
    let tmp = dir.join(format!(".{ACCOUNT_FILE}.{}.tmp", hex::encode(suffix)));
    let written = (|| -> std::io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        if replace { fs::rename(&tmp, path) } else { fs::hard_link(&tmp, path) }
    })();
    let _ = fs::remove_file(&tmp);
    written.with_context(|| format!("writing {}", path.display()))?;
    let _ = File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_cannot_escape_the_data_dir() {
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "x y", &"p".repeat(65)] {
            assert!(ProfileName::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["default", "bob", "work-2", "a.b_c"] {
            assert!(ProfileName::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(validate_display_name("  Alice ").unwrap(), "Alice");
        assert!(validate_display_name("   ").is_err());
        assert!(validate_display_name(&"é".repeat(101)).is_err());
        assert!(validate_display_name(&"é".repeat(100)).is_ok());
        assert!(validate_display_name("a\u{7}b").is_err());
    }

    #[test]
    fn save_load_round_trip_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = Profile::new(tmp.path(), ProfileName::parse("p").unwrap());
        let seed = AccountSeed::from_entropy(&[5; 16]).unwrap();
        let saved = profile.save(seed, Some("Ann".into()), 42, false).unwrap();
        let loaded = profile.load().unwrap();
        assert_eq!(loaded.identity.account_id(), saved.identity.account_id());
        assert_eq!(loaded.display_name.as_deref(), Some("Ann"));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&profile.dir), 0o700);
        assert_eq!(mode(&profile.account_path()), 0o600);
        assert_eq!(mode(&tmp.path().join("profiles")), 0o700);
        // No overwrite without `replace`.
        let other = AccountSeed::from_entropy(&[6; 16]).unwrap();
        assert!(profile.save(other, None, 43, false).is_err());
        assert_eq!(profile.load().unwrap().identity.account_id(), saved.identity.account_id());
    }

    #[test]
    fn tampered_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = Profile::new(tmp.path(), ProfileName::parse("p").unwrap());
        profile.save(AccountSeed::from_entropy(&[5; 16]).unwrap(), None, 1, false).unwrap();
        let path = profile.account_path();
        let text = fs::read_to_string(&path).unwrap();
        let other = Identity::from_seed(&AccountSeed::from_entropy(&[6; 16]).unwrap());
        let first = Identity::from_seed(&AccountSeed::from_entropy(&[5; 16]).unwrap());
        let swapped =
            text.replace(&first.account_id().to_string(), &other.account_id().to_string());
        fs::write(&path, swapped).unwrap();
        let err = profile.load().unwrap_err().to_string();
        assert!(err.contains("inconsistent"), "{err}");
    }
}

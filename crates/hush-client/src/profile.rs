//! Profiles on disk: `<data dir>/profiles/<name>/`.
//!
//! ```text
//! account.json   the account: public facts, and the secrets (seed + database key), plain or
//!                sealed with a passphrase (mode 0600, written atomically)
//! hush.db        the encrypted local database (SQLCipher, keyed by the database key)
//! .lock          held while the account file is rewritten
//! daemon.lock    held by the profile's running `hush daemon`
//! replaced-…/    an earlier account and its database, moved aside by `restore --force`
//! orphaned-…/    a database found without its account file, moved aside
//! ```
//!
//! A profile folder is mode 0700 and its files 0600. The account file is written to a
//! temporary file, synced and renamed into place, so a crash leaves either the old or the new
//! account, never half of one. Loading re-derives the keys from the seed and refuses a file
//! whose public fields disagree with them.
//!
//! **Passphrase.** `lock` seals the seed and the database key with XChaCha20-Poly1305 under a
//! key derived by Argon2id (64 MiB, 2 passes) from the passphrase; `unlock` stores them plain
//! again. Without the passphrase neither the account nor its database can be opened.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hush_proto::{AccountSeed, Identity};
use hush_sodium::aead::{self, XCHACHA20_NONCE_LEN};
use hush_sodium::pwhash::{self, Argon2Params, SALT_LEN};
use hush_sodium::{Csprng, Secret, SystemRng};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, Result};

/// Longest display name, in characters (Session's limit).
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

const ACCOUNT_FILE: &str = "account.json";
const DATABASE_FILE: &str = "hush.db";
/// Held by a running `hush daemon` (one per profile).
const DAEMON_LOCK: &str = "daemon.lock";
/// Version 1 had no database key; it is added (and the file rewritten) on first use.
const FORMAT_VERSION: u32 = 2;
const SEED_LEN: usize = 16;
/// Key derivation for passphrases: libsodium's "interactive" cost.
const PASSPHRASE_PARAMS: Argon2Params = Argon2Params::INTERACTIVE;

/// A profile name: 1 to 64 of `A-Z a-z 0-9 _ - .`, not starting with a dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName(String);

impl ProfileName {
    /// Validates a name.
    pub fn parse(name: &str) -> Result<Self> {
        let valid_chars =
            name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if name.is_empty() || name.len() > 64 || !valid_chars || name.starts_with('.') {
            return Err(Error::InvalidInput(format!(
                "invalid profile name {name:?}: use 1 to 64 letters, digits, '_', '-' or '.', \
                 not starting with '.'"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ProfileName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// Validates a display name: trimmed, 1 to 100 characters, no control characters.
pub fn validate_display_name(name: &str) -> Result<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
        return Err(Error::InvalidInput(format!(
            "a display name has 1 to {MAX_DISPLAY_NAME_CHARS} characters, got {chars}"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "a display name cannot contain control characters".to_owned(),
        ));
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

/// The secrets, plain or sealed. Hex strings are wiped when this is dropped.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum SecretPart {
    /// Seed and database key in hex (the key is absent in version 1 files).
    Plain {
        seed: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        db_key: Option<String>,
    },
    /// `seed ‖ db_key` sealed with XChaCha20-Poly1305 under Argon2id(passphrase, salt).
    Passphrase { salt: String, passes: u64, memory_bytes: usize, nonce: String, sealed: String },
}

impl Drop for SecretPart {
    fn drop(&mut self) {
        if let Self::Plain { seed, db_key } = self {
            seed.zeroize();
            if let Some(k) = db_key {
                k.zeroize();
            }
        }
    }
}

/// What [`Profile::create`] did.
#[derive(Debug)]
pub struct Created {
    /// The account's keys and ID.
    pub identity: Identity,
    /// Its display name.
    pub display_name: Option<String>,
    /// What became of what the profile held before.
    pub previous: Previous,
}

/// What became of a profile's earlier account and database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Previous {
    /// The profile held nothing.
    Nothing,
    /// The same account was there: its file and database are kept as they were.
    Kept,
    /// Another account (or a database without its account file) was moved into this folder.
    MovedAside(PathBuf),
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
    /// The key of the profile's database.
    pub db_key: Secret<32>,
}

/// One profile folder.
#[derive(Debug, Clone)]
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

    /// The profile's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The encrypted database.
    pub fn database_path(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    fn account_path(&self) -> PathBuf {
        self.dir.join(ACCOUNT_FILE)
    }

    /// Whether the profile holds an account.
    pub fn has_account(&self) -> bool {
        self.account_path().exists()
    }

    /// Whether the account is sealed with a passphrase.
    pub fn is_locked(&self) -> Result<bool> {
        Ok(matches!(self.read_file()?.secret, SecretPart::Passphrase { .. }))
    }

    fn read_file(&self) -> Result<AccountFile> {
        let path = self.account_path();
        if !path.exists() {
            return Err(Error::NoAccount(self.name().to_owned()));
        }
        let text = Zeroizing::new(
            fs::read_to_string(&path)
                .map_err(|source| Error::File { path: path.clone(), source })?,
        );
        let file: AccountFile = serde_json::from_str(&text).map_err(|_| Error::Corrupt {
            path: path.clone(),
            reason: "not a valid hush account file".to_owned(),
        })?;
        if file.version != 1 && file.version != FORMAT_VERSION {
            return Err(Error::Corrupt {
                path,
                reason: format!("format version {}; this hush reads 1 and 2", file.version),
            });
        }
        Ok(file)
    }

    /// Loads and checks the account; `passphrase` opens a locked one. A version 1 file gets
    /// its database key now.
    pub fn load(&self, passphrase: Option<&str>) -> Result<StoredAccount> {
        let _lock = self.lock()?;
        let path = self.account_path();
        let file = self.read_file()?;
        let (seed, db_key, upgrade) = match &file.secret {
            SecretPart::Plain { seed, db_key } => {
                let entropy = Zeroizing::new(hex::decode(seed).map_err(|_| corrupt(&path))?);
                let seed = AccountSeed::from_entropy(&entropy)?;
                match db_key {
                    Some(k) => {
                        let mut key = Secret::<32>::zeroed();
                        hex::decode_to_slice(k, key.expose_mut()).map_err(|_| corrupt(&path))?;
                        (seed, key, false)
                    }
                    None => (seed, Secret::random(&mut SystemRng), true),
                }
            }
            SecretPart::Passphrase { salt, passes, memory_bytes, nonce, sealed } => {
                let passphrase = passphrase.ok_or(Error::Locked)?;
                let opened = open_sealed(
                    passphrase,
                    salt,
                    Argon2Params { passes: *passes, memory_bytes: *memory_bytes },
                    nonce,
                    sealed,
                    &file.account_id,
                )
                .map_err(|e| match e {
                    Error::WrongPassphrase => e,
                    _ => corrupt(&path),
                })?;
                let seed = AccountSeed::from_entropy(&opened[..SEED_LEN])?;
                let mut key = Secret::<32>::zeroed();
                key.expose_mut().copy_from_slice(&opened[SEED_LEN..]);
                (seed, key, false)
            }
        };
        let identity = Identity::from_seed(&seed);
        if identity.account_id().to_string() != file.account_id
            || hex::encode(identity.ed25519_public().as_bytes()) != file.ed25519_pubkey
        {
            return Err(Error::Corrupt {
                path,
                reason: "its Account ID does not match its seed".to_owned(),
            });
        }
        let account = StoredAccount { seed, identity, display_name: file.display_name, db_key };
        if upgrade {
            self.write(&account, file.created_at_ms, None, true)?;
        }
        Ok(account)
    }

    /// Whether the profile folder holds a database (with or without an account file).
    pub fn has_database(&self) -> bool {
        self.database_path().exists()
    }

    /// Writes a new account atomically, creating the folders with mode 0700 and the file
    /// with mode 0600, with a fresh database key. An existing account is replaced only when
    /// `replace` is set, and nothing the profile held is deleted:
    ///
    /// - the *same* account (restored again from its recovery password) keeps its account
    ///   file — seed, database key, passphrase — and so its database, undelivered messages
    ///   included; only a new display name is taken;
    /// - another account's file and database are moved into a `replaced-…` folder of the
    ///   profile, and a database left without its account file (which no new key could
    ///   open) into an `orphaned-…` folder ([`Created::previous`] says where).
    ///
    /// Refused while a hush daemon runs on the profile (its files are in use).
    pub fn create(
        &self,
        seed: AccountSeed,
        display_name: Option<String>,
        created_at_ms: u64,
        replace: bool,
    ) -> Result<Created> {
        create_private_dir(&self.dir)?;
        // Serialise concurrent `new`/`restore` runs on this profile: the existence check and
        // the write happen under one lock.
        let _lock = self.lock()?;
        let identity = Identity::from_seed(&seed);
        let mut previous = Previous::Nothing;
        // Held until the new account is written: no daemon starts on the files meanwhile.
        let mut daemon_lock: Option<File> = None;
        if self.has_account() {
            if !replace {
                return Err(Error::AccountExists(self.name().to_owned()));
            }
            match self.read_file() {
                Ok(mut file) if file.account_id == identity.account_id().to_string() => {
                    if display_name.is_some() && display_name != file.display_name {
                        file.display_name = display_name;
                        self.rewrite(&file)?;
                    }
                    return Ok(Created {
                        identity,
                        display_name: file.display_name.take(),
                        previous: Previous::Kept,
                    });
                }
                _ => {
                    daemon_lock = self.refuse_while_daemon_runs()?;
                    previous = Previous::MovedAside(self.move_aside("replaced", created_at_ms)?);
                }
            }
        } else if self.has_database() {
            daemon_lock = self.refuse_while_daemon_runs()?;
            previous = Previous::MovedAside(self.move_aside("orphaned", created_at_ms)?);
        }
        let account =
            StoredAccount { seed, identity, display_name, db_key: Secret::random(&mut SystemRng) };
        self.write(&account, created_at_ms, None, replace)?;
        drop(daemon_lock);
        Ok(Created { identity: account.identity, display_name: account.display_name, previous })
    }

    /// Moves the account file and the database (with its `-wal` and `-shm`, so they stay a
    /// pair) into a new 0700 folder `<kind>-<ms>-<random>` of the profile; returns it.
    fn move_aside(&self, kind: &str, now_ms: u64) -> Result<PathBuf> {
        let suffix: [u8; 3] = SystemRng.array();
        let aside = self.dir.join(format!("{kind}-{now_ms}-{}", hex::encode(suffix)));
        DirBuilder::new()
            .mode(0o700)
            .create(&aside)
            .map_err(|source| Error::File { path: aside.clone(), source })?;
        let names = [
            ACCOUNT_FILE.to_owned(),
            DATABASE_FILE.to_owned(),
            format!("{DATABASE_FILE}-wal"),
            format!("{DATABASE_FILE}-shm"),
        ];
        for name in names {
            let from = self.dir.join(&name);
            match fs::rename(&from, aside.join(&name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::File { path: from, source }),
            }
        }
        let _ = File::open(&self.dir).and_then(|d| d.sync_all());
        Ok(aside)
    }

    /// Takes the profile's daemon lock, held while the returned file lives: one `hush
    /// daemon` per profile. Fails with [`Error::InUse`] when another process holds it.
    pub fn lock_daemon(&self) -> Result<File> {
        let (path, file) = self.lock_file(DAEMON_LOCK)?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(Error::InUse(format!(
                "a hush daemon is already running on profile '{}'",
                self.name()
            ))),
            Err(fs::TryLockError::Error(source)) => Err(Error::File { path, source }),
        }
    }

    /// Takes the daemon lock (refusing while a daemon holds it), to be held while the
    /// profile's files are replaced.
    fn refuse_while_daemon_runs(&self) -> Result<Option<File>> {
        self.lock_daemon().map(Some)
    }

    /// Rewrites the account file as it is (its secrets untouched).
    fn rewrite(&self, file: &AccountFile) -> Result<()> {
        let mut json = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer_pretty(&mut *json, file)
            .map_err(|e| Error::Corrupt { path: self.account_path(), reason: e.to_string() })?;
        write_atomically(&self.account_path(), &json, true)
    }

    /// Changes the display name stored with the account (keeping its secrets as they are).
    pub fn set_display_name(&self, display_name: Option<String>) -> Result<()> {
        let _lock = self.lock()?;
        let mut file = self.read_file()?;
        file.display_name = display_name;
        self.rewrite(&file)
    }

    /// Seals the account's secrets with `passphrase` (`current` opens an already locked one).
    pub fn lock_with(&self, current: Option<&str>, passphrase: &str) -> Result<()> {
        if passphrase.chars().count() < 8 {
            return Err(Error::InvalidInput("a passphrase has at least 8 characters".to_owned()));
        }
        let account = self.load(current)?;
        let _lock = self.lock()?;
        let created = self.read_file()?.created_at_ms;
        self.write(&account, created, Some(passphrase), true)
    }

    /// Stores the account's secrets plain again (after checking `passphrase`).
    pub fn unlock(&self, passphrase: &str) -> Result<()> {
        let account = self.load(Some(passphrase))?;
        let _lock = self.lock()?;
        let created = self.read_file()?.created_at_ms;
        self.write(&account, created, None, true)
    }

    fn write(
        &self,
        account: &StoredAccount,
        created_at_ms: u64,
        passphrase: Option<&str>,
        replace: bool,
    ) -> Result<()> {
        let identity = &account.identity;
        let secret = match passphrase {
            None => SecretPart::Plain {
                seed: hex::encode(account.seed.entropy()),
                db_key: Some(hex::encode(account.db_key.expose())),
            },
            Some(p) => seal(p, account, &identity.account_id().to_string())?,
        };
        let file = AccountFile {
            version: FORMAT_VERSION,
            account_id: identity.account_id().to_string(),
            ed25519_pubkey: hex::encode(identity.ed25519_public().as_bytes()),
            display_name: account.display_name.clone(),
            created_at_ms,
            secret,
        };
        // Sized up front (the file is well under 4 KiB) so the buffer holding the secrets
        // never reallocates and leaves unwiped copies.
        let mut json = Zeroizing::new(Vec::with_capacity(4096));
        serde_json::to_writer_pretty(&mut *json, &file)
            .map_err(|e| Error::Corrupt { path: self.account_path(), reason: e.to_string() })?;
        write_atomically(&self.account_path(), &json, replace)
    }

    /// An exclusive lock on the profile, held until the returned file is dropped.
    fn lock(&self) -> Result<File> {
        let (path, file) = self.lock_file(".lock")?;
        file.lock().map_err(|source| Error::File { path, source })?;
        Ok(file)
    }

    /// Opens (creating it 0600) the lock file `name` of the profile folder, not locked yet.
    fn lock_file(&self, name: &str) -> Result<(PathBuf, File)> {
        let path = self.dir.join(name);
        if !self.dir.exists() {
            return Err(Error::NoAccount(self.name().to_owned()));
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| Error::File { path: path.clone(), source })?;
        Ok((path, file))
    }
}

fn corrupt(path: &Path) -> Error {
    Error::Corrupt { path: path.to_owned(), reason: "a stored secret is malformed".to_owned() }
}

fn passphrase_key(
    passphrase: &str,
    salt: &[u8; SALT_LEN],
    params: Argon2Params,
) -> Result<aead::AeadKey> {
    let mut key = Secret::<32>::zeroed();
    pwhash::argon2id(key.expose_mut(), passphrase.as_bytes(), salt, params)
        .map_err(|_| Error::InvalidInput("cannot derive a key from this passphrase".to_owned()))?;
    Ok(aead::AeadKey::from_secret(key))
}

fn seal(passphrase: &str, account: &StoredAccount, account_id: &str) -> Result<SecretPart> {
    let salt: [u8; SALT_LEN] = SystemRng.array();
    let nonce: [u8; XCHACHA20_NONCE_LEN] = SystemRng.array();
    // A derivation failure (libsodium could not allocate its memory) fails the lock: the
    // file is left as it was, never silently unsealed.
    let key = passphrase_key(passphrase, &salt, PASSPHRASE_PARAMS)?;
    let mut plain = Zeroizing::new([0u8; SEED_LEN + 32]);
    plain[..SEED_LEN].copy_from_slice(account.seed.entropy());
    plain[SEED_LEN..].copy_from_slice(account.db_key.expose());
    let sealed = aead::xchacha20poly1305_encrypt(&key, &nonce, &*plain, &associated(account_id));
    Ok(SecretPart::Passphrase {
        salt: hex::encode(salt),
        passes: PASSPHRASE_PARAMS.passes,
        memory_bytes: PASSPHRASE_PARAMS.memory_bytes,
        nonce: hex::encode(nonce),
        sealed: hex::encode(sealed),
    })
}

fn open_sealed(
    passphrase: &str,
    salt: &str,
    params: Argon2Params,
    nonce: &str,
    sealed: &str,
    account_id: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let bad = || Error::InvalidInput("malformed sealed secret".to_owned());
    let mut salt_bytes = [0u8; SALT_LEN];
    hex::decode_to_slice(salt, &mut salt_bytes).map_err(|_| bad())?;
    let mut nonce_bytes = [0u8; XCHACHA20_NONCE_LEN];
    hex::decode_to_slice(nonce, &mut nonce_bytes).map_err(|_| bad())?;
    let sealed = hex::decode(sealed).map_err(|_| bad())?;
    // Bounded costs: a tampered file cannot make us allocate gigabytes.
    if params.passes == 0 || params.passes > 10 || params.memory_bytes > 1 << 30 {
        return Err(bad());
    }
    let key = passphrase_key(passphrase, &salt_bytes, params)?;
    let opened = Zeroizing::new(
        aead::xchacha20poly1305_decrypt(&key, &nonce_bytes, &sealed, &associated(account_id))
            .map_err(|_| Error::WrongPassphrase)?,
    );
    if opened.len() != SEED_LEN + 32 {
        return Err(bad());
    }
    Ok(opened)
}

fn associated(account_id: &str) -> Vec<u8> {
    [b"hush-profile-v2\n".as_slice(), account_id.as_bytes()].concat()
}

/// Creates the profile folder and any missing parents with mode 0700. The `profiles` folder
/// and the profile folder, which are hush's own, are set to 0700 even if they existed with
/// looser modes; a data directory the user chose is left as it was.
fn create_private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| Error::File { path: dir.to_owned(), source })?;
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        fs::set_permissions(d, fs::Permissions::from_mode(0o700))
            .map_err(|source| Error::File { path: d.to_owned(), source })?;
    }
    Ok(())
}

/// Writes `path` via a uniquely named 0600 temporary file in the same folder: write, fsync,
/// then rename over the old file (`replace`) or hard-link into place, which fails if the file
/// exists. The folder is fsynced afterwards; once the file is in place, a failure of that
/// last fsync (some filesystems refuse it) no longer fails the write.
fn write_atomically(path: &Path, contents: &[u8], replace: bool) -> Result<()> {
    let dir = path.parent().ok_or_else(|| Error::InvalidInput("a path without a folder".into()))?;
    let suffix: [u8; 8] = SystemRng.array();
    let tmp = dir.join(format!(".{ACCOUNT_FILE}.{}.tmp", hex::encode(suffix)));
    let written = (|| -> std::io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        if replace { fs::rename(&tmp, path) } else { fs::hard_link(&tmp, path) }
    })();
    let _ = fs::remove_file(&tmp);
    written.map_err(|source| Error::File { path: path.to_owned(), source })?;
    let _ = File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(tmp: &tempfile::TempDir) -> Profile {
        Profile::new(tmp.path(), ProfileName::parse("p").unwrap())
    }

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
    fn create_load_round_trip_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = profile(&tmp);
        let seed = AccountSeed::from_entropy(&[5; 16]).unwrap();
        let saved = profile.create(seed, Some("Ann".into()), 42, false).unwrap();
        assert_eq!(saved.previous, Previous::Nothing);
        let loaded = profile.load(None).unwrap();
        assert_eq!(loaded.identity.account_id(), saved.identity.account_id());
        assert_eq!(loaded.display_name.as_deref(), Some("Ann"));
        assert_eq!(loaded.db_key.expose(), profile.load(None).unwrap().db_key.expose());
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&profile.dir), 0o700);
        assert_eq!(mode(&profile.account_path()), 0o600);
        assert_eq!(mode(&tmp.path().join("profiles")), 0o700);
        // No overwrite without `replace`.
        let other = AccountSeed::from_entropy(&[6; 16]).unwrap();
        assert!(matches!(profile.create(other, None, 43, false), Err(Error::AccountExists(_))));
        assert_eq!(profile.load(None).unwrap().identity.account_id(), saved.identity.account_id());
    }

    #[test]
    fn replacing_an_account_keeps_or_moves_aside_never_deletes() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = profile(&tmp);
        let seed = || AccountSeed::from_entropy(&[5; 16]).unwrap();
        profile.create(seed(), Some("Ann".into()), 1, false).unwrap();
        let key = profile.load(None).unwrap().db_key;
        fs::write(profile.database_path(), b"the database").unwrap();
        // The same account again: its key, and so its database, stay.
        let again = profile.create(seed(), Some("Anne".into()), 2, true).unwrap();
        assert_eq!(again.previous, Previous::Kept);
        let loaded = profile.load(None).unwrap();
        assert_eq!(loaded.db_key.expose(), key.expose());
        assert_eq!(loaded.display_name.as_deref(), Some("Anne"));
        assert_eq!(fs::read(profile.database_path()).unwrap(), b"the database");
        // Another account: the old file and database are moved aside, whole.
        fs::write(profile.dir.join("hush.db-wal"), b"its wal").unwrap();
        let other = AccountSeed::from_entropy(&[6; 16]).unwrap();
        let replaced = profile.create(other, None, 3, true).unwrap();
        let Previous::MovedAside(aside) = replaced.previous else { panic!("{replaced:?}") };
        assert!(
            aside.starts_with(&profile.dir)
                && aside.file_name().unwrap().to_str().unwrap().starts_with("replaced-")
        );
        assert_eq!(fs::read(aside.join("hush.db")).unwrap(), b"the database");
        assert_eq!(fs::read(aside.join("hush.db-wal")).unwrap(), b"its wal");
        assert!(
            fs::read_to_string(aside.join("account.json"))
                .unwrap()
                .contains(&hex::encode([5u8; 16]))
        );
        assert_eq!(fs::metadata(&aside).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(!profile.has_database());
        // A database without its account file cannot be opened by a new key: moved aside.
        fs::write(profile.database_path(), b"orphan").unwrap();
        fs::remove_file(profile.account_path()).unwrap();
        let fresh = profile.create(seed(), None, 4, false).unwrap();
        let Previous::MovedAside(aside) = fresh.previous else { panic!("{fresh:?}") };
        assert!(aside.file_name().unwrap().to_str().unwrap().starts_with("orphaned-"));
        assert_eq!(fs::read(aside.join("hush.db")).unwrap(), b"orphan");
    }

    #[test]
    fn one_daemon_per_profile() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = profile(&tmp);
        profile.create(AccountSeed::from_entropy(&[5; 16]).unwrap(), None, 1, false).unwrap();
        let held = profile.lock_daemon().unwrap();
        assert!(matches!(profile.lock_daemon(), Err(Error::InUse(_))));
        // Its files are in use: no replacement meanwhile.
        let other = AccountSeed::from_entropy(&[6; 16]).unwrap();
        assert!(matches!(profile.create(other, None, 2, true), Err(Error::InUse(_))));
        drop(held);
        profile.lock_daemon().unwrap();
    }

    #[test]
    fn tampered_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = profile(&tmp);
        profile.create(AccountSeed::from_entropy(&[5; 16]).unwrap(), None, 1, false).unwrap();
        let path = profile.account_path();
        let text = fs::read_to_string(&path).unwrap();
        let other = Identity::from_seed(&AccountSeed::from_entropy(&[6; 16]).unwrap());
        let first = Identity::from_seed(&AccountSeed::from_entropy(&[5; 16]).unwrap());
        let swapped =
            text.replace(&first.account_id().to_string(), &other.account_id().to_string());
        fs::write(&path, swapped).unwrap();
        let err = profile.load(None).unwrap_err().to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn version_1_files_get_a_database_key() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = profile(&tmp);
        create_private_dir(&profile.dir).unwrap();
        let id = Identity::from_seed(&AccountSeed::from_entropy(&[7; 16]).unwrap());
        let v1 = serde_json::json!({
            "version": 1, "account_id": id.account_id().to_string(),
            "ed25519_pubkey": hex::encode(id.ed25519_public().as_bytes()),
            "display_name": null, "created_at_ms": 5,
            "secret": {"kind": "plain", "seed": hex::encode([7u8; 16])},
        });
        fs::write(profile.account_path(), v1.to_string()).unwrap();
        let first = profile.load(None).unwrap();
        let again = profile.load(None).unwrap();
        assert_eq!(first.db_key.expose(), again.db_key.expose(), "the new key was kept");
        assert_eq!(again.identity.account_id(), id.account_id());
    }

    #[test]
    fn a_passphrase_seals_the_seed_and_the_database_key() {
        let tmp = tempfile::tempdir().unwrap();
        let profile = profile(&tmp);
        profile.create(AccountSeed::from_entropy(&[8; 16]).unwrap(), None, 1, false).unwrap();
        let created = profile.load(None).unwrap();
        assert!(profile.lock_with(None, "short").is_err(), "passphrases have 8+ characters");
        profile.lock_with(None, "correct horse").unwrap();
        assert!(profile.is_locked().unwrap());
        let text = fs::read_to_string(profile.account_path()).unwrap();
        assert!(!text.contains(&hex::encode([8u8; 16])), "the seed is not in the file");
        assert!(!text.contains(&hex::encode(created.db_key.expose())));
        assert!(matches!(profile.load(None), Err(Error::Locked)));
        assert!(matches!(profile.load(Some("wrong horse")), Err(Error::WrongPassphrase)));
        let opened = profile.load(Some("correct horse")).unwrap();
        assert_eq!(opened.identity.account_id(), created.identity.account_id());
        assert_eq!(opened.db_key.expose(), created.db_key.expose());
        // Changing the display name keeps the seal; unlocking removes it.
        profile.set_display_name(Some("Zed".into())).unwrap();
        assert!(profile.is_locked().unwrap());
        assert!(matches!(profile.unlock("wrong horse"), Err(Error::WrongPassphrase)));
        profile.unlock("correct horse").unwrap();
        let plain = profile.load(None).unwrap();
        assert_eq!(plain.display_name.as_deref(), Some("Zed"));
        assert_eq!(plain.db_key.expose(), created.db_key.expose());
    }
}

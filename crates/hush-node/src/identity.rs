//! The node's identity and TLS certificate, created on first start and kept in the data dir.
//!
//! - `node.key`: the Ed25519 seed (64 hex characters, mode 0600). Its X25519 form is the key
//!   onion layers are encrypted to; the Ed25519 key names the node in swarms and relays.
//! - `tls.crt` / `tls.key`: a self-signed certificate (rcgen). Session clients do not verify
//!   node certificates; what authenticates a node is its key inside the onion layers.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use hush_sodium::ed25519::Ed25519KeyPair;
use hush_sodium::x25519::X25519KeyPair;
use hush_sodium::{Secret, SystemRng};
use rustls::pki_types::pem::PemObject;

use crate::{Error, Result};

/// The node's keys.
#[derive(Debug)]
pub struct NodeIdentity {
    /// Signs per-node results and names the node.
    pub ed25519: Ed25519KeyPair,
    /// Opens onion layers addressed to the node.
    pub x25519: X25519KeyPair,
}

impl NodeIdentity {
    /// Loads `node.key` from `dir`, creating it (0600) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let path = dir.join("node.key");
        let ed25519 = load_or_create_key(&path)?;
        let x25519 = ed25519.to_x25519().map_err(|_| Error::BadKeyFile(path.clone()))?;
        Ok(Self { ed25519, x25519 })
    }
}

/// Loads an Ed25519 key stored as its hex seed at `path`.
pub fn load_key(path: &Path) -> Result<Ed25519KeyPair> {
    let text = zeroize::Zeroizing::new(
        fs::read_to_string(path).map_err(|source| Error::File { path: path.to_owned(), source })?,
    );
    let mut seed = Secret::<32>::zeroed();
    hex::decode_to_slice(text.trim(), seed.expose_mut())
        .map_err(|_| Error::BadKeyFile(path.to_owned()))?;
    Ok(Ed25519KeyPair::from_seed(&seed))
}

/// Creates a new random Ed25519 key at `path` (its hex seed, mode 0600); fails if the file
/// exists, so a key is never overwritten.
pub fn create_key(path: &Path) -> Result<Ed25519KeyPair> {
    let seed = Secret::<32>::random(&mut SystemRng);
    let hex = zeroize::Zeroizing::new(format!("{}\n", hex::encode(seed.expose())));
    write_private(path, hex.as_bytes())
        .map_err(|source| Error::File { path: path.to_owned(), source })?;
    Ok(Ed25519KeyPair::from_seed(&seed))
}

/// [`load_key`] if `path` exists, else [`create_key`].
pub fn load_or_create_key(path: &Path) -> Result<Ed25519KeyPair> {
    if path.exists() { load_key(path) } else { create_key(path) }
}

/// Writes a new file readable only by its owner; fails if it exists.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Loads `tls.crt` and `tls.key` from `dir`, creating a self-signed pair on first start, and
/// returns a rustls server configuration (ring provider, HTTP/1.1).
pub fn tls_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let cert_path = dir.join("tls.crt");
    let key_path = dir.join("tls.key");
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => {}
        (false, false) => {
            let names = vec!["localhost".to_owned(), "hush-node".to_owned()];
            let generated = rcgen::generate_simple_self_signed(names)
                .map_err(|e| Error::Tls(format!("generating a certificate: {e}")))?;
            let key_pem = zeroize::Zeroizing::new(generated.signing_key.serialize_pem());
            // Both written in full under temporary names first, then moved into place: a
            // crash leaves at worst a leftover temporary file, never a truncated key.
            let key_tmp = dir.join(".tls.key.tmp");
            let cert_tmp = dir.join(".tls.crt.tmp");
            for tmp in [&key_tmp, &cert_tmp] {
                match fs::remove_file(tmp) {
                    // Our own leftover from an interrupted start.
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(Error::File { path: tmp.clone(), source }),
                }
            }
            write_private(&key_tmp, key_pem.as_bytes())
                .map_err(|source| Error::File { path: key_tmp.clone(), source })?;
            write_private(&cert_tmp, generated.cert.pem().as_bytes())
                .map_err(|source| Error::File { path: cert_tmp.clone(), source })?;
            fs::rename(&cert_tmp, &cert_path)
                .map_err(|source| Error::File { path: cert_path.clone(), source })?;
            fs::rename(&key_tmp, &key_path)
                .map_err(|source| Error::File { path: key_path.clone(), source })?;
        }
        // Half a pair (an operator's own certificate, say) is never replaced or deleted.
        (cert, _) => {
            let (present, missing) =
                if cert { (&cert_path, &key_path) } else { (&key_path, &cert_path) };
            return Err(Error::Tls(format!(
                "{} exists without {}: put it back, or move both away to have a new \
                 self-signed pair made",
                present.display(),
                missing.display()
            )));
        }
    }
    let cert_pem =
        fs::read(&cert_path).map_err(|source| Error::File { path: cert_path.clone(), source })?;
    let key_pem = zeroize::Zeroizing::new(
        fs::read(&key_path).map_err(|source| Error::File { path: key_path.clone(), source })?,
    );
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("{}: {e}", cert_path.display())))?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| Error::Tls(format!("{}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_tls_pair_is_refused_and_left_alone() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("tls.crt"), b"an operator's certificate").unwrap();
        let err = tls_config(dir.path()).unwrap_err().to_string();
        assert!(err.contains("tls.key"), "{err}");
        assert_eq!(fs::read(dir.path().join("tls.crt")).unwrap(), b"an operator's certificate");
        assert!(!dir.path().join("tls.key").exists());
        // Neither: a new self-signed pair.
        let fresh = tempfile::tempdir().unwrap();
        tls_config(fresh.path()).unwrap();
        assert!(fresh.path().join("tls.crt").exists() && fresh.path().join("tls.key").exists());
    }
}

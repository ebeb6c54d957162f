//! Config message encryption (session-protocol.md §9.5 steps 3–4): the padding size rule and
//! the deterministic XChaCha20-Poly1305 construction libsession uses for config objects.

use hush_sodium::Secret;
use hush_sodium::aead::{self, AeadKey};
use hush_sodium::hash::Blake2b;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Bytes encryption adds: the tag (16) and the appended nonce (24).
pub const ENCRYPTION_OVERHEAD: usize = aead::TAG_LEN + aead::XCHACHA20_NONCE_LEN;

/// Prefix of the key of the nonce hash (followed by the domain).
const NONCE_KEY_PREFIX: &[u8] = b"libsessionutil-config-encrypted-";

/// The size a config message of `len` bytes is padded to, so that `result + overhead` is a
/// multiple of 256 (below 5 120), 1 024 (below 20 480), 2 048 (below 40 960) or 5 120 bytes.
pub fn padded_size(len: usize, overhead: usize) -> usize {
    let total = len + overhead;
    let chunk = match total {
        t if t < 5_120 => 256,
        t if t < 20_480 => 1_024,
        t if t < 40_960 => 2_048,
        _ => 5_120,
    };
    total.div_ceil(chunk) * chunk - overhead
}

fn check_domain(domain: &str) -> Result<()> {
    // The nonce key is the 32-byte prefix plus the domain, and BLAKE2b keys stop at 64 bytes.
    if domain.is_empty() || domain.len() > 32 {
        return Err(Error::ConfigDomain(domain.len()));
    }
    Ok(())
}

fn message_key(key_base: &[u8; 32], plaintext_len: usize, domain: &str) -> AeadKey {
    let mut h = Blake2b::<32>::new();
    h.update(key_base).update(&(plaintext_len as u64).to_be_bytes()).update(domain.as_bytes());
    AeadKey::from_secret(Secret::from_array(h.finalize()))
}

/// Encrypts `message` under `key_base` for `domain` (e.g. "UserProfile"):
/// key = BLAKE2b-32(key_base ‖ u64be(len) ‖ domain),
/// nonce = BLAKE2b-24(message, key = "libsessionutil-config-encrypted-" ‖ domain),
/// output = `ciphertext ‖ tag ‖ nonce`. Deterministic: equal configs give equal bytes.
pub fn encrypt(message: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Vec<u8>> {
    check_domain(domain)?;
    let key = message_key(key_base, message.len(), domain);
    let nonce_key = [NONCE_KEY_PREFIX, domain.as_bytes()].concat();
    let mut h = Blake2b::<24>::keyed(&nonce_key)?;
    h.update(message);
    let nonce = h.finalize();
    let mut out = aead::xchacha20poly1305_encrypt(&key, &nonce, message, &[]);
    out.extend_from_slice(&nonce);
    Ok(out)
}

/// Decrypts a config message made by [`encrypt`].
pub fn decrypt(ciphertext: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Zeroizing<Vec<u8>>> {
    check_domain(domain)?;
    if ciphertext.len() < ENCRYPTION_OVERHEAD {
        return Err(Error::Truncated("config message"));
    }
    let (body, nonce) = ciphertext.split_at(ciphertext.len() - aead::XCHACHA20_NONCE_LEN);
    let key = message_key(key_base, body.len() - aead::TAG_LEN, domain);
    let nonce: &[u8; 24] = nonce.try_into().expect("split at len - 24");
    aead::xchacha20poly1305_decrypt(&key, nonce, body, &[])
        .map(Zeroizing::new)
        .map_err(|_| Error::DecryptionFailed)
}

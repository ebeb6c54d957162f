//! Session V1 one-to-one encryption: sign, then seal (session-protocol.md §3.3–3.5).
//!
//! The sender signs `M ‖ A ‖ Y` (message, own Ed25519 key, recipient X25519 key), then seals
//! `M ‖ A ‖ SIG` to the recipient: an ephemeral X25519 key E, nonce `BLAKE2b-24(E ‖ Y)`, and
//! XSalsa20-Poly1305 — exactly libsodium's `crypto_box_seal`, built here from its parts so
//! that the ephemeral key can come from the caller's RNG or, for self-encrypted configs, be
//! derived deterministically.

use hush_sodium::cryptobox::{self, BOX_MAC_LEN};
use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey, Ed25519Signature};
use hush_sodium::hash::Blake2b;
use hush_sodium::x25519::{X25519KeyPair, X25519PublicKey};
use hush_sodium::{Csprng, Secret};
use zeroize::Zeroizing;

use crate::account::AccountId;
use crate::{Error, Result};

/// Bytes V1 encryption adds to the (padded) message: ephemeral key, tag, sender key, signature.
pub const OVERHEAD: usize = 32 + BOX_MAC_LEN + 32 + 64;

/// The key of the keyed BLAKE2b that derives deterministic ephemeral seeds.
const EPHEMERAL_HASH_KEY: &[u8] = b"SessionBoxEphemeralHashKey";

/// `M ‖ A ‖ SIG(M ‖ A ‖ Y)`: the plaintext inside the sealed box.
fn sign_for_recipient(
    sender: &Ed25519KeyPair,
    recipient: &X25519PublicKey,
    message: &[u8],
) -> Zeroizing<Vec<u8>> {
    let mut inner = Zeroizing::new(Vec::with_capacity(message.len() + 96));
    inner.extend_from_slice(message);
    inner.extend_from_slice(sender.public().as_bytes());
    inner.extend_from_slice(recipient.as_bytes());
    let signature = sender.sign(&inner);
    inner.truncate(message.len() + 32);
    inner.extend_from_slice(signature.as_bytes());
    inner
}

/// Seals `inner` to `recipient` with the given ephemeral keypair: `E ‖ box(inner)`.
fn seal_with(
    ephemeral: &X25519KeyPair,
    recipient: &X25519PublicKey,
    inner: &[u8],
) -> Result<Vec<u8>> {
    let nonce = seal_nonce(ephemeral.public(), recipient);
    let mut out = vec![0u8; 32 + BOX_MAC_LEN + inner.len()];
    out[..32].copy_from_slice(ephemeral.public().as_bytes());
    cryptobox::box_easy_into(&mut out[32..], inner, &nonce, recipient, ephemeral.secret())?;
    Ok(out)
}

/// Encrypts `message` (already padded, for Content) from `sender` to `recipient` with a fresh
/// ephemeral key from `rng`. Output length: `message.len() + OVERHEAD`.
pub fn encrypt(
    sender: &Ed25519KeyPair,
    recipient: &X25519PublicKey,
    message: &[u8],
    rng: &mut impl Csprng,
) -> Result<Vec<u8>> {
    let inner = sign_for_recipient(sender, recipient, message);
    let ephemeral = X25519KeyPair::generate(rng);
    seal_with(&ephemeral, recipient, &inner)
}

/// The deterministic variant (§3.4) used for self-encrypted config wrapping: the ephemeral
/// seed is `BLAKE2b-32(sender seed ‖ Y ‖ message, key = "SessionBoxEphemeralHashKey")`, so
/// the same inputs always give the same bytes.
pub fn encrypt_deterministic(
    sender: &Ed25519KeyPair,
    recipient: &X25519PublicKey,
    message: &[u8],
) -> Result<Vec<u8>> {
    let inner = sign_for_recipient(sender, recipient, message);
    let mut seed_hash = Blake2b::<32>::keyed(EPHEMERAL_HASH_KEY)?;
    seed_hash.update(sender.seed().expose()).update(recipient.as_bytes()).update(message);
    let ephemeral = cryptobox::seed_keypair(&Secret::from_array(seed_hash.finalize()));
    seal_with(&ephemeral, recipient, &inner)
}

/// A decrypted message with its verified sender. `Debug` does not show the plaintext.
pub struct Opened {
    /// The message as it was signed (still padded, for Content).
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The sender's Ed25519 key, whose signature was verified.
    pub sender_ed25519: Ed25519PublicKey,
    /// The sender's Account ID, derived from that key.
    pub sender: AccountId,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext_len", &self.plaintext.len())
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// Opens a V1 ciphertext addressed to `recipient` and verifies the sender's signature.
pub fn decrypt(recipient: &X25519KeyPair, ciphertext: &[u8]) -> Result<Opened> {
    if ciphertext.len() < OVERHEAD {
        return Err(Error::DecryptionFailed);
    }
    let inner = Zeroizing::new(
        cryptobox::seal_open(ciphertext, recipient).map_err(|_| Error::DecryptionFailed)?,
    );
    let message_len = inner.len() - 96;
    let sender_ed25519 = Ed25519PublicKey::from_slice(&inner[message_len..message_len + 32])?;
    let signature = Ed25519Signature::from_slice(&inner[message_len + 32..])?;

    let mut signed = Zeroizing::new(Vec::with_capacity(message_len + 64));
    signed.extend_from_slice(&inner[..message_len + 32]);
    signed.extend_from_slice(recipient.public().as_bytes());
    sender_ed25519.verify(&signed, &signature).map_err(|_| Error::BadSignature)?;

    let sender_x25519 = sender_ed25519.to_x25519().map_err(|_| Error::BadSignature)?;
    let mut plaintext = inner;
    plaintext.truncate(message_len);
    Ok(Opened { plaintext, sender_ed25519, sender: AccountId::from_x25519(&sender_x25519) })
}

/// The nonce `crypto_box_seal` uses for ephemeral key `e` and recipient `y`: `BLAKE2b-24(e ‖ y)`.
fn seal_nonce(e: &X25519PublicKey, y: &X25519PublicKey) -> [u8; 24] {
    let mut hash = Blake2b::<24>::new();
    hash.update(e.as_bytes()).update(y.as_bytes());
    hash.finalize()
}

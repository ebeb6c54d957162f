//! The passphrase encryption of the master secret: a four-round Feistel network whose round
//! function is PBKDF2-HMAC-SHA256 (SLIP-39 "Passphrase"). Any passphrase decrypts to some
//! secret; only the right one gives the right Account ID.

use sha2::Sha256;
use zeroize::Zeroizing;

const ROUNDS: u8 = 4;
/// Iterations over the four rounds at exponent 0.
const BASE_ITERATIONS: u32 = 10_000;

fn salt(identifier: u16, extendable: bool) -> Vec<u8> {
    if extendable { Vec::new() } else { [b"shamir".as_slice(), &identifier.to_be_bytes()].concat() }
}

fn round(i: u8, passphrase: &[u8], exponent: u8, salt: &[u8], r: &[u8]) -> Zeroizing<Vec<u8>> {
    let password = Zeroizing::new([&[i], passphrase].concat());
    let salt = Zeroizing::new([salt, r].concat());
    let iterations = (BASE_ITERATIONS << exponent) / u32::from(ROUNDS);
    let mut out = Zeroizing::new(vec![0u8; r.len()]);
    pbkdf2::pbkdf2_hmac::<Sha256>(&password, &salt, iterations, &mut out);
    out
}

fn feistel(
    input: &[u8],
    passphrase: &[u8],
    exponent: u8,
    identifier: u16,
    extendable: bool,
    order: impl Iterator<Item = u8>,
) -> Zeroizing<Vec<u8>> {
    let half = input.len() / 2;
    let mut l = Zeroizing::new(input[..half].to_vec());
    let mut r = Zeroizing::new(input[half..].to_vec());
    let salt = salt(identifier, extendable);
    for i in order {
        let f = round(i, passphrase, exponent, &salt, &r);
        let next: Zeroizing<Vec<u8>> =
            Zeroizing::new(l.iter().zip(f.iter()).map(|(a, b)| a ^ b).collect());
        l = r;
        r = next;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
    out.extend_from_slice(&r);
    out.extend_from_slice(&l);
    out
}

/// Encrypts the master secret (even length) into the secret that is shared.
pub(super) fn encrypt(
    master: &[u8],
    passphrase: &[u8],
    exponent: u8,
    identifier: u16,
    extendable: bool,
) -> Zeroizing<Vec<u8>> {
    feistel(master, passphrase, exponent, identifier, extendable, 0..ROUNDS)
}

/// Decrypts the shared secret into the master secret.
pub(super) fn decrypt(
    encrypted: &[u8],
    passphrase: &[u8],
    exponent: u8,
    identifier: u16,
    extendable: bool,
) -> Zeroizing<Vec<u8>> {
    feistel(encrypted, passphrase, exponent, identifier, extendable, (0..ROUNDS).rev())
}

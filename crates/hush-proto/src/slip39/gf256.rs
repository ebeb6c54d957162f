//! Shamir's secret sharing over GF(256) (the Rijndael field), byte by byte, as SLIP-39 uses
//! it: the secret at x = 255, a digest share at x = 254 that lets recovery detect wrong or
//! fabricated shares, and shares at x = 0, 1, 2, ….

use hmac::{Hmac, KeyInit, Mac};
use hush_sodium::Csprng;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Where the secret sits.
const SECRET_INDEX: u8 = 255;
/// Where the digest share sits.
const DIGEST_INDEX: u8 = 254;
/// Bytes of the digest.
const DIGEST_LEN: usize = 4;

/// One point of every byte polynomial: `x` and the values.
pub(super) struct RawShare {
    pub(super) x: u8,
    pub(super) data: Zeroizing<Vec<u8>>,
}

/// exp and log tables with generator x + 1, reducing by x⁸ + x⁴ + x³ + x + 1.
struct Tables {
    exp: [u8; 255],
    log: [u8; 256],
}

const TABLES: Tables = {
    let mut exp = [0u8; 255];
    let mut log = [0u8; 256];
    let mut poly: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = poly as u8;
        log[poly as usize] = i as u8;
        poly ^= poly << 1;
        if poly & 0x100 != 0 {
            poly ^= 0x11B;
        }
        i += 1;
    }
    Tables { exp, log }
};

fn log(v: u8) -> usize {
    usize::from(TABLES.log[usize::from(v)])
}

/// The value at `x` of the polynomials through `shares` (Lagrange interpolation).
pub(super) fn interpolate(shares: &[RawShare], x: u8) -> Result<Zeroizing<Vec<u8>>> {
    let len = shares.first().map_or(0, |s| s.data.len());
    if shares.iter().any(|s| s.data.len() != len) {
        return Err(Error::Shares("the shares' values have different lengths".into()));
    }
    for (i, a) in shares.iter().enumerate() {
        if shares[..i].iter().any(|b| b.x == a.x) {
            return Err(Error::Shares("two shares have the same member index".into()));
        }
    }
    if let Some(s) = shares.iter().find(|s| s.x == x) {
        return Ok(s.data.clone());
    }
    let log_prod: usize = shares.iter().map(|s| log(s.x ^ x)).sum();
    let mut out = Zeroizing::new(vec![0u8; len]);
    for s in shares {
        let others: usize = shares.iter().filter(|o| o.x != s.x).map(|o| log(s.x ^ o.x)).sum();
        // (log_prod − log(s.x ⊕ x) − Σ log(s.x ⊕ o.x)) mod 255, kept non-negative.
        let basis = (log_prod + 255 * (shares.len() + 1) - log(s.x ^ x) - others) % 255;
        for (o, &v) in out.iter_mut().zip(s.data.iter()) {
            if v != 0 {
                *o ^= TABLES.exp[(log(v) + basis) % 255];
            }
        }
    }
    Ok(out)
}

fn digest(random: &[u8], secret: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(random)
        .expect("invariant: HMAC takes keys of any length");
    mac.update(secret);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&full[..DIGEST_LEN]);
    out
}

/// Splits `secret` into `count` shares, any `threshold` of which recover it.
pub(super) fn split(
    threshold: u8,
    count: u8,
    secret: &[u8],
    rng: &mut impl Csprng,
) -> Result<Vec<RawShare>> {
    if threshold == 0 || threshold > count || count > 16 {
        return Err(Error::ShareScheme(format!(
            "cannot make {count} shares with threshold {threshold} (1 ≤ threshold ≤ shares ≤ 16)"
        )));
    }
    if threshold == 1 {
        return Ok((0..count)
            .map(|x| RawShare { x, data: Zeroizing::new(secret.to_vec()) })
            .collect());
    }
    let random_count = threshold - 2;
    let mut shares: Vec<RawShare> = (0..random_count)
        .map(|x| {
            let mut data = Zeroizing::new(vec![0u8; secret.len()]);
            rng.fill(&mut data);
            RawShare { x, data }
        })
        .collect();
    let mut random = Zeroizing::new(vec![0u8; secret.len() - DIGEST_LEN]);
    rng.fill(&mut random);
    let mut digest_share = Zeroizing::new(digest(&random, secret).to_vec());
    digest_share.extend_from_slice(&random);
    let mut base: Vec<RawShare> =
        shares.iter().map(|s| RawShare { x: s.x, data: s.data.clone() }).collect();
    base.push(RawShare { x: DIGEST_INDEX, data: digest_share });
    base.push(RawShare { x: SECRET_INDEX, data: Zeroizing::new(secret.to_vec()) });
    for x in random_count..count {
        shares.push(RawShare { x, data: interpolate(&base, x)? });
    }
    Ok(shares)
}

/// Recovers the secret from exactly `threshold` shares, checking its digest.
pub(super) fn recover(threshold: u8, shares: &[RawShare]) -> Result<Zeroizing<Vec<u8>>> {
    if threshold == 1 {
        return shares
            .first()
            .map(|s| s.data.clone())
            .ok_or_else(|| Error::Shares("no shares".into()));
    }
    let secret = interpolate(shares, SECRET_INDEX)?;
    let digest_share = interpolate(shares, DIGEST_INDEX)?;
    if digest_share.len() < DIGEST_LEN
        || digest(&digest_share[DIGEST_LEN..], &secret) != digest_share[..DIGEST_LEN]
    {
        return Err(Error::Shares(
            "the shares do not fit together (their digest is wrong): one of them is from another \
             backup, or was changed"
                .into(),
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use hush_sodium::SystemRng;

    use super::*;

    #[test]
    fn any_threshold_shares_recover_and_fewer_do_not() {
        let secret: Vec<u8> = (0..16).collect();
        let shares = split(3, 5, &secret, &mut SystemRng).unwrap();
        for (a, b, c) in [(0, 1, 2), (0, 2, 4), (4, 3, 1)] {
            let pick: Vec<RawShare> = [a, b, c]
                .iter()
                .map(|&i: &usize| RawShare { x: shares[i].x, data: shares[i].data.clone() })
                .collect();
            assert_eq!(*recover(3, &pick).unwrap(), secret);
        }
        let two: Vec<RawShare> =
            shares[..2].iter().map(|s| RawShare { x: s.x, data: s.data.clone() }).collect();
        assert!(recover(2, &two).is_err(), "two shares of a 3-of-5 fail the digest");
        assert!(split(0, 3, &secret, &mut SystemRng).is_err());
        assert!(split(4, 3, &secret, &mut SystemRng).is_err());
        assert!(split(2, 17, &secret, &mut SystemRng).is_err());
    }
}

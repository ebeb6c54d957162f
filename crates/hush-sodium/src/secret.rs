//! Fixed-size secret byte arrays that are wiped on drop and never printed.

use std::fmt;

use crate::{Csprng, Result, memzero, to_array};

/// `N` secret bytes on the heap (so moves do not leave copies on the stack), wiped with
/// `sodium_memzero` when dropped. `Debug` prints `Secret<N>([REDACTED])`.
///
/// There is no `PartialEq`: compare secrets with [`Secret::ct_eq`], which runs in constant time.
pub struct Secret<const N: usize>(Box<[u8; N]>);

impl<const N: usize> Secret<N> {
    /// Takes ownership of `bytes`; the argument's own copy is wiped. Copies the caller made
    /// before the call are the caller's to wipe: prefer filling [`Secret::zeroed`] in place.
    pub fn from_array(mut bytes: [u8; N]) -> Self {
        let secret = Self(Box::new(bytes));
        memzero(&mut bytes);
        secret
    }

    /// Copies a slice of exactly `N` bytes.
    pub fn from_slice(what: &'static str, bytes: &[u8]) -> Result<Self> {
        let mut secret = Self::zeroed();
        secret.0.copy_from_slice(&to_array::<N>(what, bytes)?);
        Ok(secret)
    }

    /// All zeros, to be filled in place through [`Secret::expose_mut`].
    pub fn zeroed() -> Self {
        Self(Box::new([0u8; N]))
    }

    /// `N` fresh random bytes from `rng`.
    pub fn random(rng: &mut impl Csprng) -> Self {
        let mut secret = Self::zeroed();
        rng.fill(&mut secret.0[..]);
        secret
    }

    /// The secret bytes. Keep the borrow short and do not copy them into unmanaged memory.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }

    /// Mutable access, for filling the secret in place.
    pub fn expose_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &Self) -> bool {
        crate::constant_time_eq(&self.0[..], &other.0[..])
    }
}

impl<const N: usize> Clone for Secret<N> {
    fn clone(&self) -> Self {
        let mut copy = Self::zeroed();
        copy.0.copy_from_slice(&self.0[..]);
        copy
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        memzero(&mut self.0[..]);
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret<{N}>([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from_array([0x41u8; 4]);
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret<4>([REDACTED])");
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(Secret::<4>::from_slice("key", &[1, 2, 3]).is_err());
        let s = Secret::<3>::from_slice("key", &[1, 2, 3]).unwrap();
        assert_eq!(s.expose(), &[1, 2, 3]);
        assert!(s.ct_eq(&s.clone()));
        assert!(!s.ct_eq(&Secret::from_array([1, 2, 4])));
    }
}

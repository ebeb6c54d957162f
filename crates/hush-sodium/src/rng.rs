//! Randomness: libsodium's CSPRNG, and a seeded stream for reproducible tests and vectors.
//!
//! Code that needs randomness takes `&mut impl Csprng`, so that protocol code stays
//! deterministic under test while production passes [`SystemRng`].

use libsodium_sys as ffi;

use crate::{Secret, ensure_init};

/// A cryptographically secure source of random bytes.
pub trait Csprng {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);

    /// Returns `N` random bytes.
    fn array<const N: usize>(&mut self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }
}

impl<R: Csprng + ?Sized> Csprng for &mut R {
    fn fill(&mut self, dest: &mut [u8]) {
        (**self).fill(dest);
    }
}

/// libsodium's `randombytes_buf`: the operating system's CSPRNG (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRng;

impl Csprng for SystemRng {
    fn fill(&mut self, dest: &mut [u8]) {
        ensure_init();
        // SAFETY: the pointer and length describe one valid, writable slice.
        unsafe { ffi::randombytes_buf(dest.as_mut_ptr().cast(), dest.len()) }
    }
}

/// A reproducible stream from a 32-byte seed (`randombytes_buf_deterministic`, ChaCha20),
/// one block of output per call keyed by the seed and a call counter.
///
/// For tests, benchmarks and test vectors. It is a sound CSPRNG while the seed is secret and
/// random, but production code uses [`SystemRng`].
#[derive(Debug, Clone)]
pub struct DeterministicRng {
    seed: Secret<32>,
    calls: u64,
}

impl DeterministicRng {
    /// A stream determined entirely by `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { seed: Secret::from_array(seed), calls: 0 }
    }
}

impl Csprng for DeterministicRng {
    fn fill(&mut self, dest: &mut [u8]) {
        ensure_init();
        // Each call gets its own key, BLAKE2b(seed ‖ call counter), so successive calls
        // never repeat output.
        let mut per_call = crate::hash::Blake2b::<32>::new();
        per_call.update(self.seed.expose()).update(&self.calls.to_le_bytes());
        let key = Secret::from_array(per_call.finalize());
        self.calls = self.calls.wrapping_add(1);
        // SAFETY: `dest` is a valid writable slice; `key` points to 32 readable bytes, the
        // seed size `randombytes_buf_deterministic` requires.
        unsafe {
            ffi::randombytes_buf_deterministic(
                dest.as_mut_ptr().cast(),
                dest.len(),
                key.expose().as_ptr(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Csprng, DeterministicRng, SystemRng};

    #[test]
    fn system_rng_is_not_constant() {
        let a: [u8; 32] = SystemRng.array();
        let b: [u8; 32] = SystemRng.array();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }

    #[test]
    fn deterministic_rng_repeats_per_seed_and_never_per_call() {
        let mut a = DeterministicRng::from_seed([1; 32]);
        let mut b = DeterministicRng::from_seed([1; 32]);
        let first: [u8; 16] = a.array();
        assert_eq!(first, b.array::<16>());
        let second: [u8; 16] = a.array();
        assert_ne!(first, second);
        let mut c = DeterministicRng::from_seed([2; 32]);
        assert_ne!(first, c.array::<16>());
    }
}

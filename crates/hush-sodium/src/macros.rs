//! Macros that stamp out the typed key, nonce and ciphertext wrappers.

/// Writes `bytes` as lowercase hex; `limit` bytes at most, then `…`.
pub(crate) fn write_hex(
    f: &mut std::fmt::Formatter<'_>,
    bytes: &[u8],
    limit: usize,
) -> std::fmt::Result {
    for b in bytes.iter().take(limit) {
        write!(f, "{b:02x}")?;
    }
    if bytes.len() > limit {
        f.write_str("…")?;
    }
    Ok(())
}

/// A public, fixed-size byte string held inline (`Copy`), shown as hex in `Debug`.
macro_rules! public_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps an array.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Copies a slice, which must have exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> $crate::Result<Self> {
                $crate::to_array($what, bytes).map(Self)
            }

            /// The bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                $crate::macros::write_hex(f, &self.0, 32)?;
                f.write_str(")")
            }
        }
    };
}

/// A public byte string too large to copy around freely: boxed, `Clone` but not `Copy`.
macro_rules! public_boxed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(Box<[u8; $len]>);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Copies a slice, which must have exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> $crate::Result<Self> {
                let mut out = Self::zeroed();
                out.0.copy_from_slice(&$crate::to_array::<{ $len }>($what, bytes)?);
                Ok(out)
            }

            /// The bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            #[allow(dead_code, reason = "not every boxed type is filled in place")]
            pub(crate) fn zeroed() -> Self {
                Self(Box::new([0u8; $len]))
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0[..]
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                $crate::macros::write_hex(f, &self.0[..], 16)?;
                f.write_str(")")
            }
        }
    };
}

/// A secret, fixed-size byte string: a [`crate::Secret`] with a name. Redacted `Debug`.
macro_rules! secret_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name($crate::Secret<$len>);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps secret bytes.
            pub fn from_secret(secret: $crate::Secret<$len>) -> Self {
                Self(secret)
            }

            /// Copies a slice, which must have exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> $crate::Result<Self> {
                $crate::Secret::from_slice($what, bytes).map(Self)
            }

            /// Fresh random bytes.
            pub fn random(rng: &mut impl $crate::Csprng) -> Self {
                Self($crate::Secret::random(rng))
            }

            /// The secret bytes.
            pub fn expose(&self) -> &[u8; $len] {
                self.0.expose()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }
    };
}

pub(crate) use {public_boxed_bytes, public_bytes, secret_bytes};

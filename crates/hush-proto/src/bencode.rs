//! Bencode, as libsession's config messages use it (session-protocol.md §9.2): integers
//! (i64), byte strings, lists, and dicts with byte-string keys in ascending order.
//!
//! Decoding is strict and bounded: canonical integers only (no `+`, leading zeros or `-0`),
//! dict keys strictly ascending, nesting at most [`MAX_DEPTH`] deep, nothing after the value,
//! and every length checked against the input before anything is allocated.

use std::collections::BTreeMap;

use crate::{Error, Result};

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// A bencoded value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bt {
    /// `i…e`
    Int(i64),
    /// `N:…`
    Bytes(Vec<u8>),
    /// `l…e`
    List(Vec<Self>),
    /// `d…e`
    Dict(BTreeMap<Vec<u8>, Self>),
}

impl Bt {
    /// A byte string from text.
    pub fn str(s: &str) -> Self {
        Self::Bytes(s.as_bytes().to_vec())
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::Int(i) => {
                out.push(b'i');
                out.extend_from_slice(i.to_string().as_bytes());
                out.push(b'e');
            }
            Self::Bytes(b) => encode_bytes(b, out),
            Self::List(items) => {
                out.push(b'l');
                for item in items {
                    item.encode_into(out);
                }
                out.push(b'e');
            }
            Self::Dict(entries) => {
                out.push(b'd');
                for (k, v) in entries {
                    encode_bytes(k, out);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// Decodes exactly one value filling `input`.
    pub fn decode(input: &[u8]) -> Result<Self> {
        let mut pos = 0;
        let value = parse(input, &mut pos, 0)?;
        if pos != input.len() {
            return Err(bad("bytes after the value"));
        }
        Ok(value)
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

fn bad(why: &'static str) -> Error {
    Error::Bencode(why)
}

fn digits(input: &[u8], pos: &mut usize, end: u8) -> Result<(bool, u64)> {
    let negative = input.get(*pos) == Some(&b'-');
    if negative {
        *pos += 1;
    }
    let start = *pos;
    let mut value: u64 = 0;
    while let Some(&c) = input.get(*pos) {
        if c == end {
            break;
        }
        if !c.is_ascii_digit() {
            return Err(bad("a number has a non-digit"));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or_else(|| bad("a number is too large"))?;
        *pos += 1;
    }
    let len = *pos - start;
    if input.get(*pos) != Some(&end) {
        return Err(bad("a number is cut off"));
    }
    *pos += 1;
    if len == 0 || (len > 1 && input[start] == b'0') || (negative && value == 0) {
        return Err(bad("a number is not in canonical form"));
    }
    Ok((negative, value))
}

fn parse(input: &[u8], pos: &mut usize, depth: usize) -> Result<Bt> {
    if depth > MAX_DEPTH {
        return Err(bad("nested too deeply"));
    }
    match input.get(*pos) {
        None => Err(bad("truncated")),
        Some(b'i') => {
            *pos += 1;
            let (negative, magnitude) = digits(input, pos, b'e')?;
            let value = if negative {
                0i64.checked_sub_unsigned(magnitude)
            } else {
                i64::try_from(magnitude).ok()
            };
            value.map(Bt::Int).ok_or_else(|| bad("an integer does not fit in 64 bits"))
        }
        Some(b'l') => {
            *pos += 1;
            let mut items = Vec::new();
            while input.get(*pos) != Some(&b'e') {
                items.push(parse(input, pos, depth + 1)?);
            }
            *pos += 1;
            Ok(Bt::List(items))
        }
        Some(b'd') => {
            *pos += 1;
            let mut entries = BTreeMap::new();
            let mut last: Option<Vec<u8>> = None;
            while input.get(*pos) != Some(&b'e') {
                let key = bytes(input, pos)?;
                if last.as_ref().is_some_and(|l| *l >= key) {
                    return Err(bad("dict keys are not in ascending order"));
                }
                let value = parse(input, pos, depth + 1)?;
                last = Some(key.clone());
                entries.insert(key, value);
            }
            *pos += 1;
            Ok(Bt::Dict(entries))
        }
        Some(c) if c.is_ascii_digit() => bytes(input, pos).map(Bt::Bytes),
        Some(_) => Err(bad("an unknown type")),
    }
}

fn bytes(input: &[u8], pos: &mut usize) -> Result<Vec<u8>> {
    if input.get(*pos) == Some(&b'-') {
        return Err(bad("a negative length"));
    }
    let (_, len) = digits(input, pos, b':')?;
    let len = usize::try_from(len).map_err(|_| bad("a string is too long"))?;
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= input.len())
        .ok_or_else(|| bad("a string is cut off"))?;
    let out = input[*pos..end].to_vec();
    *pos = end;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_non_canonical_input() {
        let v = Bt::Dict(BTreeMap::from([
            (b"a".to_vec(), Bt::Int(-42)),
            (b"b".to_vec(), Bt::List(vec![Bt::str("x"), Bt::Int(0), Bt::Bytes(Vec::new())])),
        ]));
        let e = v.encode();
        assert_eq!(e, b"d1:ai-42e1:bl1:xi0e0:ee");
        assert_eq!(Bt::decode(&e).unwrap(), v);
        for bad in [
            &b"i-0e"[..],
            b"i01e",
            b"ie",
            b"i9223372036854775808e",
            b"d1:bi1e1:ai1ee",
            b"d1:ai1e1:ai1ee",
            b"5:abc",
            b"01:a",
            b"l",
            b"i1ei2e",
            b"x",
        ] {
            assert!(Bt::decode(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(Bt::decode(b"i-9223372036854775808e").unwrap(), Bt::Int(i64::MIN));
        assert_eq!(Bt::decode(b"0:").unwrap(), Bt::Bytes(Vec::new()));
        let deep = [vec![b'l'; MAX_DEPTH + 2], vec![b'e'; MAX_DEPTH + 2]].concat();
        assert!(Bt::decode(&deep).is_err());
    }
}

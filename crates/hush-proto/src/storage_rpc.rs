//! Storage RPC requests (`/storage_rpc/v1` and the innermost layer of an onion request):
//! reading a JSON body into a typed [`request::Request`], with the reference server's error
//! texts (docs/protocol/storage-rpc.md). Sans-I/O: hush-node runs what this parses, and the
//! fuzz targets feed it arbitrary bytes.
//!
//! Every size is bounded before it is allocated: the number of JSON values in the body
//! ([`MAX_JSON_VALUES`], counted before parsing), message data, hashes, tokens and
//! subrequests.

pub mod params;
pub mod request;

use serde_json::Value;

use crate::namespace::Namespace;
use request::{ParseError, Request};

/// Which namespaces a bulk operation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespaces {
    /// One namespace.
    One(Namespace),
    /// All of the account's namespaces.
    All,
}

/// Most JSON values (arrays, objects, members, elements) a request may contain: parsing
/// into a tree costs tens of bytes per value, so this bounds memory whatever the body's
/// size. A batch of 20 stores has a few hundred.
pub const MAX_JSON_VALUES: usize = 20_000;

/// An upper bound on the number of JSON values in `body`, from its structural bytes.
pub fn json_values_bound(body: &[u8]) -> usize {
    body.iter().filter(|&&b| matches!(b, b',' | b':' | b'[' | b'{')).count()
}

/// A body that is not a request at all (the text of the 400 answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON, too many values, or no `method` / `params`.
    Invalid(&'static str),
    /// A method nobody knows (its name, at most 64 characters).
    UnknownMethod(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(why) => f.write_str(why),
            Self::UnknownMethod(name) => write!(f, "no method {name}"),
        }
    }
}

/// Reads a request body: its method's canonical name and the parsed request (or why its
/// parameters are wrong), or why the body is no request.
pub fn read_body(body: &[u8]) -> Result<(&'static str, Result<Request, ParseError>), BodyError> {
    if json_values_bound(body) > MAX_JSON_VALUES {
        return Err(BodyError::Invalid("invalid json: too many values"));
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Err(BodyError::Invalid("invalid json"));
    };
    let Some(method) = value.get("method").and_then(Value::as_str) else {
        return Err(BodyError::Invalid("invalid json: no `method` field"));
    };
    let Some(Value::Object(params)) = value.get("params") else {
        return Err(BodyError::Invalid("invalid json: no `params` field"));
    };
    let Some(name) = request::method_name(method) else {
        return Err(BodyError::UnknownMethod(method.chars().take(64).collect()));
    };
    Ok((name, request::parse(name, params, false)))
}

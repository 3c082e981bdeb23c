//! Owned copies of parsed heads, for callers with an allocator (feature `alloc`).
//!
//! The borrowed views ([`RequestHead`], [`ResponseHead`]) live only as long as the receive
//! buffer they point into. An adapter that hands a head to another task, or keeps it across
//! reads, copies it once into these. They add no protocol behaviour.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::field::{Field, Headers};
use crate::head::{RequestHead, ResponseHead};
use crate::status::StatusCode;
use crate::version::Version;

/// An owned header field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedField {
    /// The name, as received.
    pub name: String,
    /// The value bytes.
    pub value: Vec<u8>,
}

impl OwnedField {
    /// Borrows it as a [`Field`], e.g. to write it.
    pub fn as_field(&self) -> Field<'_> {
        Field { name: &self.name, value: &self.value }
    }
}

fn own_fields(headers: &Headers<'_>) -> Vec<OwnedField> {
    headers.iter().map(|f| OwnedField { name: f.name.to_string(), value: f.value.to_vec() }).collect()
}

/// An owned copy of a [`RequestHead`].
///
/// ```
/// use tern_proto::{EMPTY_SLOT, Limits, RequestHead, owned::OwnedRequestHead};
/// let mut slots = [EMPTY_SLOT; 4];
/// let owned = {
///     let buf = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
///     let (head, _) = RequestHead::parse(&buf, &mut slots, &Limits::default()).unwrap().complete().unwrap();
///     OwnedRequestHead::from(&head)
/// }; // the receive buffer is gone, the copy lives on
/// assert_eq!(owned.method, "GET");
/// assert_eq!(owned.header("host"), Some(&b"x"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedRequestHead {
    /// The method token.
    pub method: String,
    /// The request-target.
    pub target: String,
    /// The version.
    pub version: Version,
    /// The header fields, in order.
    pub headers: Vec<OwnedField>,
}

/// An owned copy of a [`ResponseHead`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedResponseHead {
    /// The version.
    pub version: Version,
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase.
    pub reason: String,
    /// The header fields, in order.
    pub headers: Vec<OwnedField>,
}

impl From<&RequestHead<'_>> for OwnedRequestHead {
    fn from(h: &RequestHead<'_>) -> Self {
        OwnedRequestHead {
            method: h.method.as_str().to_string(),
            target: h.target.to_string(),
            version: h.version,
            headers: own_fields(&h.headers),
        }
    }
}

impl From<&ResponseHead<'_>> for OwnedResponseHead {
    fn from(h: &ResponseHead<'_>) -> Self {
        OwnedResponseHead {
            version: h.version,
            status: h.status,
            reason: h.reason.to_string(),
            headers: own_fields(&h.headers),
        }
    }
}

fn find<'a>(headers: &'a [OwnedField], name: &str) -> Option<&'a [u8]> {
    headers.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| f.value.as_slice())
}

impl OwnedRequestHead {
    /// The value of the first field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find(&self.headers, name)
    }
}

impl OwnedResponseHead {
    /// The value of the first field named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        find(&self.headers, name)
    }
}

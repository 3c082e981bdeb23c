//! The request a handler serves: a view over the head in the receive buffer.

use super::engine::Connection;
use crate::body::BodyKind;
use crate::field::raw_fields;
use crate::method::Method;
use crate::server::query::{cookie_value, header_value, path_of, query_key_value, query_of};
use crate::version::Version;

/// The current request, borrowed from the engine (ESP-IDF's `httpd_req_t` and its
/// `httpd_req_get_*` accessors). Nothing is copied: every accessor scans the head in place.
///
/// Header lookup follows ESP-IDF's `httpd_req_get_hdr_value_str`: names are
/// case-insensitive, the first field of that name wins, leading whitespace is skipped and
/// trailing whitespace is kept, and a value may be empty.
#[derive(Debug, Clone, Copy)]
pub struct Request<'c> {
    head: &'c [u8],
    method: Method<'c>,
    target: &'c str,
    version: Version,
    body: BodyKind,
}

impl<'c> Request<'c> {
    /// The method.
    pub fn method(&self) -> Method<'c> {
        self.method
    }

    /// The request-target as sent, query included (`req->uri`).
    pub fn uri(&self) -> &'c str {
        self.target
    }

    /// The path: the request-target without its query.
    pub fn path(&self) -> &'c str {
        path_of(self.target)
    }

    /// The raw query string, not decoded (`httpd_req_get_url_query_str`).
    pub fn query(&self) -> Option<&'c str> {
        query_of(self.target)
    }

    /// The value of `key` in the query (`httpd_query_key_value`: key case-insensitive, value
    /// not decoded; see [`url_decode`](crate::server::query::url_decode)).
    pub fn query_value(&self, key: &str) -> Option<&'c str> {
        self.query().and_then(|q| query_key_value(q, key))
    }

    /// HTTP/1.0 or HTTP/1.1.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The first field named `name` (`httpd_req_get_hdr_value_str`).
    pub fn header(&self, name: &str) -> Option<&'c [u8]> {
        header_value(self.head, name)
    }

    /// [`header`](Self::header) as text, when it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&'c str> {
        self.header(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// Every field in order, as (name, value) with the value's leading whitespace skipped.
    pub fn headers(&self) -> impl Iterator<Item = (&'c str, &'c [u8])> + 'c {
        raw_fields(self.head).filter_map(|(name, value)| {
            let start = value.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(value.len());
            Some((core::str::from_utf8(name).ok()?, value.get(start..)?))
        })
    }

    /// The value of cookie `name` in the first `Cookie` field (`httpd_req_get_cookie_val`).
    pub fn cookie(&self, name: &str) -> Option<&'c [u8]> {
        self.header("cookie").and_then(|c| cookie_value(c, name))
    }

    /// `Content-Length`, or 0 when absent or chunked (`req->content_len`).
    pub fn content_len(&self) -> u64 {
        match self.body {
            BodyKind::Length(n) => n,
            _ => 0,
        }
    }

    /// How the body is framed: none, a length, or chunked.
    pub fn body_kind(&self) -> BodyKind {
        self.body
    }

    /// The head as received, from the request line through the empty line
    /// (`httpd_get_raw_req_data`).
    pub fn raw_head(&self) -> &'c [u8] {
        self.head
    }
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> Connection<B> {
    /// The request being served, from [`Completion::Request`](super::Completion::Request)
    /// until [`finish`](Self::finish). Stays readable while the body is read and the response
    /// is sent.
    pub fn request(&self) -> Option<Request<'_>> {
        if !self.has_request {
            return None;
        }
        let rx = self.rx();
        let c = &self.current;
        let method = rx.get(c.method.0..c.method.1).and_then(|m| core::str::from_utf8(m).ok())?;
        let target = rx.get(c.target.0..c.target.1).and_then(|t| core::str::from_utf8(t).ok())?;
        Some(Request {
            head: rx.get(c.head_start..c.head_len)?,
            method: Method::from_token(method).ok()?,
            target,
            version: c.version,
            body: c.body,
        })
    }
}

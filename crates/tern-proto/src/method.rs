//! Request methods: ESP-IDF's eighteen, CONNECT and TRACE by name, any other token as an
//! extension.

use crate::error::LocalError;
use crate::syntax::is_token;

/// A request method (RFC 9110 section 9). Methods are case-sensitive: `get` is an extension
/// method, not [`Method::Get`].
///
/// The named variants are ESP-IDF's `esp_http_client_method_t` in its order, then CONNECT and
/// TRACE, which change how messages are framed. Any other valid token is an
/// [`ExtensionMethod`].
///
/// ```
/// use tern_proto::Method;
/// assert_eq!(Method::from_token("PROPFIND"), Ok(Method::Propfind));
/// let m = Method::from_token("M-SEARCH").unwrap();
/// assert_eq!(m.as_str(), "M-SEARCH");
/// assert!(Method::from_token("GET /").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// NOTIFY
    Notify,
    /// SUBSCRIBE
    Subscribe,
    /// UNSUBSCRIBE
    Unsubscribe,
    /// OPTIONS
    Options,
    /// COPY
    Copy,
    /// MOVE
    Move,
    /// LOCK
    Lock,
    /// UNLOCK
    Unlock,
    /// PROPFIND
    Propfind,
    /// PROPPATCH
    Proppatch,
    /// MKCOL
    Mkcol,
    /// REPORT
    Report,
    /// CONNECT
    Connect,
    /// TRACE
    Trace,
    /// Any other token.
    Extension(ExtensionMethod<'a>),
}

/// A method token that is none of [`Method`]'s named variants; built only through
/// [`Method::from_token`], so it is always a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtensionMethod<'a>(&'a str);

impl<'a> ExtensionMethod<'a> {
    /// The token.
    pub const fn as_str(&self) -> &'a str {
        self.0
    }
}

/// The named methods in ESP-IDF's enum order, then CONNECT and TRACE.
const NAMED: [(Method<'static>, &str); 20] = [
    (Method::Get, "GET"),
    (Method::Post, "POST"),
    (Method::Put, "PUT"),
    (Method::Patch, "PATCH"),
    (Method::Delete, "DELETE"),
    (Method::Head, "HEAD"),
    (Method::Notify, "NOTIFY"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Unsubscribe, "UNSUBSCRIBE"),
    (Method::Options, "OPTIONS"),
    (Method::Copy, "COPY"),
    (Method::Move, "MOVE"),
    (Method::Lock, "LOCK"),
    (Method::Unlock, "UNLOCK"),
    (Method::Propfind, "PROPFIND"),
    (Method::Proppatch, "PROPPATCH"),
    (Method::Mkcol, "MKCOL"),
    (Method::Report, "REPORT"),
    (Method::Connect, "CONNECT"),
    (Method::Trace, "TRACE"),
];

impl<'a> Method<'a> {
    /// The position of a named method in ESP-IDF's enum order, then CONNECT and TRACE
    /// (0..20); `None` for an extension method. A small integer for bit sets of methods.
    pub(crate) fn named_index(&self) -> Option<usize> {
        NAMED.iter().position(|(m, _)| m == self)
    }

    /// The named methods, in [`named_index`](Self::named_index) order.
    pub(crate) fn named() -> impl Iterator<Item = Method<'static>> {
        NAMED.iter().map(|(m, _)| *m)
    }

    /// ESP-IDF's eighteen client methods, in `esp_http_client_method_t` order.
    pub const ESP_IDF: [Method<'static>; 18] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Notify,
        Method::Subscribe,
        Method::Unsubscribe,
        Method::Options,
        Method::Copy,
        Method::Move,
        Method::Lock,
        Method::Unlock,
        Method::Propfind,
        Method::Proppatch,
        Method::Mkcol,
        Method::Report,
    ];

    /// The method named by `token`, or an error if it is not a valid token.
    pub fn from_token(token: &'a str) -> Result<Method<'a>, LocalError> {
        // The common methods first, so typical requests skip the table scan.
        match token {
            "GET" => return Ok(Method::Get),
            "POST" => return Ok(Method::Post),
            _ => {}
        }
        if let Some((m, _)) = NAMED.iter().find(|(_, name)| *name == token) {
            return Ok(*m);
        }
        if is_token(token.as_bytes()) {
            Ok(Method::Extension(ExtensionMethod(token)))
        } else {
            Err(LocalError::InvalidMethod)
        }
    }

    /// The token as it appears on the wire.
    pub const fn as_str(&self) -> &'a str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Unsubscribe => "UNSUBSCRIBE",
            Method::Options => "OPTIONS",
            Method::Copy => "COPY",
            Method::Move => "MOVE",
            Method::Lock => "LOCK",
            Method::Unlock => "UNLOCK",
            Method::Propfind => "PROPFIND",
            Method::Proppatch => "PROPPATCH",
            Method::Mkcol => "MKCOL",
            Method::Report => "REPORT",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
            Method::Extension(e) => e.0,
        }
    }

    /// Safe methods (RFC 9110 section 9.2.1) among the named ones.
    pub const fn is_safe(&self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options | Method::Trace | Method::Propfind | Method::Report)
    }

    /// Idempotent methods (RFC 9110 section 9.2.2; RFC 4918 for WebDAV): a request with one of
    /// these may be retried on a fresh connection when a reused one turns out dead.
    pub const fn is_idempotent(&self) -> bool {
        self.is_safe()
            || matches!(
                self,
                Method::Put
                    | Method::Delete
                    | Method::Copy
                    | Method::Move
                    | Method::Proppatch
                    | Method::Mkcol
                    | Method::Unlock
            )
    }
}

impl core::fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_method_round_trips() {
        for (m, name) in NAMED {
            assert_eq!(m.as_str(), name);
            assert_eq!(Method::from_token(name), Ok(m));
        }
        assert_eq!(Method::ESP_IDF.len(), 18);
        assert_eq!(Method::ESP_IDF[17], Method::Report);
    }

    #[test]
    fn methods_are_case_sensitive() {
        let m = Method::from_token("get");
        assert!(matches!(m, Ok(Method::Extension(e)) if e.as_str() == "get"));
    }

    #[test]
    fn invalid_tokens_are_refused() {
        for bad in ["", "GET ", "G\rT", "GE\0T", "(GET)", "G/T"] {
            assert_eq!(Method::from_token(bad), Err(LocalError::InvalidMethod), "{bad:?}");
        }
    }

    #[test]
    fn idempotence() {
        assert!(Method::Get.is_idempotent());
        assert!(Method::Put.is_idempotent());
        assert!(!Method::Post.is_idempotent());
        assert!(!Method::Patch.is_idempotent());
        assert!(!Method::Lock.is_idempotent());
    }
}

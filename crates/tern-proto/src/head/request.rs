//! Request heads: the borrowed view and its parser.

use super::Parse;
use super::classify::{
    Located, bounded_field, common, empty_line_len, leading_empty, offset_in, refused, section_overflow,
    version_verdict,
};
use crate::error::{Limit, RemoteError, Syntax};
use crate::field::{HeaderSlot, Headers};
use crate::limits::Limits;
use crate::method::Method;
use crate::version::Version;

/// A parsed request head, borrowing the input and the header slots.
///
/// ```
/// use tern_proto::{EMPTY_SLOT, Limits, Method, Parse, RequestHead, Version};
/// let mut slots = [EMPTY_SLOT; 8];
/// let input = b"GET /index.html?x=1 HTTP/1.1\r\nHost: esp32.local\r\n\r\n";
/// let Parse::Complete((head, len)) = RequestHead::parse(input, &mut slots, &Limits::default())? else {
///     unreachable!()
/// };
/// assert_eq!((head.method, head.target, head.version), (Method::Get, "/index.html?x=1", Version::Http11));
/// assert_eq!(head.headers.get("HOST"), Some(&b"esp32.local"[..]));
/// assert_eq!(len, input.len());
/// # Ok::<(), tern_proto::RemoteError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// The method.
    pub method: Method<'a>,
    /// The request-target as sent: origin-form (`/path?query`), absolute-form, authority-form
    /// (CONNECT) or `*`.
    pub target: &'a str,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields.
    pub headers: Headers<'a>,
}

impl<'a> RequestHead<'a> {
    /// Parses a request head from the start of `input`.
    ///
    /// Returns the head and its length in bytes (the body, if any, starts there), or
    /// [`Parse::Partial`] if more bytes are needed. The number of `slots` is the most header
    /// fields accepted; more is [`Limit::HeaderCount`]. The [`Limits`] are enforced on partial
    /// input too, so a caller whose buffer holds [`Limits::max_request_head_len`] bytes always
    /// gets an answer before it fills.
    ///
    /// Errors name the rule broken; [`RemoteError::status`] gives the status to answer with.
    ///
    /// ```
    /// use tern_proto::{EMPTY_SLOT, Limit, Limits, Parse, RemoteError, RequestHead, StatusCode};
    /// let limits = Limits::default();
    ///
    /// // A head cut short by the network: read more and parse again from the start.
    /// let mut slots = [EMPTY_SLOT; 16];
    /// assert_eq!(RequestHead::parse(b"GET /status HTTP/1.1\r\nHo", &mut slots, &limits)?, Parse::Partial);
    ///
    /// // Complete: the head, and where the body starts.
    /// let input = b"PUT /cfg HTTP/1.1\r\nHost: esp32\r\nContent-Length: 2\r\n\r\n{}";
    /// let mut slots = [EMPTY_SLOT; 16];
    /// let (head, len) = RequestHead::parse(input, &mut slots, &limits)?.complete().unwrap();
    /// assert_eq!((head.target, head.headers.get("content-length")), ("/cfg", Some(&b"2"[..])));
    /// assert_eq!(&input[len..], b"{}");
    ///
    /// // Over a limit, even before the head is complete: the error says which, and what to answer.
    /// let long = [b"GET /".as_slice(), &[b'a'; 600]].concat();
    /// let mut slots = [EMPTY_SLOT; 16];
    /// let refused = RequestHead::parse(&long, &mut slots, &limits).unwrap_err();
    /// assert!(matches!(refused, RemoteError::TooLarge { limit: Limit::RequestTarget, .. }));
    /// assert_eq!(refused.status(), StatusCode::URI_TOO_LONG);
    /// # Ok::<(), RemoteError>(())
    /// ```
    pub fn parse(
        input: &'a [u8],
        slots: &'a mut [HeaderSlot<'a>],
        limits: &Limits,
    ) -> Result<Parse<(RequestHead<'a>, usize)>, RemoteError> {
        let slot_count = slots.len();
        let mut req = httparse::Request::new(slots);
        match req.parse(input) {
            Ok(httparse::Status::Complete(len)) => {
                let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
                    return Err(RemoteError::Malformed(Syntax::Method));
                };
                let head = RequestHead {
                    method: Method::from_token(method).map_err(|_| RemoteError::Malformed(Syntax::Method))?,
                    target,
                    version: Version::from_minor(minor),
                    headers: Headers::new(req.headers),
                };
                check_complete(input, method, target, len, limits)?;
                Ok(Parse::Complete((head, len)))
            }
            Ok(httparse::Status::Partial) => match scan_limits(input, limits) {
                Some((_, e)) => Err(e),
                None => Ok(Parse::Partial),
            },
            Err(_) => {
                let slots = req.headers;
                refused(
                    input,
                    |prefix| httparse::Request::new(&mut *slots).parse(prefix).err(),
                    scan_limits(input, limits),
                    |pos, kind| classify(input, pos, kind, slot_count),
                )
            }
        }
    }
}

impl RequestHead<'_> {
    /// The Host rules a server enforces (RFC 9112 section 3.2): an HTTP/1.1 request has
    /// exactly one Host field, any request at most one, and its value is empty or
    /// `uri-host [":" port]`. Otherwise [`Syntax::Host`], which a server answers with 400.
    ///
    /// ```
    /// use tern_proto::{EMPTY_SLOT, Limits, RemoteError, RequestHead, Syntax};
    /// let limits = Limits::default();
    /// let mut slots = [EMPTY_SLOT; 8];
    /// let (head, _) = RequestHead::parse(b"GET / HTTP/1.1\r\n\r\n", &mut slots, &limits)?.complete().unwrap();
    /// assert_eq!(head.check_host(), Err(RemoteError::Malformed(Syntax::Host)));
    /// # Ok::<(), RemoteError>(())
    /// ```
    pub fn check_host(&self) -> Result<(), RemoteError> {
        let mut hosts = self.headers.get_all("host");
        let verdict = match (hosts.next(), hosts.next()) {
            (None, _) => self.version != Version::Http11,
            (Some(value), None) => is_host_value(value),
            (Some(_), Some(_)) => false,
        };
        if verdict { Ok(()) } else { Err(RemoteError::Malformed(Syntax::Host)) }
    }
}

/// `uri-host [":" port]` or empty (RFC 9112 section 3.2, RFC 3986 section 3.2.2): an IP
/// literal in brackets, or a reg-name / IPv4 address of unreserved, sub-delims and
/// percent-encoded bytes, then an optional port of digits.
fn is_host_value(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    let (host, rest) = if value.first() == Some(&b'[') {
        let Some(close) = value.iter().position(|&b| b == b']') else { return false };
        let (literal, rest) = value.split_at(close + 1);
        let inner = literal.get(1..literal.len() - 1).unwrap_or_default();
        if inner.is_empty() || !inner.iter().all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'v' | b'V')) {
            return false;
        }
        (literal, rest)
    } else {
        let end = value.iter().position(|&b| b == b':').unwrap_or(value.len());
        let (name, rest) = value.split_at(end);
        // unreserved, sub-delims and `%` of pct-encoded (RFC 3986 section 3.2.2).
        let reg_name = name.iter().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(b));
        if !reg_name {
            return false;
        }
        (name, rest)
    };
    let port_ok = match rest.split_first() {
        None => true,
        Some((b':', port)) => port.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    };
    port_ok && (!host.is_empty() || rest.is_empty())
}

/// The limit checks for a head httparse parsed completely, from httparse's own slices: the
/// same verdicts as [`scan_limits`] gives on that input, without another pass over it.
fn check_complete(input: &[u8], method: &str, target: &str, len: usize, limits: &Limits) -> Result<(), RemoteError> {
    let leading = offset_in(input, method.as_bytes());
    let too_large = |limit, max: usize| Err(RemoteError::TooLarge { limit, max: max as u64 });
    if leading > limits.max_leading_empty_len {
        return too_large(Limit::LeadingEmptyLines, limits.max_leading_empty_len);
    }
    if method.len() > limits.max_method_len {
        return too_large(Limit::Method, limits.max_method_len);
    }
    if target.len() > limits.max_target_len {
        return too_large(Limit::RequestTarget, limits.max_target_len);
    }
    // target SP "HTTP/1.x" then CRLF or LF.
    let version_end = offset_in(input, target.as_bytes()) + target.len() + 1 + 8;
    let line_len = version_end + if input.get(version_end) == Some(&b'\r') { 2 } else { 1 };
    if len - line_len > limits.max_header_section_len {
        return too_large(Limit::HeaderSection, limits.max_header_section_len);
    }
    Ok(())
}

/// The first limit the bytes so far exceed, scanning left to right, with its position.
fn scan_limits(input: &[u8], limits: &Limits) -> Option<Located> {
    let start = match leading_empty(input, limits.max_leading_empty_len) {
        Ok(n) => n,
        Err(located) => return Some(located),
    };
    let method_len = match bounded_field(input, start, b" \r\n", limits.max_method_len, Limit::Method) {
        Err(located) => return Some(located),
        Ok(None) => return None,
        Ok(Some(n)) => n,
    };
    let target_start = start + method_len + 1;
    let target_len = match bounded_field(input, target_start, b" \r\n", limits.max_target_len, Limit::RequestTarget) {
        Err(located) => return Some(located),
        Ok(None) => return None,
        Ok(Some(n)) => n,
    };
    let after_target = target_start + target_len;
    let line_end = after_target + input.get(after_target..)?.iter().position(|&b| b == b'\n')?;
    section_overflow(input, line_end + 1, limits.max_header_section_len)
}

/// A precise error for httparse's `kind` at `pos`; `None` while a refused version could
/// still turn out either malformed or unsupported.
fn classify(input: &[u8], pos: usize, kind: httparse::Error, slots: usize) -> Option<RemoteError> {
    if let Some(e) = common(input, pos, kind, slots) {
        return Some(e);
    }
    // Locate the request line's parts to tell the method from the target from the version.
    let start = empty_line_len(input);
    let line = input.get(start..).unwrap_or_default();
    let spaces: usize = line.iter().take(pos.saturating_sub(start)).filter(|&&b| b == b' ').count();
    Some(match (kind, spaces) {
        (httparse::Error::Version, _) => {
            // The version starts after the second space of the request line.
            let version_start = line.iter().enumerate().filter(|&(_, &b)| b == b' ').nth(1).map(|(i, _)| start + i + 1);
            return version_verdict(input, version_start.unwrap_or(input.len()), true);
        }
        (httparse::Error::NewLine, 2..) => RemoteError::Malformed(Syntax::Version),
        (_, 0) => RemoteError::Malformed(Syntax::Method),
        _ => RemoteError::Malformed(Syntax::RequestTarget),
    })
}

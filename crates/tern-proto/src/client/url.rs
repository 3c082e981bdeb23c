//! URLs for the client, without allocation: parsing, writing, and resolving references.
//!
//! This module owns everything the client engine knows about URLs. [`Url::parse`] splits an
//! absolute `http` or `https` URL into views borrowing the input; [`Url::write`] and
//! [`Url::write_host_header`] put one back into a caller's buffer, with the exact length known
//! first ([`Url::buffer_len`], [`Url::host_header_len`]) as everywhere in this crate;
//! [`resolve`] turns a reference (a redirect's `Location`, or the argument of `set_url`) into
//! an absolute URL per RFC 3986 section 5.2; [`split_userinfo`] and [`percent_decode`] give
//! the credentials of Basic authentication; [`Url::same_origin`] decides whether a redirect
//! keeps them (RFC 6454 origin).
//!
//! Where tern differs from ESP-IDF's `esp_http_client`:
//!
//! - a `Location` is resolved as a reference per RFC 3986 (`../x`, `x`, `?q`, `//host/x` all
//!   work; ESP-IDF bug #14562 only handled absolute URLs and absolute paths);
//! - the userinfo is percent-decoded before it becomes Basic credentials ([`percent_decode`]);
//! - the Host header omits the port only when it is the default of the URL's *own* scheme
//!   (`https://h:80/` sends `Host: h:80`).
//!
//! What is accepted: the bytes of RFC 3986 (visible ASCII except `"` `<` `>` `\` `^` `` ` ``
//! `{` `|` `}`); a host that is a reg-name or IPv4 address as written, or an IPv6 literal in
//! brackets (zone identifiers and IPvFuture are refused); a port of decimal digits up to
//! 65535. Percent-encoding is kept as written in every component and is not checked except by
//! [`percent_decode`]. The fragment is parsed and dropped: it never goes on the wire.

use crate::write::Decimal;

/// Longest input accepted, in bytes: a URL longer than this is [`UrlError::TooLong`].
const MAX_LEN: usize = u16::MAX as usize;

/// Why a URL could not be parsed, resolved, decoded or written.
///
/// Every variant except [`UrlError::BufferTooSmall`] blames whoever supplied the URL: the
/// local caller for a configured URL or for `set_url`, the server for a redirect's `Location`.
/// The engine reports a [`resolve`] error on a `Location` header as the server's fault.
/// [`UrlError::BufferTooSmall`] is always the local caller's: the buffer it gave is too short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// A scheme other than `http` or `https` (any case).
    #[error("the supplied URL's scheme is not http or https")]
    UnsupportedScheme,
    /// No authority (`http:/x`, `http:x`), or an empty host (`http:///x`, `http://:80/`).
    #[error("the supplied URL has no host")]
    MissingHost,
    /// A port that is not decimal digits, or is above 65535.
    #[error("the supplied URL's port is not a decimal number up to 65535")]
    InvalidPort,
    /// A byte a URL may not hold: a control, space, non-ASCII, one of `` "<>\^`{|} ``, or `@`, `[`
    /// or `]` in the userinfo.
    #[error("the supplied URL holds a byte not allowed in a URL at offset {at}")]
    InvalidCharacter {
        /// Offset of the byte in the input given to the failing function.
        at: usize,
    },
    /// A malformed IPv6 literal, or a bracket outside one.
    #[error("the supplied URL has a malformed IPv6 literal or a stray bracket in its host")]
    InvalidIpv6,
    /// A `%` not followed by two hex digits.
    #[error("the supplied text has '%' not followed by two hex digits at offset {at}")]
    BadPercentEncoding {
        /// Offset of the `%` in the input.
        at: usize,
    },
    /// An input, or the result of a resolution, longer than 65535 bytes.
    #[error("the supplied URL is longer than 65535 bytes")]
    TooLong,
    /// A relative reference (no scheme) where an absolute URL is needed: use [`resolve`].
    #[error("the supplied URL is relative where an absolute http or https URL is needed")]
    RelativeWithoutBase,
    /// The caller's output buffer cannot hold the result.
    #[error("output needs {needed} bytes but the caller's buffer has {available}")]
    BufferTooSmall {
        /// Bytes the result needs.
        needed: usize,
        /// Bytes the buffer had.
        available: usize,
    },
}

/// The scheme of a URL the client can fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`: plain TCP, port 80 by default.
    Http,
    /// `https`: TLS, port 443 by default.
    Https,
}

impl Scheme {
    /// The port used when the URL names none: 80 or 443.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// The scheme's name in lower case, as [`Url::write`] writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// True for `https`, which runs over TLS.
    pub const fn is_secure(self) -> bool {
        matches!(self, Scheme::Https)
    }

    /// The scheme named `name`, in any case.
    fn from_name(name: &str) -> Option<Scheme> {
        [Scheme::Http, Scheme::Https].into_iter().find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

/// An absolute `http` or `https` URL, as views into the text it was parsed from.
///
/// The fields are public so that an engine can build a URL from parts (ESP-IDF's `host`,
/// `path` and `query` settings); [`Url::parse`] is the only constructor that checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// The userinfo, still percent-encoded, without the `@`; see [`split_userinfo`].
    pub userinfo: Option<&'a str>,
    /// A reg-name or IPv4 address, or an IPv6 literal without its brackets; case as written.
    pub host: &'a str,
    /// The explicit port, if any (`http://h:/` has none).
    pub port: Option<u16>,
    /// The path: empty when absent, otherwise starting with `/`.
    pub path: &'a str,
    /// The query without its `?`: `Some("")` for `http://h/?`.
    pub query: Option<&'a str>,
}

impl<'a> Url<'a> {
    /// Parses an absolute `http` or `https` URL; the scheme's case does not matter and a
    /// fragment is dropped.
    ///
    /// # Errors
    ///
    /// - [`UrlError::TooLong`] for input longer than 65535 bytes;
    /// - [`UrlError::InvalidCharacter`] for a byte a URL may not hold (controls, space,
    ///   non-ASCII, `` "<>\^`{|} ``), or `@`, `[`, `]` in the userinfo;
    /// - [`UrlError::RelativeWithoutBase`] when there is no scheme (`/x`, `example.com/x`);
    /// - [`UrlError::UnsupportedScheme`] for a scheme other than http and https;
    /// - [`UrlError::MissingHost`] without `//` or with an empty host;
    /// - [`UrlError::InvalidIpv6`] for a bad IPv6 literal or a stray bracket in the host;
    /// - [`UrlError::InvalidPort`] for a port that is not digits or is above 65535.
    ///
    /// ```
    /// use tern_proto::client::url::{Scheme, Url};
    ///
    /// let url = Url::parse("HTTPS://user:p%40ss@Example.com:8443/a/b?x=1#top")?;
    /// assert_eq!(url.scheme, Scheme::Https);
    /// assert_eq!(url.userinfo, Some("user:p%40ss"));
    /// assert_eq!(url.host, "Example.com");
    /// assert_eq!(url.port, Some(8443));
    /// assert_eq!(url.target(), ("/a/b", Some("x=1")));
    ///
    /// let v6 = Url::parse("http://[::1]:8080")?;
    /// assert_eq!((v6.host, v6.port, v6.target()), ("::1", Some(8080), ("/", None)));
    /// # Ok::<(), tern_proto::client::url::UrlError>(())
    /// ```
    pub fn parse(input: &'a str) -> Result<Url<'a>, UrlError> {
        if input.len() > MAX_LEN {
            return Err(UrlError::TooLong);
        }
        check_bytes(input, 0)?;
        let parts = Reference::split(input, 0);
        let name = parts.scheme.ok_or(UrlError::RelativeWithoutBase)?;
        let scheme = Scheme::from_name(name).ok_or(UrlError::UnsupportedScheme)?;
        let authority = parts.authority.ok_or(UrlError::MissingHost)?;
        let Authority { userinfo, host, port } = Authority::parse(authority, parts.authority_at)?;
        Ok(Url { scheme, userinfo, host, port, path: parts.path, query: parts.query })
    }

    /// The explicit port, or the scheme's default.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// True when both URLs have the same origin (RFC 6454): same scheme, same host (ASCII
    /// case-insensitive) and same effective port. Credentials may follow a redirect only
    /// within one origin.
    pub fn same_origin(&self, other: &Url<'_>) -> bool {
        self.scheme == other.scheme
            && self.host.eq_ignore_ascii_case(other.host)
            && self.port_or_default() == other.port_or_default()
    }

    /// The request-target in origin-form (RFC 9112 section 3.2.1), in two pieces so that a
    /// caller can write it without a buffer: the path (`/` when empty), then the query to be
    /// written after a `?`, if any.
    pub fn target(&self) -> (&'a str, Option<&'a str>) {
        (if self.path.is_empty() { "/" } else { self.path }, self.query)
    }

    /// Exact byte length of [`Url::write_host_header`]'s output.
    pub fn host_header_len(&self) -> usize {
        pieces_len(&self.host_header_pieces(&PortSuffix::new(self.host_header_port())))
    }

    /// Writes the value of the Host header to the start of `out` and returns its length: the
    /// host (in brackets when IPv6), then `:port` unless the port is absent or the default of
    /// this URL's scheme. (ESP-IDF omits 80 and 443 whatever the scheme.)
    ///
    /// # Errors
    ///
    /// [`UrlError::BufferTooSmall`] if `out` is shorter than [`Url::host_header_len`];
    /// nothing is written then.
    pub fn write_host_header(&self, out: &mut [u8]) -> Result<usize, UrlError> {
        emit(&self.host_header_pieces(&PortSuffix::new(self.host_header_port())), out)
    }

    /// Exact byte length of [`Url::write`]'s output.
    pub fn buffer_len(&self) -> usize {
        pieces_len(&self.pieces(&PortSuffix::new(self.port)))
    }

    /// Writes the URL in normalized absolute form to the start of `out` and returns its length:
    /// `scheme://[userinfo@]host[:port]path[?query]`, with the scheme in lower case, an IPv6
    /// host in brackets, an explicit port kept even when it is the default (as a decimal
    /// number: `:0080` becomes `:80`), and an empty path kept empty.
    ///
    /// # Errors
    ///
    /// [`UrlError::BufferTooSmall`] if `out` is shorter than [`Url::buffer_len`]; nothing is
    /// written then.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, UrlError> {
        emit(&self.pieces(&PortSuffix::new(self.port)), out)
    }

    /// The port the Host header shows: an explicit port other than the scheme's default.
    fn host_header_port(&self) -> Option<u16> {
        self.port.filter(|&p| p != self.scheme.default_port())
    }

    /// The host as an authority holds it: `[`, host, `]` for an IPv6 literal.
    fn host_pieces(&self) -> [&'a [u8]; 3] {
        let host = self.host.as_bytes();
        if self.host.contains(':') { [b"[", host, b"]"] } else { [b"", host, b""] }
    }

    /// The pieces of the Host header value.
    fn host_header_pieces<'s>(&'s self, port: &'s PortSuffix) -> [&'s [u8]; 5] {
        let [open, host, close] = self.host_pieces();
        let [colon, digits] = port.pieces();
        [open, host, close, colon, digits]
    }

    /// The pieces of the normalized absolute form.
    fn pieces<'s>(&'s self, port: &'s PortSuffix) -> [&'s [u8]; 12] {
        let [open, host, close] = self.host_pieces();
        let [colon, digits] = port.pieces();
        let [at_sign, userinfo] = marked(b"@", self.userinfo);
        let [question_mark, query] = marked(b"?", self.query);
        let scheme = self.scheme.as_str().as_bytes();
        [
            scheme,
            b"://",
            userinfo,
            at_sign,
            open,
            host,
            close,
            colon,
            digits,
            self.path.as_bytes(),
            question_mark,
            query,
        ]
    }
}

/// Resolves `reference` against `base` (RFC 3986 section 5.2, with remove_dot_segments of
/// section 5.2.4), writes the absolute result to the start of `out` in [`Url::write`]'s form,
/// and returns its length. The result always parses with [`Url::parse`].
///
/// `reference` may be an absolute `http` or `https` URL (any case), a network-path
/// (`//host/x`), an absolute path (`/x`), a relative path (`x/y`, `../x`), a query (`?q`),
/// empty (the base itself) or a fragment alone (`#f`). ASCII whitespace around it is ignored,
/// as servers send `Location:  /x `. The fragment is dropped. A reference with an authority
/// brings its own userinfo (or none); otherwise the base's userinfo is kept. A reference
/// `http:g` whose scheme is the base's is read as the relative `g` (the "backward
/// compatibility" reading of RFC 3986 section 5.2.2, as browsers do).
///
/// The base is taken as it is, dot segments removed from its path when the result keeps it; a
/// base not from [`Url::parse`] may give an error from the final check.
///
/// # Errors
///
/// - [`UrlError::TooLong`] when the reference or the result is longer than 65535 bytes;
/// - [`UrlError::InvalidCharacter`] at the offset in `reference` of a byte a URL may not hold;
/// - [`UrlError::UnsupportedScheme`] for an absolute reference of another scheme (`g:h`);
/// - [`UrlError::MissingHost`], [`UrlError::InvalidIpv6`], [`UrlError::InvalidPort`] for a bad
///   authority in the reference (or `https:g` against an `http` base);
/// - [`UrlError::BufferTooSmall`] if `out` is shorter than the result; nothing is written then.
///
/// On any other error, `out` may hold partial output. On a redirect's `Location`, the engine
/// reports every error but `BufferTooSmall` as the server's fault.
///
/// ```
/// use tern_proto::client::url::{resolve, Url};
///
/// let base = Url::parse("http://a/b/c/d;p?q")?;
/// let mut out = [0u8; 64];
/// let n = resolve(&base, "../g?y#s", &mut out)?;
/// assert_eq!(&out[..n], b"http://a/b/g?y");
/// let n = resolve(&base, " //Other:8080/./x ", &mut out)?;
/// assert_eq!(&out[..n], b"http://Other:8080/x");
/// # Ok::<(), tern_proto::client::url::UrlError>(())
/// ```
pub fn resolve(base: &Url<'_>, reference: &str, out: &mut [u8]) -> Result<usize, UrlError> {
    let trimmed = reference.trim_ascii();
    let lead = reference.len() - reference.trim_ascii_start().len();
    if trimmed.len() > MAX_LEN {
        return Err(UrlError::TooLong);
    }
    check_bytes(trimmed, lead)?;
    let target = Target::new(base, &Reference::split(trimmed, lead))?;
    let len = target.write(out)?;
    check_written(out.get(..len).unwrap_or_default())?;
    Ok(len)
}

/// Percent-decodes `input` (RFC 3986 section 2.1, hex digits in either case) to the start of
/// `out` and returns the length written. `+` is not special: it stays `+`.
///
/// # Errors
///
/// - [`UrlError::BadPercentEncoding`] at the offset of a `%` not followed by two hex digits;
/// - [`UrlError::BufferTooSmall`] if `out` is shorter than the decoded bytes.
///
/// Nothing is written on error.
///
/// ```
/// use tern_proto::client::url::percent_decode;
///
/// let mut out = [0u8; 16];
/// let n = percent_decode("p%40ss+w%C3%a9", &mut out)?;
/// assert_eq!(&out[..n], "p@ss+wé".as_bytes());
/// # Ok::<(), tern_proto::client::url::UrlError>(())
/// ```
pub fn percent_decode(input: &str, out: &mut [u8]) -> Result<usize, UrlError> {
    let needed = PercentDecoder::new(input).try_fold(0, |len, byte| byte.map(|_| len + 1))?;
    let available = out.len();
    let dst = out.get_mut(..needed).ok_or(UrlError::BufferTooSmall { needed, available })?;
    for (d, byte) in dst.iter_mut().zip(PercentDecoder::new(input)) {
        *d = byte?;
    }
    Ok(needed)
}

/// Splits a raw userinfo at its first `:` into the user and the password, both still
/// percent-encoded ([`percent_decode`] them for Basic authentication).
///
/// ```
/// use tern_proto::client::url::split_userinfo;
///
/// assert_eq!(split_userinfo("me:p%3Ass:x"), ("me", Some("p%3Ass:x")));
/// assert_eq!(split_userinfo("me"), ("me", None));
/// ```
pub fn split_userinfo(userinfo: &str) -> (&str, Option<&str>) {
    match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    }
}

/// A byte allowed anywhere in a URL: visible ASCII except those RFC 3986 never allows.
const fn is_url_byte(b: u8) -> bool {
    matches!(b, b'!'..=b'~') && !matches!(b, b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}')
}

/// Fails at the first byte of `s` a URL may not hold; `s` starts at byte `at` of the input.
fn check_bytes(s: &str, at: usize) -> Result<(), UrlError> {
    match s.bytes().position(|b| !is_url_byte(b)) {
        Some(i) => Err(UrlError::InvalidCharacter { at: at + i }),
        None => Ok(()),
    }
}

/// `scheme` of RFC 3986 section 3.1: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The components of a URI reference (RFC 3986 appendix B), unchecked; the fragment is
/// dropped.
struct Reference<'a> {
    /// The scheme, without `:`.
    scheme: Option<&'a str>,
    /// The authority, without `//`.
    authority: Option<&'a str>,
    /// Offset of the authority in the caller's input, for error offsets.
    authority_at: usize,
    /// The path, possibly empty.
    path: &'a str,
    /// The query, without `?`.
    query: Option<&'a str>,
}

impl<'a> Reference<'a> {
    /// Splits `s`, which starts at byte `at` of the caller's input.
    fn split(s: &'a str, at: usize) -> Reference<'a> {
        let (scheme, rest) = split_scheme(s);
        let authority_at = at + scheme.map_or(0, |name| name.len() + 1) + "//".len();
        let (authority, rest) = split_authority(rest);
        let rest = rest.split_once('#').map_or(rest, |(before, _fragment)| before);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        Reference { scheme, authority, authority_at, path, query }
    }

    /// The reference's scheme, or `None` when it is relative, which includes `http:g` against
    /// an `http` base (RFC 3986 section 5.2.2, backward-compatible reading).
    fn scheme_for(&self, base: &Url<'_>) -> Result<Option<Scheme>, UrlError> {
        let Some(name) = self.scheme else { return Ok(None) };
        let scheme = Scheme::from_name(name).ok_or(UrlError::UnsupportedScheme)?;
        Ok(Some(scheme).filter(|&s| s != base.scheme || self.authority.is_some()))
    }
}

/// Splits off a scheme: the text before the first `:` when it is a valid scheme. Otherwise
/// the reference is relative (a `:` in a later segment, or an invalid scheme such as `1a:`).
fn split_scheme(s: &str) -> (Option<&str>, &str) {
    match s.split_once(':') {
        Some((scheme, rest)) if is_scheme(scheme) => (Some(scheme), rest),
        _ => (None, s),
    }
}

/// Splits off `//authority`, which runs to the first `/`, `?` or `#`.
fn split_authority(s: &str) -> (Option<&str>, &str) {
    let Some(after) = s.strip_prefix("//") else { return (None, s) };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    match after.split_at_checked(end) {
        Some((authority, rest)) => (Some(authority), rest),
        None => (Some(after), ""),
    }
}

/// The checked parts of an authority.
struct Authority<'a> {
    /// The userinfo, without `@`.
    userinfo: Option<&'a str>,
    /// The host, without brackets; never empty.
    host: &'a str,
    /// The port, if given and not empty.
    port: Option<u16>,
}

impl<'a> Authority<'a> {
    /// Parses `[userinfo@]host[:port]`; `authority` starts at byte `at` of the input.
    fn parse(authority: &'a str, at: usize) -> Result<Authority<'a>, UrlError> {
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        if let Some(i) = userinfo.and_then(|u| u.find(['@', '[', ']'])) {
            return Err(UrlError::InvalidCharacter { at: at + i });
        }
        let (host, port) = split_host_port(host_port)?;
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        Ok(Authority { userinfo, host, port: parse_port(port)? })
    }
}

/// Splits `host[:port]` where the host may be a bracketed IPv6 literal (returned without
/// its brackets).
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), UrlError> {
    if let Some(literal) = s.strip_prefix('[') {
        let (address, after) = literal.split_once(']').ok_or(UrlError::InvalidIpv6)?;
        if !is_ipv6(address) {
            return Err(UrlError::InvalidIpv6);
        }
        let port = if after.is_empty() { None } else { Some(after.strip_prefix(':').ok_or(UrlError::InvalidIpv6)?) };
        return Ok((address, port));
    }
    if s.contains(['[', ']']) {
        return Err(UrlError::InvalidIpv6);
    }
    Ok(match s.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    })
}

/// Parses the text after the host's `:`: none or empty is no port.
fn parse_port(digits: Option<&str>) -> Result<Option<u16>, UrlError> {
    let Some(digits) = digits.filter(|d| !d.is_empty()) else { return Ok(None) };
    let port = digits.bytes().try_fold(0u16, |port, b| {
        let digit = if b.is_ascii_digit() { b - b'0' } else { return Err(UrlError::InvalidPort) };
        port.checked_mul(10).and_then(|p| p.checked_add(u16::from(digit))).ok_or(UrlError::InvalidPort)
    })?;
    Ok(Some(port))
}

/// `IPv6address` of RFC 3986 section 3.2.2: eight 16-bit groups, a `::` standing for one or
/// more zero groups, and an IPv4 address as the last two groups.
fn is_ipv6(s: &str) -> bool {
    match s.split_once("::") {
        Some((left, right)) => {
            let groups = ipv6_groups(left, false).zip(ipv6_groups(right, true));
            !right.contains("::") && groups.is_some_and(|(l, r)| l + r <= 7)
        }
        None => ipv6_groups(s, true) == Some(8),
    }
}

/// The number of 16-bit groups in `:`-separated hex groups (an empty string has none), or
/// `None` if one is malformed. With `ipv4_last`, the last may be an IPv4 address (two groups).
fn ipv6_groups(s: &str, ipv4_last: bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut groups = s.split(':').peekable();
    let mut count = 0;
    while let Some(group) = groups.next() {
        let last = groups.peek().is_none();
        count += if last && ipv4_last && is_ipv4(group) {
            2
        } else if (1..=4).contains(&group.len()) && group.bytes().all(|b| b.is_ascii_hexdigit()) {
            1
        } else {
            return None;
        };
    }
    Some(count)
}

/// `IPv4address` of RFC 3986 section 3.2.2: four `dec-octet`s (0 to 255, no leading zero).
fn is_ipv4(s: &str) -> bool {
    let is_octet = |o: &str| {
        let digits = !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit());
        digits && (o == "0" || !o.starts_with('0')) && o.parse::<u8>().is_ok()
    };
    s.split('.').count() == 4 && s.split('.').all(is_octet)
}

/// A path to be written without dot segments (RFC 3986 section 5.2.4): empty when `rest` is
/// `None`, otherwise `/` followed by the `/`-separated segments of `dir`, then of `rest`.
#[derive(Clone, Copy)]
struct DotPath<'p> {
    /// The segments of the base's directory, without its leading and trailing `/`.
    dir: Option<&'p str>,
    /// The remaining segments, without a leading `/`.
    rest: Option<&'p str>,
}

impl<'p> DotPath<'p> {
    /// An absolute path (empty or starting with `/`) as it is.
    fn absolute(path: &'p str) -> DotPath<'p> {
        let rest = (!path.is_empty()).then(|| path.strip_prefix('/').unwrap_or(path));
        DotPath { dir: None, rest }
    }

    /// A relative path merged with the base's path (RFC 3986 section 5.2.3): the base's path
    /// up to its last `/`, or `/` when it has none, then the relative path.
    fn merged(base_path: &'p str, relative: &'p str) -> DotPath<'p> {
        let dir = base_path.rfind('/').and_then(|last| base_path.get(1..last));
        DotPath { dir, rest: Some(relative) }
    }

    /// Every segment, `.` and `..` included, first to last.
    fn segments(self) -> impl DoubleEndedIterator<Item = &'p str> {
        self.dir.into_iter().chain(self.rest).flat_map(|s| s.split('/'))
    }

    /// The segments that remain once `.` and `..` are applied, last first: walking backwards,
    /// each `..` cancels the nearest earlier segment not cancelled already.
    fn kept_rev(self) -> impl Iterator<Item = &'p str> {
        let mut pending = 0usize;
        self.segments().rev().filter(move |&segment| match segment {
            "." => false,
            ".." => {
                pending += 1;
                false
            }
            _ if pending > 0 => {
                pending -= 1;
                false
            }
            _ => true,
        })
    }

    /// A final `.` or `..` leaves the path ending in `/` (`/a/b/..` is `/a/`).
    fn ends_in_slash(self) -> bool {
        matches!(self.segments().next_back(), Some("." | ".."))
    }

    /// Exact byte length of the path once dot segments are removed.
    fn len(self) -> usize {
        if self.rest.is_none() {
            return 0;
        }
        self.kept_rev().map(|segment| 1 + segment.len()).sum::<usize>() + usize::from(self.ends_in_slash())
    }

    /// Writes the path without dot segments to `dst`, which is exactly [`DotPath::len`]
    /// long, from the end backwards.
    fn write(self, dst: &mut [u8]) {
        let mut end = dst.len();
        if self.ends_in_slash() {
            put_before(dst, &mut end, b"/");
        }
        for segment in self.kept_rev() {
            put_before(dst, &mut end, segment.as_bytes());
            put_before(dst, &mut end, b"/");
        }
    }
}

/// Copies `bytes` to end at `*end` in `dst` and moves `*end` back to their start.
fn put_before(dst: &mut [u8], end: &mut usize, bytes: &[u8]) {
    let Some(start) = end.checked_sub(bytes.len()) else { return };
    if let Some(d) = dst.get_mut(start..*end) {
        d.copy_from_slice(bytes);
    }
    *end = start;
}

/// The result of a resolution before it is written.
struct Target<'x> {
    /// Scheme and authority; the path is empty and there is no query.
    origin: Url<'x>,
    /// The path, dot segments still in.
    path: DotPath<'x>,
    /// The query.
    query: Option<&'x str>,
}

impl<'x> Target<'x> {
    /// The target URI of RFC 3986 section 5.2.2.
    fn new(base: &Url<'x>, r: &Reference<'x>) -> Result<Target<'x>, UrlError> {
        match (r.scheme_for(base)?, r.authority) {
            (Some(scheme), authority) => Target::with_authority(scheme, authority.ok_or(UrlError::MissingHost)?, r),
            (None, Some(authority)) => Target::with_authority(base.scheme, authority, r),
            (None, None) => Ok(Target::on_base(base, r)),
        }
    }

    /// A reference with its own authority: nothing comes from the base but the scheme.
    fn with_authority(scheme: Scheme, authority: &'x str, r: &Reference<'x>) -> Result<Target<'x>, UrlError> {
        let Authority { userinfo, host, port } = Authority::parse(authority, r.authority_at)?;
        let origin = Url { scheme, userinfo, host, port, path: "", query: None };
        Ok(Target { origin, path: DotPath::absolute(r.path), query: r.query })
    }

    /// A reference on the base's authority.
    fn on_base(base: &Url<'x>, r: &Reference<'x>) -> Target<'x> {
        let origin = Url { path: "", query: None, ..*base };
        let (path, query) = if r.path.is_empty() {
            (DotPath::absolute(base.path), r.query.or(base.query))
        } else if r.path.starts_with('/') {
            (DotPath::absolute(r.path), r.query)
        } else {
            (DotPath::merged(base.path, r.path), r.query)
        };
        Target { origin, path, query }
    }

    /// Writes the target to the start of `out` and returns its length.
    fn write(&self, out: &mut [u8]) -> Result<usize, UrlError> {
        let port = PortSuffix::new(self.origin.port);
        let origin = self.origin.pieces(&port);
        let query = marked(b"?", self.query);
        let (origin_len, path_len) = (pieces_len(&origin), self.path.len());
        let needed = origin_len + path_len + pieces_len(&query);
        if needed > MAX_LEN {
            return Err(UrlError::TooLong);
        }
        let available = out.len();
        let dst = out.get_mut(..needed).ok_or(UrlError::BufferTooSmall { needed, available })?;
        let (origin_dst, rest) = dst.split_at_mut(origin_len.min(needed));
        let (path_dst, query_dst) = rest.split_at_mut(path_len.min(rest.len()));
        emit(&origin, origin_dst)?;
        self.path.write(path_dst);
        emit(&query, query_dst)?;
        Ok(needed)
    }
}

/// Checks that what [`resolve`] wrote is a URL [`Url::parse`] accepts.
fn check_written(written: &[u8]) -> Result<(), UrlError> {
    let text = core::str::from_utf8(written).map_err(|e| UrlError::InvalidCharacter { at: e.valid_up_to() })?;
    Url::parse(text).map(|_| ())
}

/// `:port` for an optional port, with the digits held inline.
struct PortSuffix(Option<Decimal>);

impl PortSuffix {
    /// The suffix for `port`: empty when `None`.
    fn new(port: Option<u16>) -> PortSuffix {
        PortSuffix(port.map(|p| Decimal::new(u64::from(p))))
    }

    /// `:` and the digits, or two empty pieces.
    fn pieces(&self) -> [&[u8]; 2] {
        match &self.0 {
            Some(digits) => [b":", digits.as_bytes()],
            None => [b"", b""],
        }
    }
}

/// `mark` and `part`, or two empty pieces when `part` is `None`.
fn marked<'s>(mark: &'static [u8], part: Option<&'s str>) -> [&'s [u8]; 2] {
    match part {
        Some(part) => [mark, part.as_bytes()],
        None => [b"", b""],
    }
}

/// Total length of `pieces`.
fn pieces_len(pieces: &[&[u8]]) -> usize {
    pieces.iter().map(|p| p.len()).sum()
}

/// Copies `pieces` one after another to the start of `out` and returns their total length;
/// writes nothing if they do not fit.
fn emit(pieces: &[&[u8]], out: &mut [u8]) -> Result<usize, UrlError> {
    let needed = pieces_len(pieces);
    let available = out.len();
    let dst = out.get_mut(..needed).ok_or(UrlError::BufferTooSmall { needed, available })?;
    let mut at = 0;
    for piece in pieces {
        let end = at + piece.len();
        if let Some(d) = dst.get_mut(at..end) {
            d.copy_from_slice(piece);
        }
        at = end;
    }
    Ok(needed)
}

/// The bytes of percent-decoded text, or an error at a bad `%` (after which it stops).
struct PercentDecoder<'s> {
    /// The input not yet decoded.
    rest: &'s [u8],
    /// Offset of `rest` in the input.
    at: usize,
}

impl<'s> PercentDecoder<'s> {
    /// A decoder over `input`.
    fn new(input: &'s str) -> PercentDecoder<'s> {
        PercentDecoder { rest: input.as_bytes(), at: 0 }
    }
}

impl Iterator for PercentDecoder<'_> {
    type Item = Result<u8, UrlError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (byte, used) = match *self.rest {
            [] => return None,
            [b'%', high, low, ..] if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                (hex_value(high) << 4 | hex_value(low), 3)
            }
            [b'%', ..] => {
                let at = self.at;
                self.rest = &[];
                return Some(Err(UrlError::BadPercentEncoding { at }));
            }
            [byte, ..] => (byte, 1),
        };
        self.rest = self.rest.get(used..).unwrap_or_default();
        self.at += used;
        Some(Ok(byte))
    }
}

/// The value of an ASCII hex digit (0 for any other byte).
const fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

//! Reading `WWW-Authenticate` (RFC 9110 section 11.6.1) and choosing the challenge to answer.
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! Challenges and their parameters share one comma-separated list: after a comma, a token
//! followed by `=` is another parameter of the current challenge, any other token starts the
//! next challenge.

use super::{AuthError, DigestAlgorithm, ParamValue};
use crate::syntax::{is_field_value_byte, is_tchar};

/// A Digest challenge tern can answer (RFC 7616 section 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestChallenge<'a> {
    /// The protection space, hashed into HA1 and echoed.
    pub realm: ParamValue<'a>,
    /// The server nonce, hashed and echoed.
    pub nonce: ParamValue<'a>,
    /// Server data to echo unchanged, when the challenge had one.
    pub opaque: Option<ParamValue<'a>>,
    /// The hash algorithm (`MD5` when the challenge named none).
    pub algorithm: DigestAlgorithm,
    /// The server offered `qop` and its list holds `auth`: answer with `qop=auth`. False when
    /// the challenge had no `qop` at all (the RFC 2069 form); a `qop` list without `auth` makes
    /// the challenge unusable.
    pub qop_auth: bool,
    /// `stale=true`: the previous nonce expired but the credentials were right, so retrying
    /// with the new nonce is expected to work (RFC 7616 section 3.3).
    pub stale: bool,
}

/// A challenge tern can answer, from [`select_challenge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge<'a> {
    /// Basic (RFC 7617).
    Basic {
        /// The protection space, for display; `None` when absent (or not UTF-8).
        realm: Option<ParamValue<'a>>,
    },
    /// Digest (RFC 7616).
    Digest(DigestChallenge<'a>),
}

/// The best challenge among all `WWW-Authenticate` field values, passed in the order received.
///
/// Preference: Digest with the SHA-256 family, then Digest with the MD5 family, then Basic; the
/// first of equals wins. Challenges tern cannot answer are skipped: other schemes; Digest with
/// an unknown `algorithm`, a `qop` list without `auth` (`auth-int` alone), a missing `realm` or
/// `nonce`, a `-sess` algorithm without `qop`, a parameter given twice, a token68 instead of
/// parameters, or a realm, nonce or opaque that is not UTF-8. `Ok(None)` when nothing is left.
///
/// Parameter names are matched whole and ignoring case; values are tokens or quoted-strings,
/// `algorithm` and `stale` included; `userhash` is ignored (the plain username is sent). The
/// algorithm names `SHA256` and `SHA256-sess` are accepted besides the RFC's.
///
/// [`AuthError::MalformedChallenge`] when a field value breaks the grammar of RFC 9110
/// section 11.6.1, even if another challenge would have been usable: the server's fault.
///
/// ```
/// use tern_proto::client::auth::{select_challenge, Challenge, DigestAlgorithm};
/// let values: [&[u8]; 2] = [
///     br#"Basic realm="files", Digest realm="files", nonce="n1", algorithm=MD5, qop="auth""#,
///     br#"Digest realm="files", nonce="n2", algorithm="SHA-256", qop="auth,auth-int""#,
/// ];
/// let Some(Challenge::Digest(c)) = select_challenge(values)? else { panic!() };
/// assert_eq!(c.algorithm, DigestAlgorithm::Sha256);
/// assert!(c.nonce.eq_ignore_case("n2") && c.qop_auth);
/// # Ok::<(), tern_proto::client::auth::AuthError>(())
/// ```
pub fn select_challenge<'a, I: IntoIterator<Item = &'a [u8]>>(values: I) -> Result<Option<Challenge<'a>>, AuthError> {
    let mut best: Option<(u8, Challenge<'a>)> = None;
    for value in values {
        let mut parser = Parser { s: value, pos: 0 };
        while let Some(parsed) = parser.next_challenge()? {
            let Some(challenge) = parsed.usable() else { continue };
            let rank = match challenge {
                Challenge::Digest(d) if d.algorithm.is_sha256() => 3,
                Challenge::Digest(_) => 2,
                Challenge::Basic { .. } => 1,
            };
            if best.is_none_or(|(r, _)| rank > r) {
                best = Some((rank, challenge));
            }
        }
    }
    Ok(best.map(|(_, c)| c))
}

/// A parameter value as parsed: a token, or the inside of a quoted-string.
#[derive(Clone, Copy)]
struct Raw<'a> {
    bytes: &'a [u8],
    quoted: bool,
}

impl<'a> Raw<'a> {
    /// The value as a [`ParamValue`], when it is UTF-8.
    fn value(self) -> Option<ParamValue<'a>> {
        core::str::from_utf8(self.bytes).ok().map(|s| ParamValue::new(s, self.quoted))
    }
}

/// One challenge as parsed: its scheme and the parameters tern reads.
#[derive(Default)]
struct Parsed<'a> {
    scheme: &'a [u8],
    token68: bool,
    duplicate: bool,
    realm: Option<Raw<'a>>,
    nonce: Option<Raw<'a>>,
    opaque: Option<Raw<'a>>,
    algorithm: Option<Raw<'a>>,
    qop: Option<Raw<'a>>,
    stale: Option<Raw<'a>>,
}

impl<'a> Parsed<'a> {
    /// Records a parameter; names are compared whole, ignoring case.
    fn add(&mut self, name: &[u8], value: Raw<'a>) {
        let slot = match () {
            _ if name.eq_ignore_ascii_case(b"realm") => &mut self.realm,
            _ if name.eq_ignore_ascii_case(b"nonce") => &mut self.nonce,
            _ if name.eq_ignore_ascii_case(b"opaque") => &mut self.opaque,
            _ if name.eq_ignore_ascii_case(b"algorithm") => &mut self.algorithm,
            _ if name.eq_ignore_ascii_case(b"qop") => &mut self.qop,
            _ if name.eq_ignore_ascii_case(b"stale") => &mut self.stale,
            _ => return,
        };
        if slot.is_some() {
            self.duplicate = true;
        } else {
            *slot = Some(value);
        }
    }

    /// The challenge, when tern can answer it.
    fn usable(&self) -> Option<Challenge<'a>> {
        if self.scheme.eq_ignore_ascii_case(b"Basic") {
            return Some(Challenge::Basic { realm: self.realm.and_then(Raw::value) });
        }
        if !self.scheme.eq_ignore_ascii_case(b"Digest") || self.token68 || self.duplicate {
            return None;
        }
        let realm = self.realm?.value()?;
        let nonce = self.nonce?.value()?;
        let opaque = match self.opaque {
            Some(raw) => Some(raw.value()?),
            None => None,
        };
        let algorithm = match self.algorithm {
            Some(raw) => {
                let v = raw.value()?;
                DigestAlgorithm::NAMES.iter().find(|(n, _)| v.eq_ignore_case(n)).map(|&(_, a)| a)?
            }
            None => DigestAlgorithm::Md5,
        };
        let qop_auth = match self.qop {
            Some(raw) if raw.value()?.list_contains("auth") => true,
            Some(_) => return None,
            None => false,
        };
        if algorithm.is_sess() && !qop_auth {
            return None;
        }
        let stale = self.stale.and_then(Raw::value).is_some_and(|v| v.eq_ignore_case("true"));
        Some(Challenge::Digest(DigestChallenge { realm, nonce, opaque, algorithm, qop_auth, stale }))
    }
}

/// A `token68` byte, before the trailing `=` padding.
const fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// A cursor over one field value.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn malformed(&self) -> AuthError {
        AuthError::MalformedChallenge { at: self.pos }
    }

    fn slice(&self, start: usize) -> &'a [u8] {
        self.s.get(start..self.pos).unwrap_or_default()
    }

    /// Skips OWS; returns whether there was any.
    fn skip_ows(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips OWS and empty list elements.
    fn skip_empty_elements(&mut self) {
        while {
            self.skip_ows();
            self.peek() == Some(b',')
        } {
            self.pos += 1;
        }
    }

    /// Consumes bytes while `class` holds; returns them (possibly empty).
    fn take_while(&mut self, class: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&class) {
            self.pos += 1;
        }
        self.slice(start)
    }

    /// After OWS, at the end of the value or at a comma (not consumed).
    fn at_element_end(&mut self) -> bool {
        self.skip_ows();
        matches!(self.peek(), None | Some(b','))
    }

    /// The next challenge, or `None` at the end of the value.
    fn next_challenge(&mut self) -> Result<Option<Parsed<'a>>, AuthError> {
        self.skip_empty_elements();
        if self.peek().is_none() {
            return Ok(None);
        }
        let scheme = self.take_while(is_tchar);
        if scheme.is_empty() {
            return Err(self.malformed());
        }
        let mut parsed = Parsed { scheme, ..Parsed::default() };
        let spaced = self.skip_ows();
        match self.peek() {
            None => return Ok(Some(parsed)),
            // No parameters after the scheme; later `name=value` elements are still taken as
            // this challenge's, a leniency for `Digest, realm=..`.
            Some(b',') => {}
            Some(_) if !spaced => return Err(self.malformed()),
            Some(_) => {
                let start = self.pos;
                if let Some((name, value)) = self.first_param()? {
                    parsed.add(name, value);
                } else {
                    self.pos = start;
                    if self.take_while(is_token68).is_empty() {
                        return Err(self.malformed());
                    }
                    self.take_while(|b| b == b'=');
                    if !self.at_element_end() {
                        return Err(self.malformed());
                    }
                    parsed.token68 = true;
                    return Ok(Some(parsed));
                }
            }
        }
        loop {
            if !self.at_element_end() {
                return Err(self.malformed());
            }
            self.skip_empty_elements();
            if self.peek().is_none() {
                return Ok(Some(parsed));
            }
            let start = self.pos;
            let name = self.take_while(is_tchar);
            if name.is_empty() {
                return Err(self.malformed());
            }
            self.skip_ows();
            if self.peek() != Some(b'=') {
                // Not a parameter: the next challenge's scheme.
                self.pos = start;
                return Ok(Some(parsed));
            }
            self.pos += 1;
            self.skip_ows();
            let value = self.value()?;
            parsed.add(name, value);
        }
    }

    /// The first element after a scheme, when it is an auth-param rather than a token68.
    fn first_param(&mut self) -> Result<Option<(&'a [u8], Raw<'a>)>, AuthError> {
        let name = self.take_while(is_tchar);
        if name.is_empty() {
            return Ok(None);
        }
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Ok(None);
        }
        self.pos += 1;
        self.skip_ows();
        match self.peek() {
            Some(b) if b == b'"' || is_tchar(b) => Ok(Some((name, self.value()?))),
            // `abc=` or `abc==`: the padding of a token68.
            _ => Ok(None),
        }
    }

    /// A parameter value: a token or a quoted-string.
    fn value(&mut self) -> Result<Raw<'a>, AuthError> {
        if self.peek() != Some(b'"') {
            let bytes = self.take_while(is_tchar);
            return if bytes.is_empty() { Err(self.malformed()) } else { Ok(Raw { bytes, quoted: false }) };
        }
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'"') => {
                    let bytes = self.slice(start);
                    self.pos += 1;
                    return Ok(Raw { bytes, quoted: true });
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if is_field_value_byte(b) => self.pos += 1,
                        _ => return Err(self.malformed()),
                    }
                }
                Some(b) if is_field_value_byte(b) => self.pos += 1,
                // A control byte, or the end of the value before the closing quote.
                _ => return Err(self.malformed()),
            }
        }
    }
}

//! Digest credentials (RFC 7616): the hash algorithms, the response computation and the
//! `Authorization` value.

use md5::{Digest, Md5};
use sha2::Sha256;

use super::{AuthError, Counter, Cursor, Sink, check_credentials, hex_pair};
use crate::syntax::{is_field_value_byte, is_token, is_writable_target};

/// A Digest hash algorithm (RFC 7616 section 3.3 `algorithm`).
///
/// The `-sess` variants hash the nonce and cnonce into HA1, so they need `qop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// `MD5`, the default when a challenge names no algorithm.
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl DigestAlgorithm {
    /// The name written in the `algorithm` parameter: `MD5`, `MD5-sess`, `SHA-256` or
    /// `SHA-256-sess`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Md5Sess => "MD5-sess",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// The algorithm a name stands for, ignoring ASCII case. Besides the four names of
    /// [`DigestAlgorithm::as_str`], `SHA256` and `SHA256-sess` are accepted as ESP-IDF does.
    ///
    /// ```
    /// use tern_proto::client::auth::DigestAlgorithm;
    /// assert_eq!(DigestAlgorithm::from_name("sha-256-SESS"), Some(DigestAlgorithm::Sha256Sess));
    /// assert_eq!(DigestAlgorithm::from_name("SHA-512-256"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<DigestAlgorithm> {
        Self::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|&(_, a)| a)
    }

    /// Every accepted name and its algorithm.
    pub(super) const NAMES: [(&'static str, DigestAlgorithm); 6] = [
        ("MD5", DigestAlgorithm::Md5),
        ("MD5-sess", DigestAlgorithm::Md5Sess),
        ("SHA-256", DigestAlgorithm::Sha256),
        ("SHA256", DigestAlgorithm::Sha256),
        ("SHA-256-sess", DigestAlgorithm::Sha256Sess),
        ("SHA256-sess", DigestAlgorithm::Sha256Sess),
    ];

    /// Whether HA1 is the session form H(H(user:realm:password):nonce:cnonce).
    pub const fn is_sess(self) -> bool {
        matches!(self, DigestAlgorithm::Md5Sess | DigestAlgorithm::Sha256Sess)
    }

    /// Whether the hash is SHA-256 (else MD5).
    pub const fn is_sha256(self) -> bool {
        matches!(self, DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess)
    }

    /// Length of a hash in hex: 32 for MD5, 64 for SHA-256.
    pub const fn hex_len(self) -> usize {
        if self.is_sha256() { 64 } else { 32 }
    }
}

/// The inputs of one Digest `Authorization` value, all plain bytes (escapes already removed,
/// for instance with [`ParamValue::unescape_into`](super::ParamValue::unescape_into)).
///
/// Its `Debug` output hides the password.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DigestInput<'a> {
    /// The username, sent in the clear (`userhash` is not supported).
    pub username: &'a [u8],
    /// The password, only hashed.
    pub password: &'a [u8],
    /// The challenge's realm.
    pub realm: &'a [u8],
    /// The challenge's nonce.
    pub nonce: &'a [u8],
    /// The challenge's opaque, echoed when present.
    pub opaque: Option<&'a [u8]>,
    /// The challenge's algorithm.
    pub algorithm: DigestAlgorithm,
    /// Answer with `qop=auth` ([`DigestChallenge::qop_auth`](super::DigestChallenge::qop_auth));
    /// without it the response is the RFC 2069 form, which has no nc and no cnonce.
    pub qop_auth: bool,
    /// The request method.
    pub method: &'a str,
    /// The request-target as sent on the request line (path and query).
    pub uri: &'a str,
    /// The nonce-count: 1 on the first use of a nonce, one more on each reuse.
    pub nc: u32,
    /// The client nonce, used as given (see [`write_cnonce`]); needed with `qop_auth`.
    pub cnonce: &'a [u8],
}

impl core::fmt::Debug for DigestInput<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DigestInput")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("realm", &self.realm)
            .field("nonce", &self.nonce)
            .field("opaque", &self.opaque)
            .field("algorithm", &self.algorithm)
            .field("qop_auth", &self.qop_auth)
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("nc", &self.nc)
            .field("cnonce", &self.cnonce)
            .finish()
    }
}

/// The length of [`write_digest`]'s output for `input`: exact when `input` is valid.
pub fn digest_len(input: &DigestInput<'_>) -> usize {
    const PLACEHOLDER: [u8; 64] = [b'0'; 64];
    let response = PLACEHOLDER.get(..input.algorithm.hex_len()).unwrap_or(&PLACEHOLDER);
    let mut counter = Counter::default();
    emit(input, response, &mut counter);
    counter.0
}

/// Writes the Digest `Authorization` value for `input` to the start of `out`; returns its
/// length, which is [`digest_len`].
///
/// The value is `Digest username="..", realm="..", nonce="..", uri="..", algorithm=<alg>,
/// response="<hex>"`, then `, qop=auth, nc=<8 hex>, cnonce=".."` with `qop_auth`, then
/// `, opaque=".."` when the challenge had one. Quoted values get a backslash before `"` and `\`.
///
/// The response follows RFC 7616 section 3.4.1, in lower-case hex:
/// HA1 = H(username:realm:password), or for `-sess` H(H(username:realm:password):nonce:cnonce);
/// HA2 = H(method:uri); response = H(HA1:nonce:nc:cnonce:auth:HA2) with `qop_auth`,
/// H(HA1:nonce:HA2) without.
///
/// Errors, checked in this order, nothing written: [`AuthError::InvalidCredentials`] for a
/// control byte in the username or password; [`AuthError::InvalidMethod`];
/// [`AuthError::InvalidUri`]; [`AuthError::InvalidParameter`] for a realm, nonce, opaque or
/// cnonce a quoted-string cannot carry, or an empty cnonce with `qop_auth`;
/// [`AuthError::SessWithoutQop`]; [`AuthError::BufferTooSmall`].
///
/// ```
/// use tern_proto::client::auth::{write_digest, DigestAlgorithm, DigestInput};
/// // RFC 2617 section 3.5.
/// let input = DigestInput {
///     username: b"Mufasa", password: b"Circle Of Life", realm: b"testrealm@host.com",
///     nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque: Some(b"5ccc069c403ebaf9f0171e9517f40e41"),
///     algorithm: DigestAlgorithm::Md5, qop_auth: true, method: "GET", uri: "/dir/index.html",
///     nc: 1, cnonce: b"0a4f113b",
/// };
/// let mut out = [0u8; 320];
/// let n = write_digest(&input, &mut out)?;
/// let value = core::str::from_utf8(&out[..n]).unwrap();
/// assert!(value.contains(r#"response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001"#));
/// # Ok::<(), tern_proto::client::auth::AuthError>(())
/// ```
pub fn write_digest(input: &DigestInput<'_>, out: &mut [u8]) -> Result<usize, AuthError> {
    check(input)?;
    let needed = digest_len(input);
    if out.len() < needed {
        return Err(AuthError::BufferTooSmall { needed, available: out.len() });
    }
    let response = response(input);
    let mut cursor = Cursor::new(out);
    emit(input, response.as_bytes(), &mut cursor);
    cursor.finish(needed)
}

/// Hex-encodes `entropy` (big-endian, lower-case) into `out`: a cnonce for [`DigestInput`].
///
/// The engine draws the entropy from the caller's random source, as ESP-IDF prints a random
/// 64-bit number with 16 hex digits.
///
/// ```
/// let mut cnonce = [0u8; 16];
/// tern_proto::client::auth::write_cnonce(0x0123_4567_89ab_cdef, &mut cnonce);
/// assert_eq!(&cnonce, b"0123456789abcdef");
/// ```
pub fn write_cnonce(entropy: u64, out: &mut [u8; 16]) {
    for (pair, b) in out.chunks_exact_mut(2).zip(entropy.to_be_bytes()) {
        if let [hi, lo] = pair {
            [*hi, *lo] = hex_pair(b);
        }
    }
}

/// Refuses inputs that would put a broken or injected value on the wire.
fn check(input: &DigestInput<'_>) -> Result<(), AuthError> {
    check_credentials(input.username, input.password)?;
    if !is_token(input.method.as_bytes()) {
        return Err(AuthError::InvalidMethod);
    }
    if !is_writable_target(input.uri.as_bytes()) {
        return Err(AuthError::InvalidUri);
    }
    let quotable = |v: &[u8]| v.iter().all(|&b| is_field_value_byte(b));
    let cnonce_ok = !input.qop_auth || (!input.cnonce.is_empty() && quotable(input.cnonce));
    if !(quotable(input.realm) && quotable(input.nonce) && input.opaque.is_none_or(quotable) && cnonce_ok) {
        return Err(AuthError::InvalidParameter);
    }
    if input.algorithm.is_sess() && !input.qop_auth {
        return Err(AuthError::SessWithoutQop);
    }
    Ok(())
}

/// The value, with `response` as the response hash; shared by [`digest_len`] and
/// [`write_digest`].
fn emit<S: Sink>(input: &DigestInput<'_>, response: &[u8], s: &mut S) {
    s.put(b"Digest username=\"");
    s.put_escaped(input.username);
    s.put(b"\", realm=\"");
    s.put_escaped(input.realm);
    s.put(b"\", nonce=\"");
    s.put_escaped(input.nonce);
    s.put(b"\", uri=\"");
    s.put_escaped(input.uri.as_bytes());
    s.put(b"\", algorithm=");
    s.put(input.algorithm.as_str().as_bytes());
    s.put(b", response=\"");
    s.put(response);
    s.put(b"\"");
    if input.qop_auth {
        s.put(b", qop=auth, nc=");
        s.put(&nc_hex(input.nc));
        s.put(b", cnonce=\"");
        s.put_escaped(input.cnonce);
        s.put(b"\"");
    }
    if let Some(opaque) = input.opaque {
        s.put(b", opaque=\"");
        s.put_escaped(opaque);
        s.put(b"\"");
    }
}

/// The nonce-count as 8 lower-case hex digits.
fn nc_hex(nc: u32) -> [u8; 8] {
    let mut hex = [0u8; 8];
    for (pair, b) in hex.chunks_exact_mut(2).zip(nc.to_be_bytes()) {
        if let [hi, lo] = pair {
            [*hi, *lo] = hex_pair(b);
        }
    }
    hex
}

/// The response hash of RFC 7616 section 3.4.1.
fn response(input: &DigestInput<'_>) -> Hex {
    let alg = input.algorithm;
    let mut ha1 = hash(alg, &[input.username, input.realm, input.password]);
    if alg.is_sess() {
        ha1 = hash(alg, &[ha1.as_bytes(), input.nonce, input.cnonce]);
    }
    let ha2 = hash(alg, &[input.method.as_bytes(), input.uri.as_bytes()]);
    if input.qop_auth {
        let nc = nc_hex(input.nc);
        hash(alg, &[ha1.as_bytes(), input.nonce, &nc, input.cnonce, b"auth", ha2.as_bytes()])
    } else {
        hash(alg, &[ha1.as_bytes(), input.nonce, ha2.as_bytes()])
    }
}

/// A hash in lower-case hex.
struct Hex {
    buf: [u8; 64],
    len: usize,
}

impl Hex {
    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&self.buf)
    }
}

/// H(parts joined with `:`) with the algorithm's hash.
fn hash(alg: DigestAlgorithm, parts: &[&[u8]]) -> Hex {
    if alg.is_sha256() { hash_with::<Sha256>(parts) } else { hash_with::<Md5>(parts) }
}

fn hash_with<D: Digest>(parts: &[&[u8]]) -> Hex {
    let mut d = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            d.update(b":");
        }
        d.update(part);
    }
    let sum = d.finalize();
    let mut hex = Hex { buf: [0; 64], len: 0 };
    for (pair, &b) in hex.buf.chunks_exact_mut(2).zip(sum.iter()) {
        if let [hi, lo] = pair {
            [*hi, *lo] = hex_pair(b);
            hex.len += 2;
        }
    }
    hex
}

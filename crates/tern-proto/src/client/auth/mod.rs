//! HTTP authentication for the client engine: reading `WWW-Authenticate` challenges and writing
//! `Authorization` credentials, as pure functions over the caller's buffers.
//!
//! This module owns everything the engine needs to answer a 401 the way ESP-IDF's
//! `esp_http_client` does, without ESP-IDF's mistakes:
//!
//! - [`select_challenge`] parses every `WWW-Authenticate` field value with the grammar of
//!   RFC 9110 section 11.6.1 (several challenges per value, several values, quoted-string or token
//!   parameters matched by exact name) and picks the strongest challenge tern can answer:
//!   Digest with SHA-256 before Digest with MD5, then Basic;
//! - [`basic_len`] and [`write_basic`] write `Basic <base64(user:password)>` (RFC 7617);
//! - [`digest_len`] and [`write_digest`] write a Digest response (RFC 7616): MD5, MD5-sess,
//!   SHA-256 and SHA-256-sess, with `qop=auth` chosen from the offered list or the RFC 2069 form
//!   when the server offers no qop;
//! - [`write_cnonce`] turns caller-supplied entropy into a client nonce.
//!
//! Where ESP-IDF differs (reference section 5): tern echoes one qop (`auth`), never the offered
//! list; refuses a challenge that offers only `auth-int` (tern does not hash bodies) instead of
//! computing a wrong HA2; removes the quotes and escapes from every parameter, `algorithm`
//! included, so a quoted `"SHA-256"` hashes with SHA-256; hashes `SHA-256-sess` with SHA-256;
//! looks at every challenge of every field instead of the first; and matches `realm` as a
//! parameter name, never inside another name such as `xrealm`.
//!
//! Not supported: `auth-int`, SHA-512-256 and `userhash`. A challenge with `userhash=true` is
//! still answered, with the plain username (the server may refuse it; most accept both).
//!
//! The engine keeps the state between requests (nonce, nonce-count, the chosen challenge's
//! parameters copied with [`ParamValue::unescape_into`]); this module holds none.
//!
//! ```
//! use tern_proto::client::auth::{select_challenge, write_digest, Challenge, DigestInput};
//!
//! let www = br#"Digest realm="api", qop="auth,auth-int", nonce="abc", algorithm=SHA-256"#;
//! let Some(Challenge::Digest(c)) = select_challenge([&www[..]])? else { panic!() };
//! // The engine keeps copies: the response buffer holding the challenge is reused.
//! let (mut realm, mut nonce) = ([0u8; 16], [0u8; 16]);
//! let (realm_len, nonce_len) = (c.realm.unescape_into(&mut realm)?, c.nonce.unescape_into(&mut nonce)?);
//! let (realm, nonce) = (&realm[..realm_len], &nonce[..nonce_len]);
//! let input = DigestInput {
//!     username: b"user", password: b"secret", realm, nonce, opaque: None,
//!     algorithm: c.algorithm, qop_auth: c.qop_auth, method: "GET", uri: "/status?x=1",
//!     nc: 1, cnonce: b"0123456789abcdef",
//! };
//! let mut out = [0u8; 256];
//! let n = write_digest(&input, &mut out)?;
//! assert!(out[..n].starts_with(br#"Digest username="user", realm="api", nonce="abc""#));
//! # Ok::<(), tern_proto::client::auth::AuthError>(())
//! ```

mod basic;
mod challenge;
mod digest;
mod param;

pub use basic::{basic_len, write_basic};
pub use challenge::{Challenge, DigestChallenge, select_challenge};
pub use digest::{DigestAlgorithm, DigestInput, digest_len, write_cnonce, write_digest};
pub use param::ParamValue;

/// Which authentication the client uses: ESP-IDF's `esp_http_client_auth_type_t`.
///
/// With [`AuthType::Basic`] the engine sends credentials with every request; with
/// [`AuthType::Digest`] it waits for a challenge, then reuses the nonce with a growing
/// nonce-count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthType {
    /// No authentication (`HTTP_AUTH_TYPE_NONE`).
    #[default]
    None,
    /// Basic authentication, RFC 7617 (`HTTP_AUTH_TYPE_BASIC`).
    Basic,
    /// Digest access authentication, RFC 7616 (`HTTP_AUTH_TYPE_DIGEST`).
    Digest,
}

/// Why a challenge could not be read or credentials could not be written.
///
/// [`AuthError::MalformedChallenge`] is the server's fault ([`AuthError::is_remote`]); every
/// other variant is the local caller's, and nothing was written when it is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A `WWW-Authenticate` field value that does not follow RFC 9110 section 11.6.1: a scheme
    /// that is not a token, a parameter without a value, an unterminated quoted-string, a control
    /// byte, text after a token68, ...
    #[error("malformed WWW-Authenticate value at byte {at}")]
    MalformedChallenge {
        /// Offset in the broken field value of the byte where reading failed, or the value's
        /// length when it ended too early (an unterminated quoted-string).
        at: usize,
    },
    /// A Basic username with a colon, which the server would split wrongly (RFC 7617 section 2).
    #[error("username contains ':'")]
    ColonInUsername,
    /// A username or password holding a control byte (CR, LF, NUL, ...; RFC 7617 section 2).
    #[error("username or password holds a control byte")]
    InvalidCredentials,
    /// A Digest method that is not a token.
    #[error("method is not a valid token")]
    InvalidMethod,
    /// A Digest uri that is empty or holds whitespace or a control byte.
    #[error("uri is empty or holds whitespace or a control byte")]
    InvalidUri,
    /// A realm, nonce, opaque or cnonce holding a byte a quoted-string cannot carry (CR, LF, NUL
    /// or another control byte other than tab).
    #[error("digest parameter holds a control byte")]
    InvalidParameter,
    /// A Digest `-sess` algorithm without `qop_auth`: HA1 then needs a cnonce the server is
    /// never sent (RFC 2617 section 3.2.2.2), so no valid response exists.
    #[error("a -sess algorithm needs qop=auth")]
    SessWithoutQop,
    /// The output buffer cannot hold what was asked.
    #[error("output needs {needed} bytes but the buffer has {available}")]
    BufferTooSmall {
        /// Bytes the write needs.
        needed: usize,
        /// Bytes the buffer had.
        available: usize,
    },
}

impl AuthError {
    /// True when the server is at fault (a malformed challenge).
    pub const fn is_remote(&self) -> bool {
        matches!(self, AuthError::MalformedChallenge { .. })
    }
}

/// A username or password byte RFC 7617 forbids: a control byte (`CTL` of RFC 5234).
const fn is_ctl(b: u8) -> bool {
    b < b' ' || b == 0x7f
}

/// Credentials without control bytes, so that nothing can break out of the header line.
fn check_credentials(user: &[u8], password: &[u8]) -> Result<(), AuthError> {
    if user.iter().chain(password).any(|&b| is_ctl(b)) { Err(AuthError::InvalidCredentials) } else { Ok(()) }
}

/// The bytes of a write, or the room it needs.
///
/// Writers first compute their length with a [`Counter`], check the buffer, then write with a
/// [`Cursor`]: one code path for both, so the announced length is the written length.
trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Appends `bytes` as the inside of a quoted-string: `"` and `\` get a backslash.
    fn put_escaped(&mut self, bytes: &[u8]) {
        for part in bytes.split_inclusive(|&b| b == b'"' || b == b'\\') {
            match part.split_last() {
                Some((&last @ (b'"' | b'\\'), head)) => {
                    self.put(head);
                    self.put(&[b'\\', last]);
                }
                _ => self.put(part),
            }
        }
    }
}

/// A [`Sink`] that only counts.
#[derive(Default)]
struct Counter(usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 = self.0.saturating_add(bytes.len());
    }
}

/// A [`Sink`] that writes into a buffer and remembers whether it ran out of room.
struct Cursor<'o> {
    out: &'o mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'o> Cursor<'o> {
    fn new(out: &'o mut [u8]) -> Cursor<'o> {
        Cursor { out, pos: 0, overflow: false }
    }

    /// The length written, or [`AuthError::BufferTooSmall`] when some bytes did not fit.
    fn finish(self, needed: usize) -> Result<usize, AuthError> {
        if self.overflow { Err(AuthError::BufferTooSmall { needed, available: self.out.len() }) } else { Ok(self.pos) }
    }
}

impl Sink for Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        match self.out.get_mut(self.pos..end) {
            Some(dst) if !self.overflow => {
                dst.copy_from_slice(bytes);
                self.pos = end;
            }
            _ => self.overflow = true,
        }
    }
}

/// Lower-case hex digits of a byte.
const fn hex_pair(b: u8) -> [u8; 2] {
    [hex_digit(b >> 4), hex_digit(b & 0x0f)]
}

/// The lower-case hex digit of a nibble (`n` below 16).
const fn hex_digit(n: u8) -> u8 {
    if n < 10 { b'0' + n } else { b'a' + (n - 10) }
}

//! The server's half of the opening handshake (RFC 6455 section 4.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{accept_key, fields, has_token};
use crate::error::LocalError;
use crate::method::Method;
use crate::server::query::header_value;
use crate::status::StatusCode;
use crate::syntax::is_token;
use crate::version::Version;
use crate::write::{HeadWriter, field_line_len, status_line_len};
use crate::ws::error::HandshakeError;

/// Whether a request asks to become a WebSocket: an `Upgrade` header holding the token
/// `websocket` and a `Connection` header holding the token `upgrade` (comma-separated lists,
/// any ASCII case, over every line of each). Nothing else is checked: see [`validate`].
///
/// ```
/// use tern_proto::ws::handshake::is_upgrade_request;
/// assert!(is_upgrade_request(b"GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\n"));
/// assert!(!is_upgrade_request(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"));
/// ```
pub fn is_upgrade_request(head: &[u8]) -> bool {
    has_token(head, "Upgrade", b"websocket") && has_token(head, "Connection", b"upgrade")
}

/// A valid opening handshake, borrowing the request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake<'h> {
    head: &'h [u8],
    key: &'h [u8],
    accept: [u8; 28],
}

impl<'h> Handshake<'h> {
    /// The client's `Sec-WebSocket-Key`, as sent (24 base64 characters).
    pub const fn key(&self) -> &'h [u8] {
        self.key
    }

    /// The `Sec-WebSocket-Accept` value answering the key.
    pub fn accept(&self) -> &str {
        core::str::from_utf8(&self.accept).unwrap_or_default()
    }

    /// The subprotocols the client offers, in its order of preference: the elements of every
    /// `Sec-WebSocket-Protocol` line, separated by commas or whitespace.
    pub fn offered_protocols(&self) -> impl Iterator<Item = &'h [u8]> + use<'h> {
        fields(self.head, "Sec-WebSocket-Protocol")
            .flat_map(|v| v.split(|&b| matches!(b, b',' | b' ' | b'\t')))
            .filter(|p| !p.is_empty())
    }

    /// The first subprotocol the client offers that the server supports (compared exactly,
    /// case-sensitive), or `None`: then the response carries no `Sec-WebSocket-Protocol` and
    /// the handshake still succeeds (ESP-IDF does the same with its one
    /// `supported_subprotocol`).
    ///
    /// ```
    /// use tern_proto::ws::handshake::validate;
    /// use tern_proto::{Method, Version};
    /// let head = b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    ///     Sec-WebSocket-Protocol: v2.chat, Chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
    /// let hs = validate(&Method::Get, Version::Http11, head).unwrap();
    /// assert_eq!(hs.select_protocol(&["chat", "v1.chat"]), Some("chat"));
    /// assert_eq!(hs.select_protocol(&["mqtt"]), None);
    /// ```
    pub fn select_protocol<'p>(&self, supported: &[&'p str]) -> Option<&'p str> {
        self.offered_protocols().find_map(|offered| supported.iter().copied().find(|s| s.as_bytes() == offered))
    }
}

/// Checks a client's opening handshake (RFC 6455 section 4.2.1): `method` and `version` from
/// the parsed request line, `head` the raw request head.
///
/// In order: GET, HTTP/1.1, `Upgrade: websocket`, `Connection: upgrade`, `Host`,
/// `Sec-WebSocket-Version: 13`, and one `Sec-WebSocket-Key` that is the base64 of 16 bytes.
/// Extensions are not negotiated: `Sec-WebSocket-Extensions` is ignored.
///
/// # Errors
///
/// The first [`HandshakeError`] found; [`HandshakeError::status`] is 426 for a version other
/// than 13 and 400 otherwise.
///
/// ```
/// use tern_proto::ws::handshake::validate;
/// use tern_proto::ws::HandshakeError;
/// use tern_proto::{Method, StatusCode, Version};
/// let head = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
/// let e = validate(&Method::Get, Version::Http11, head).unwrap_err();
/// assert_eq!((e, e.status()), (HandshakeError::UnsupportedVersion, StatusCode::UPGRADE_REQUIRED));
/// ```
pub fn validate<'h>(method: &Method<'_>, version: Version, head: &'h [u8]) -> Result<Handshake<'h>, HandshakeError> {
    if !matches!(method, Method::Get) {
        return Err(HandshakeError::MethodNotGet);
    }
    if version != Version::Http11 {
        return Err(HandshakeError::NotHttp11);
    }
    if !has_token(head, "Upgrade", b"websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !has_token(head, "Connection", b"upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    if header_value(head, "Host").is_none() {
        return Err(HandshakeError::MissingHost);
    }
    let ws_version = header_value(head, "Sec-WebSocket-Version").ok_or(HandshakeError::MissingVersion)?;
    if ws_version.trim_ascii() != super::VERSION.as_bytes() {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let mut keys = fields(head, "Sec-WebSocket-Key");
    let key = keys.next().ok_or(HandshakeError::MissingKey)?;
    if keys.next().is_some() || !is_nonce(key) {
        return Err(HandshakeError::InvalidKey);
    }
    Ok(Handshake { head, key, accept: accept_key(key) })
}

/// Whether `key` is the base64 of exactly 16 bytes (24 characters, padded).
fn is_nonce(key: &[u8]) -> bool {
    let mut nonce = [0u8; 18];
    key.len() == 24 && STANDARD.decode_slice(key, &mut nonce) == Ok(16)
}

/// The reason phrase of the 101 response.
const REASON: &str = "Switching Protocols";

/// The exact length of [`write_accept_response`]'s output with `protocol`.
pub fn accept_response_len(protocol: Option<&str>) -> usize {
    status_line_len(REASON)
        + field_line_len("Upgrade", b"websocket")
        + field_line_len("Connection", b"Upgrade")
        + field_line_len("Sec-WebSocket-Accept", &[0; 28])
        + protocol.map_or(0, |p| field_line_len("Sec-WebSocket-Protocol", p.as_bytes()))
        + 2
}

/// Writes the `101 Switching Protocols` head accepting `handshake` to the start of `out` and
/// returns its length ([`accept_response_len`]):
///
/// ```text
/// HTTP/1.1 101 Switching Protocols\r\n
/// Upgrade: websocket\r\n
/// Connection: Upgrade\r\n
/// Sec-WebSocket-Accept: <accept>\r\n
/// Sec-WebSocket-Protocol: <protocol>\r\n      (only with a protocol)
/// \r\n
/// ```
///
/// # Errors
///
/// [`LocalError::InvalidHeaderValue`] for a protocol that is not a token, and
/// [`LocalError::BufferTooSmall`]; nothing is written on error.
pub fn write_accept_response(
    handshake: &Handshake<'_>,
    protocol: Option<&str>,
    out: &mut [u8],
) -> Result<usize, LocalError> {
    if protocol.is_some_and(|p| !is_token(p.as_bytes())) {
        return Err(LocalError::InvalidHeaderValue);
    }
    let needed = accept_response_len(protocol);
    let available = out.len();
    let out = out.get_mut(..needed).ok_or(LocalError::BufferTooSmall { needed, available })?;
    let mut w = HeadWriter::new(out);
    w.status_line(Version::Http11, StatusCode::SWITCHING_PROTOCOLS, REASON)?;
    w.field("Upgrade", b"websocket")?;
    w.field("Connection", b"Upgrade")?;
    w.field("Sec-WebSocket-Accept", &handshake.accept)?;
    if let Some(p) = protocol {
        w.field("Sec-WebSocket-Protocol", p.as_bytes())?;
    }
    w.finish()
}

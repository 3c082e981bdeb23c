//! The client's half of the opening handshake (RFC 6455 section 4.1), kept small: the
//! request, and the checks on the server's answer.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{VERSION, accept_key, fields, has_token};
use crate::error::LocalError;
use crate::method::Method;
use crate::status::StatusCode;
use crate::syntax::is_token;
use crate::version::Version;
use crate::write::{HeadWriter, field_line_len, request_line_len};
use crate::ws::error::AcceptError;

/// A client's `Sec-WebSocket-Key`: the base64 of a 16-byte nonce, which must be freshly
/// random for every connection (section 4.1). tern has no randomness of its own: the caller
/// supplies the nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey {
    b64: [u8; 24],
}

impl ClientKey {
    /// The key for `nonce`.
    pub fn from_nonce(nonce: [u8; 16]) -> ClientKey {
        let mut b64 = [0u8; 24];
        // 16 bytes always encode to exactly 24.
        let _ = STANDARD.encode_slice(nonce, &mut b64);
        ClientKey { b64 }
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.b64).unwrap_or_default()
    }

    /// The `Sec-WebSocket-Accept` value a server must answer with.
    pub fn expected_accept(&self) -> [u8; 28] {
        accept_key(&self.b64)
    }
}

/// Bytes of the `Sec-WebSocket-Protocol` value for `protocols`: joined by `", "`.
fn protocols_len(protocols: &[&str]) -> usize {
    protocols.iter().map(|p| p.len()).sum::<usize>() + 2 * protocols.len().saturating_sub(1)
}

/// The exact length of [`write_client_request`]'s output.
pub fn client_request_len(host: &str, target: &str, protocols: &[&str]) -> usize {
    let protocol_line = match protocols {
        [] => 0,
        _ => "Sec-WebSocket-Protocol".len() + 2 + protocols_len(protocols) + 2,
    };
    request_line_len(&Method::Get, target)
        + field_line_len("Host", host.as_bytes())
        + field_line_len("Upgrade", b"websocket")
        + field_line_len("Connection", b"Upgrade")
        + field_line_len("Sec-WebSocket-Key", &[0; 24])
        + field_line_len("Sec-WebSocket-Version", VERSION.as_bytes())
        + protocol_line
        + 2
}

/// Writes a client's opening handshake to the start of `out` and returns its length
/// ([`client_request_len`]): `GET target HTTP/1.1` with `Host`, `Upgrade: websocket`,
/// `Connection: Upgrade`, the key, `Sec-WebSocket-Version: 13`, and the offered
/// `protocols` in one `Sec-WebSocket-Protocol` line when there are any.
///
/// # Errors
///
/// [`LocalError::InvalidTarget`], [`LocalError::InvalidHeaderValue`] for a host that is not a
/// field value or a protocol that is not a token, and [`LocalError::BufferTooSmall`]; nothing
/// is written on error.
pub fn write_client_request(
    host: &str,
    target: &str,
    key: &ClientKey,
    protocols: &[&str],
    out: &mut [u8],
) -> Result<usize, LocalError> {
    if protocols.iter().any(|p| !is_token(p.as_bytes())) {
        return Err(LocalError::InvalidHeaderValue);
    }
    let needed = client_request_len(host, target, protocols);
    let available = out.len();
    let out = out.get_mut(..needed).ok_or(LocalError::BufferTooSmall { needed, available })?;
    let mut w = HeadWriter::new(out);
    w.request_line(&Method::Get, target, Version::Http11)?;
    w.field("Host", host.as_bytes())?;
    w.field("Upgrade", b"websocket")?;
    w.field("Connection", b"Upgrade")?;
    w.field("Sec-WebSocket-Key", &key.b64)?;
    w.field("Sec-WebSocket-Version", VERSION.as_bytes())?;
    let mut at = w.len();
    if !protocols.is_empty() {
        put(out, &mut at, b"Sec-WebSocket-Protocol: ");
        for (i, p) in protocols.iter().enumerate() {
            if i > 0 {
                put(out, &mut at, b", ");
            }
            put(out, &mut at, p.as_bytes());
        }
        put(out, &mut at, b"\r\n");
    }
    put(out, &mut at, b"\r\n");
    Ok(at)
}

/// Copies `src` into `dst` at `*at` and advances `*at`; the caller has sized `dst`.
fn put(dst: &mut [u8], at: &mut usize, src: &[u8]) {
    let end = *at + src.len();
    if let Some(d) = dst.get_mut(*at..end) {
        d.copy_from_slice(src);
    }
    *at = end;
}

/// Checks the server's answer to a handshake sent with `key` and `offered` protocols:
/// `status` from the parsed status line, `head` the raw response head. Returns the protocol
/// the server chose, if any.
///
/// # Errors
///
/// The first [`AcceptError`] found, in order: status not 101, `Upgrade: websocket` or
/// `Connection: upgrade` missing, accept key missing or wrong, an extension (none is
/// offered), a protocol that was not offered (or several).
pub fn check_response<'h>(
    status: StatusCode,
    head: &'h [u8],
    key: &ClientKey,
    offered: &[&str],
) -> Result<Option<&'h str>, AcceptError> {
    if status != StatusCode::SWITCHING_PROTOCOLS {
        return Err(AcceptError::NotSwitchingProtocols(status.as_u16()));
    }
    if !has_token(head, "Upgrade", b"websocket") {
        return Err(AcceptError::MissingUpgrade);
    }
    if !has_token(head, "Connection", b"upgrade") {
        return Err(AcceptError::MissingConnectionUpgrade);
    }
    let mut accepts = fields(head, "Sec-WebSocket-Accept");
    let expected = key.expected_accept();
    if accepts.next() != Some(&expected[..]) || accepts.next().is_some() {
        return Err(AcceptError::AcceptMismatch);
    }
    if fields(head, "Sec-WebSocket-Extensions").next().is_some() {
        return Err(AcceptError::UnofferedExtension);
    }
    let mut protocols = fields(head, "Sec-WebSocket-Protocol");
    let Some(chosen) = protocols.next() else {
        return Ok(None);
    };
    if protocols.next().is_some() {
        return Err(AcceptError::UnofferedProtocol);
    }
    if !offered.iter().any(|p| p.as_bytes() == chosen) {
        return Err(AcceptError::UnofferedProtocol);
    }
    Ok(core::str::from_utf8(chosen).ok())
}

//! The opening handshake (RFC 6455 section 4), as pure functions over the raw head bytes an
//! engine keeps (the request or status line and the header section, as received).
//!
//! - Server side: [`is_upgrade_request`] tells a WebSocket upgrade from a plain request,
//!   [`validate`] checks it and gives a [`Handshake`] or the
//!   [`HandshakeError`](crate::ws::HandshakeError) to answer with (400, or 426 with
//!   [`VERSION_FIELD`]), [`Handshake::select_protocol`] picks a subprotocol, and
//!   [`write_accept_response`] writes the `101 Switching Protocols` head.
//! - Client side: [`ClientKey`] from a random nonce, [`write_client_request`], and
//!   [`check_response`] for the server's answer.
//!
//! ```
//! use tern_proto::ws::handshake::{self, ClientKey};
//! use tern_proto::{Method, StatusCode, Version};
//!
//! // The client asks...
//! let key = ClientKey::from_nonce(*b"the sample nonce");
//! assert_eq!(key.as_str(), "dGhlIHNhbXBsZSBub25jZQ==");
//! let mut request = [0u8; 256];
//! let n = handshake::write_client_request("server.example.com", "/chat", &key, &["chat"], &mut request)?;
//!
//! // ...the server validates and accepts...
//! let hs = handshake::validate(&Method::Get, Version::Http11, &request[..n]).unwrap();
//! let protocol = hs.select_protocol(&["superchat", "chat"]);
//! assert_eq!(protocol, Some("chat"));
//! let mut response = [0u8; 256];
//! let m = handshake::write_accept_response(&hs, protocol, &mut response)?;
//! assert!(response[..m].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//!
//! // ...and the client checks the answer.
//! let chosen = handshake::check_response(StatusCode::SWITCHING_PROTOCOLS, &response[..m], &key, &["chat"]);
//! assert_eq!(chosen, Ok(Some("chat")));
//! # Ok::<(), tern_proto::LocalError>(())
//! ```

mod client;
mod server;

pub use client::{ClientKey, check_response, client_request_len, write_client_request};
pub use server::{Handshake, accept_response_len, is_upgrade_request, validate, write_accept_response};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::field::{Field, raw_fields};
use crate::syntax::{eq_ignore_case, list_elements};

/// The GUID a server appends to the client's key before hashing (section 1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version tern speaks (section 4.1).
pub const VERSION: &str = "13";

/// `Sec-WebSocket-Version: 13`: what a 426 refusal must carry (section 4.2.2).
pub const VERSION_FIELD: Field<'static> = Field::new("Sec-WebSocket-Version", VERSION);

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`:
/// base64(SHA-1(key + [`GUID`])), always 28 ASCII bytes.
///
/// ```
/// use tern_proto::ws::handshake::accept_key;
/// assert_eq!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(client_key: &[u8]) -> [u8; 28] {
    let mut sha1 = Sha1::new();
    sha1.update(client_key);
    sha1.update(GUID.as_bytes());
    let digest = sha1.finalize();
    let mut out = [0u8; 28];
    // 20 bytes always encode to exactly 28.
    let _ = STANDARD.encode_slice(digest.as_slice(), &mut out);
    out
}

/// Whether any field named `name` in `head` holds `token` in its comma-separated list,
/// ignoring ASCII case.
pub(crate) fn has_token(head: &[u8], name: &str, token: &[u8]) -> bool {
    fields(head, name).any(|v| list_elements(v).any(|e| eq_ignore_case(e, token)))
}

/// The raw values of every field named `name` in `head`, with surrounding whitespace trimmed.
pub(crate) fn fields<'h>(head: &'h [u8], name: &str) -> impl Iterator<Item = &'h [u8]> {
    raw_fields(head).filter(move |(n, _)| eq_ignore_case(n, name.as_bytes())).map(|(_, v)| v.trim_ascii())
}

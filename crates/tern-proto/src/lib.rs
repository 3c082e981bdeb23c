//! # tern-proto: the sans-IO HTTP/1.1 engine of tern
//!
//! tern-proto turns bytes into HTTP messages and messages into bytes without touching a
//! socket, a clock or a thread. It is `#![no_std]` and needs no allocator: every buffer is the
//! caller's, every parsed view borrows the caller's input, and every limit on what a peer may
//! send is a field of [`Limits`].
//!
//! It owns every protocol decision tern makes; the adapters (tern-std, tern-tokio,
//! tern-embassy) only move bytes, read clocks and spawn tasks. Two engines are built on a
//! message layer:
//!
//! - [`client`]: `esp_http_client` as a sans-IO engine ([`client::Client`]): its config,
//!   states and events, keep-alive reuse, redirects, Basic and Digest auth, streamed and
//!   chunked bodies, timeouts as deadlines;
//! - [`server`]: `esp_http_server` as sans-IO pieces: the per-connection engine
//!   ([`server::Connection`]), URI matching and routing, the session table, the control
//!   path, WebSocket sessions;
//!
//! and the message layer under them:
//!
//! - [`RequestHead`] and [`ResponseHead`]: heads parsed with httparse into borrowed views,
//!   with the request-target, header-section and header-count limits enforced even on partial
//!   input;
//! - [`RequestRepr`], [`ResponseRepr`] and [`HeadWriter`]: heads written into a caller's buffer,
//!   with the exact length known before writing and every caller-supplied byte validated;
//! - [`body`]: the body length of a message per RFC 9112 section 6, with the hostile cases
//!   (duplicate Content-Length, Transfer-Encoding with Content-Length, ...) refused;
//! - [`chunked`]: an incremental decoder and a zero-copy encoder for the chunked coding;
//! - [`ws`]: WebSocket (RFC 6455) frames, receive rules, close payloads and the opening
//!   handshake;
//! - [`Error`], [`RemoteError`] and [`LocalError`]: who broke the rules, and which limit;
//! - with the `alloc` feature, `owned`: owned copies of parsed heads, a convenience only.
//!
//! Parsing a request head and deciding how long its body is (the examples on
//! [`client::Client`] and [`server::Connection`] drive a whole exchange by hand):
//!
//! ```
//! use tern_proto::{body::{request_body, BodyKind}, EMPTY_SLOT, Limits, Method, RequestHead};
//!
//! let input = b"POST /upload HTTP/1.1\r\nHost: esp32\r\nContent-Length: 5\r\n\r\nhello";
//! let limits = Limits::default();
//! let mut slots = [EMPTY_SLOT; 16];
//! let (head, head_len) = RequestHead::parse(input, &mut slots, &limits)?.complete().unwrap();
//! assert_eq!(head.method, Method::Post);
//! assert_eq!(request_body(&head, &limits)?, BodyKind::Length(5));
//! assert_eq!(&input[head_len..], b"hello");
//! # Ok::<(), tern_proto::RemoteError>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod body;
pub mod chunked;
pub mod client;
mod error;
mod field;
mod head;
mod limits;
mod method;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod owned;
pub mod server;
mod status;
mod syntax;
mod time;
mod version;
mod write;
pub mod ws;

pub use error::{ChunkError, Error, FramingError, Limit, LocalError, RemoteError, Syntax};
pub use field::{EMPTY_SLOT, Field, HeaderSlot, Headers};
pub use head::{Parse, RequestHead, RequestRepr, ResponseHead, ResponseRepr};
pub use limits::Limits;
pub use method::{ExtensionMethod, Method};
pub use status::StatusCode;
pub use time::Instant;
pub use version::Version;
pub use write::{HeadWriter, field_line_len, request_line_len, status_line_len};

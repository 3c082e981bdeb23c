//! # tern-embassy: tern on embassy-net
//!
//! ESP-IDF's `esp_http_client` and `esp_http_server` for embassy: the sans-IO engines of
//! [`tern_proto`] driven over embassy-net's `TcpSocket`, or over any
//! [`embedded_io_async`] stream, with timeouts from embassy-time. `no_std`, no allocator.

#![no_std]
#![forbid(unsafe_code)]

pub mod client;
mod clock;
#[cfg(feature = "embassy-net")]
pub mod net;
pub mod server;
#[cfg(feature = "tls")]
mod tls;
pub mod transport;

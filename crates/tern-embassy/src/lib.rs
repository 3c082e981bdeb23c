//! # tern-embassy: tern on embassy-net
//!
//! ESP-IDF's `esp_http_client` and `esp_http_server` for embassy: the sans-IO engines of
//! [`tern_proto`] driven over embassy-net's `TcpSocket`, or over any
//! [`embedded_io_async`] stream, with timeouts from embassy-time. `no_std`, no allocator.
//!
//! This crate owns the embassy side only: opening and closing TCP connections (with DNS
//! through the stack), awaiting reads and writes under the engine's deadlines, and sharing
//! a server's route and session tables between the application's serving tasks. Every
//! protocol decision is the engine's. Memory is the caller's: an engine buffer per client
//! or serving task, and the sockets' buffers.
//!
//! - [`client`]: [`Client`](client::Client) over a [`Transport`](transport::Transport):
//!   [`net::TcpTransport`] (embassy-net) or [`transport::Connected`] (any stream); with
//!   feature `tls`, https through tern-tls (`Client::with_tls`).
//! - [`server`]: [`Server`](server::Server), served by tasks of the application's calling
//!   [`Server::serve`](server::Server::serve) (embassy-net) or
//!   [`Server::serve_connection`](server::Server::serve_connection) (any stream).
//!
//! ```no_run
//! # async fn demo(stack: embassy_net::Stack<'_>) -> Result<(), tern_embassy::client::Error> {
//! use tern_embassy::client::Client;
//! use tern_embassy::net::TcpTransport;
//! use tern_proto::client::ClientConfig;
//!
//! let config = ClientConfig { url: Some("http://192.168.4.1/status"), ..ClientConfig::default() };
//! let mut engine_buffer = [0u8; 3584]; // config.buffer_len()
//! let (mut rx, mut tx) = ([0u8; 1536], [0u8; 1536]); // the socket's TCP windows
//! let mut client = Client::new(&config, &mut engine_buffer, TcpTransport::new(stack, &mut rx, &mut tx))?;
//! client.perform().await?;
//! # Ok(()) }
//! ```
//!
//! [`Client`](client::Client) and
//! [`Server::serve_connection`](server::Server::serve_connection) show a client and a server
//! run to completion over in-memory streams.

#![deny(missing_docs)]
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

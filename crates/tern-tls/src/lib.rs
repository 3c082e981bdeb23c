//! # tern-tls: TLS for tern, sans-IO, on rustls 0.23's unbuffered API
//!
//! The same shape as tern's HTTP engine: ciphertext in, plaintext out and back, no sockets,
//! no clocks read, every buffer the caller's. A [`TlsSession`] is one connection (client or
//! server); the adapter moves ciphertext between it and the transport, and plaintext between
//! it and the HTTP engine. See [`session`] for the driving loop and the memory a session
//! takes.
//!
//! - [`ClientTls`] turns `esp_http_client_config_t`'s TLS options ([`TlsConfig`]) into a
//!   rustls configuration: CA certificates or the built-in bundle, mutual TLS with a key in
//!   memory or behind a [`SigningKey`](rustls::sign::SigningKey) (a secure element),
//!   `skip_cert_common_name_check`, `common_name`, TLS version, ALPN, SNI.
//! - [`ServerTls`] does the same for esp_https_server ([`ServerTlsOptions`]): a chain and
//!   key, optional client-certificate verification.
//! - Refusals say why ([`TlsError`], [`CertificateRefusal`]) and whose fault they were.
//! - With `std`, [`TlsStream`] wraps any `Read + Write` transport.
//!
//! The crypto provider is injected (ring by default; aws-lc-rs with feature `aws-lc-rs`;
//! any other through the builders), and so is the clock on `no_std` ([`TimeFn`]). The crate
//! builds for `riscv32imac-unknown-none-elf`; see the README's TLS section for the firmware's
//! randomness hook.
//!
//! ```
//! use tern_proto::client::TlsConfig;
//! use tern_tls::{ClientTls, Handshake};
//! let tls = ClientTls::new(&TlsConfig::default())?;
//! let mut session = tls.session("example.com", vec![0u8; tls.layout().buffer_len()])?;
//! // The ClientHello is ready to be written.
//! assert_eq!(session.handshake()?, Handshake::Transmit);
//! assert!(!session.output().is_empty());
//! # Ok::<(), tern_tls::TlsError>(())
//! ```

#![deny(missing_docs)]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod client;
mod error;
mod pem;
mod provider;
mod server;
pub mod session;
#[cfg(feature = "std")]
mod stream;
mod time;
mod verify;

pub use client::{ClientTls, ClientTlsBuilder, DEFAULT_SESSION_CACHE};
pub use error::{CertificateRefusal, ConfigError, Origin, TlsError};
pub use provider::default_provider;
pub use server::{ServerTls, ServerTlsBuilder, ServerTlsOptions};
pub use session::{Handshake, Read, TlsBufferLayout, TlsSession};
#[cfg(feature = "std")]
pub use stream::{TlsStream, tls_error};
pub use tern_proto::client::{TlsConfig, TlsVersion};
pub use time::TimeFn;

pub use rustls;
pub use rustls_pki_types as pki_types;

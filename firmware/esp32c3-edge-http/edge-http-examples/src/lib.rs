//! ESP-IDF's example applications on edge-http, `no_std` and without an allocator: the twin
//! of tern's `tern-embassy-examples` for `firmware/esp32c3-edge-http`, the ESP32-C3 firmware
//! with edge-http in tern's place that `cargo xtask size` measures beside tern's
//! (docs/footprint.md). Its own crate, as tern's examples are, so that both firmware count
//! their handlers the same way and the size probe can name the handler's type.
//!
//! - [`advanced_tests`]: the `advanced_tests` server example's handlers, as an edge-http
//!   [`Handler`](edge_http::io::server::Handler).
//! - [`fetch`]: the client side: GET a URL and say what came back.

#![no_std]
#![forbid(unsafe_code)]

pub mod advanced_tests;
pub mod fetch;
mod text;

//! ESP-IDF's example applications on tern-embassy, `no_std` and without an allocator: the
//! code the ESP32 firmware in `firmware/` runs, kept here so that the host tests run it too.
//!
//! - [`advanced_tests`]: the `advanced_tests` server example's handlers.
//! - [`fetch`]: the client side: GET a URL and say what came back.

#![no_std]
#![forbid(unsafe_code)]

pub mod advanced_tests;
pub mod fetch;
pub mod migration;

//! Host test harness for tern-embassy, shared by the integration tests through `mod support;`.
//!
//! - [`net`]: two embassy-net stacks (10.0.0.1 and 10.0.0.2, medium IP, MTU 1500) joined in
//!   memory, driven with their packet shuttle and the test future on `embassy_futures::block_on`
//!   ([`run`], [`run_net`]); sockets with heap buffers ([`SocketBuffers`], [`accept`],
//!   [`connect`]) and the graceful close every test should end with ([`close_gracefully`]).
//! - [`std_stream`]: [`StdStream`], `embedded_io_async::{Read, Write}` over a non-blocking
//!   `std::net::TcpStream`, for an embassy-side client against a real (std or tokio) server.
//!
//! Everything is created per call: no statics, nothing leaked, so tests may run many times in one
//! process and in parallel threads. Each test file uses part of this module, hence the
//! `dead_code` allowance.

#![allow(dead_code, unused_imports)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

pub(crate) mod net;
pub(crate) mod std_stream;

pub(crate) use net::{
    ADDR_A, ADDR_B, CLOSE_TIMEOUT, CloseOutcome, Link, MTU, Net, SocketBuffers, WATCHDOG, accept, close_gracefully,
    connect, run, run_net,
};
pub(crate) use std_stream::{StdIoError, StdStream, block_on};

//! An in-memory pair: a client and a server session joined without sockets, moving at most
//! `step` bytes per transfer so records arrive split at arbitrary points.

#![allow(dead_code)] // each test file uses part of it

use tern_tls::{Handshake, Read, TlsError, TlsSession};

pub(crate) type Session = TlsSession<Vec<u8>>;

/// Moves up to `step` bytes of `from`'s output into `to`'s input; returns how many moved.
pub(crate) fn transfer(from: &mut Session, to: &mut Session, step: usize) -> usize {
    let out = from.output();
    if out.is_empty() {
        return 0;
    }
    let space = to.input_space();
    let n = out.len().min(space.len()).min(step);
    space[..n].copy_from_slice(&out[..n]);
    from.transmitted(n);
    to.received(n);
    n
}

/// Runs both handshakes to the end, or to the first error (which side failed, and how).
pub(crate) fn handshake(
    client: &mut Session,
    server: &mut Session,
    step: usize,
) -> Result<(), (&'static str, TlsError)> {
    for _ in 0..100_000 {
        let c = client.handshake().map_err(|e| ("client", e))?;
        let s = server.handshake().map_err(|e| ("server", e))?;
        if c == Handshake::Done && s == Handshake::Done {
            return Ok(());
        }
        let moved = transfer(client, server, step) + transfer(server, client, step);
        if moved == 0 && c != Handshake::Transmit && s != Handshake::Transmit {
            // Both wait for input and nothing is in flight: a stall is a bug.
            panic!("handshake stalled: client {c:?}, server {s:?}");
        }
    }
    panic!("handshake did not finish");
}

/// Sends `data` from `from` to `to` and returns what `to` read, moving `step` bytes at a
/// time and reading into a buffer of `read_len`.
pub(crate) fn send(from: &mut Session, to: &mut Session, data: &[u8], step: usize, read_len: usize) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; read_len];
    for _ in 0..1_000_000 {
        if sent < data.len() {
            sent += from.write([&data[sent..], &[]]).expect("write");
        }
        transfer(from, to, step);
        loop {
            match to.read(&mut buf).expect("read") {
                Read::Data(n) => got.extend_from_slice(&buf[..n]),
                Read::NeedInput => break,
                Read::Closed { .. } => return got,
            }
        }
        if sent == data.len() && !from.has_output() && got.len() >= data.len() {
            return got;
        }
    }
    panic!("transfer did not finish: sent {sent}, got {}", got.len());
}

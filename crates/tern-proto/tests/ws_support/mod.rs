//! Test support for the WebSocket tests: the receiver driven to its events as an engine drives
//! it (with the progress contract checked), and an in-memory socket for tungstenite.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use tern_proto::ws::{FrameInfo, FrameReceiver, Received, Role, WsError};

/// One event, owned, with payload pieces merged.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Frame(FrameInfo),
    Data(Vec<u8>),
    End(FrameInfo),
    Closed,
    Error(WsError),
}

/// Feeds `pieces` as an engine does (unconsumed bytes kept, the next piece appended) and
/// collects the events until the input runs out, the stream closes or an error; checks the
/// progress contract and that errors are sticky.
pub fn run<P: AsRef<[u8]>>(role: Role, max: u64, pieces: impl IntoIterator<Item = P>) -> Vec<Ev> {
    let mut rx = FrameReceiver::new(role, max);
    let mut buf = Vec::new();
    let mut evs: Vec<Ev> = Vec::new();
    let mut calls = 0usize;
    let mut fed = 0usize;
    let mut pieces_n = 0usize;
    for piece in pieces {
        let piece = piece.as_ref();
        buf.extend_from_slice(piece);
        fed += piece.len();
        pieces_n += 1;
        loop {
            calls += 1;
            assert!(calls <= 2 * fed + pieces_n + 2, "no progress: {calls} calls for {fed} bytes");
            let len = buf.len();
            let (n, ev) = match rx.decode(&mut buf) {
                Err(e) => {
                    evs.push(Ev::Error(e));
                    assert_eq!(rx.decode(&mut buf), Err(e), "errors are sticky");
                    assert_eq!(rx.decode(&mut [0x81, 0x00]), Err(e), "errors are sticky");
                    assert_eq!(rx.error(), Some(e));
                    return evs;
                }
                Ok(r) => r,
            };
            assert!(n <= len);
            let stop = match ev {
                Received::Frame(info) => {
                    assert!(n > 0);
                    evs.push(Ev::Frame(info));
                    false
                }
                Received::Payload(p) => {
                    assert!(!p.is_empty() && p.len() == n);
                    match evs.last_mut() {
                        Some(Ev::Data(d)) => d.extend_from_slice(p),
                        _ => evs.push(Ev::Data(p.to_vec())),
                    }
                    false
                }
                Received::FrameEnd(info) => {
                    assert_eq!(n, 0);
                    evs.push(Ev::End(info));
                    false
                }
                Received::NeedMore => {
                    assert_eq!(n, len);
                    true
                }
                Received::Closed => {
                    assert_eq!(n, 0);
                    evs.push(Ev::Closed);
                    assert!(rx.is_closed());
                    return evs;
                }
            };
            buf.drain(..n);
            if stop {
                break;
            }
        }
    }
    evs
}

/// An in-memory socket: reads what the test put in (WouldBlock when empty), writes to a buffer.
#[derive(Default, Debug)]
pub struct Pipe {
    pub input: VecDeque<u8>,
    pub output: Vec<u8>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.input.read(buf)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

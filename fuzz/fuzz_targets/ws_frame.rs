//! The WebSocket frame receiver, driven the way the server engine drives it: bytes arrive in
//! reads, the engine keeps what the receiver has not consumed and appends the next read.
//!
//! The first input byte picks where the rest is split into two reads. The rest is decoded in
//! both roles (server: frames must be masked; client: they must not be) and with two message
//! limits, once as a single read and once as the two reads; both must give the same events:
//! the same frame headers, the same payload bytes per frame, the same frame ends, the same
//! error or close. Every call must make progress, and a payload piece must be exactly what
//! was consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::ws::{FrameInfo, FrameReceiver, Received, Role, WsError};

/// One event, owned, with payload pieces merged.
#[derive(Debug, PartialEq, Eq)]
enum Ev {
    Frame(FrameInfo),
    Data(Vec<u8>),
    End(FrameInfo),
    Closed,
    Error(WsError),
}

/// Decodes `reads` in order, as an engine with a receive buffer would.
fn decode(reads: &[&[u8]], role: Role, max: u64) -> Vec<Ev> {
    let total_len: usize = reads.iter().map(|r| r.len()).sum();
    let max_calls = total_len * 2 + reads.len() + 2;

    let mut rx = FrameReceiver::new(role, max);
    let mut buf: Vec<u8> = Vec::new();
    let mut evs = Vec::new();
    let mut calls = 0usize;
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            calls += 1;
            assert!(calls <= max_calls, "no progress: {calls} decode calls for {total_len} bytes");
            let len = buf.len();
            let (consumed, event) = match rx.decode(&mut buf) {
                Ok(r) => r,
                Err(e) => {
                    assert_eq!(rx.decode(&mut buf), Err(e), "errors must be sticky");
                    evs.push(Ev::Error(e));
                    return evs;
                }
            };
            assert!(consumed <= len, "consumed {consumed} of {len} bytes");
            let need_more = match event {
                Received::Frame(info) => {
                    assert!(consumed > 0, "a frame header consumed nothing");
                    evs.push(Ev::Frame(info));
                    false
                }
                Received::Payload(piece) => {
                    assert!(!piece.is_empty() && piece.len() == consumed, "payload piece is not what was consumed");
                    match evs.last_mut() {
                        Some(Ev::Data(d)) => d.extend_from_slice(piece),
                        _ => evs.push(Ev::Data(piece.to_vec())),
                    }
                    false
                }
                Received::FrameEnd(info) => {
                    assert_eq!(consumed, 0, "frame end consumed bytes");
                    evs.push(Ev::End(info));
                    false
                }
                Received::NeedMore => {
                    assert_eq!(consumed, len, "NeedMore left bytes unconsumed");
                    true
                }
                Received::Closed => {
                    assert_eq!(consumed, 0, "Closed consumed bytes");
                    evs.push(Ev::Closed);
                    return evs;
                }
            };
            buf.drain(..consumed);
            if need_more {
                break;
            }
        }
    }
    evs
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, stream)) = input.split_first() else {
        return;
    };
    let split = stream.len() * usize::from(selector) / 255;
    let (first, second) = stream.split_at(split);

    for role in [Role::Server, Role::Client] {
        for max in [u64::MAX, 64] {
            let whole = decode(&[stream], role, max);
            let split_up = decode(&[first, second], role, max);
            assert_eq!(whole, split_up, "events differ with reads split at {split} ({role:?}, max {max})");
        }
    }
});

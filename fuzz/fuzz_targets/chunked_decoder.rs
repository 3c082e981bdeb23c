//! The chunked decoder, driven the way a real caller drives it: bytes arrive in reads, the
//! caller keeps what the decoder has not consumed and appends the next read to it.
//!
//! The first input byte picks where the rest is split into two reads. The rest is decoded
//! once as a single read and once as the two reads; both must give the same body bytes and the
//! same outcome (end of body at the same offset, error, or still incomplete), and the same
//! trailer fields when the body ends. Every call must make progress: the number of decode
//! calls is bounded by `2 * len + 10`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::Limits;
use tern_proto::chunked::{ChunkedDecoder, Decoded};

/// How one decoding ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// `Decoded::End` after consuming this many bytes of the input in total.
    Body { consumed: usize },
    /// The decoder returned an error (which one may depend on where the reads split).
    Error,
    /// All input fed and the decoder still wants more.
    NeedMore,
}

/// Everything a decoding produced.
#[derive(Debug)]
struct Decoding {
    data: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
    end: End,
}

/// Decodes `reads` in order, as a caller with a growable receive buffer would.
fn decode(reads: &[&[u8]], limits: &Limits) -> Decoding {
    let total_len: usize = reads.iter().map(|r| r.len()).sum();
    let max_calls = total_len * 2 + 10;

    let mut decoder = ChunkedDecoder::new(limits);
    let mut pending = reads.iter();
    let mut buf: Vec<u8> = Vec::new();
    let mut consumed_total = 0usize;
    let mut data = Vec::new();
    let mut trailers = Vec::new();
    let mut calls = 0usize;

    let end = loop {
        calls += 1;
        assert!(calls <= max_calls, "no progress: {calls} decode calls for {total_len} bytes");

        let (consumed, need_more, finished) = match decoder.decode(&buf) {
            Err(_) => break End::Error,
            Ok((consumed, event)) => {
                assert!(consumed <= buf.len(), "consumed {consumed} of {} bytes", buf.len());
                match event {
                    Decoded::Data(bytes) => {
                        assert!(!bytes.is_empty() || consumed > 0, "empty Data consuming nothing");
                        assert!(bytes.len() <= consumed, "Data longer than what was consumed");
                        data.extend_from_slice(bytes);
                        (consumed, false, false)
                    }
                    Decoded::Trailer(field) => {
                        assert!(consumed > 0, "a trailer field consumed nothing");
                        trailers.push((field.name.to_owned(), field.value.to_vec()));
                        (consumed, false, false)
                    }
                    Decoded::End => (consumed, false, true),
                    Decoded::NeedMore => (consumed, true, false),
                }
            }
        };
        buf.drain(..consumed);
        consumed_total += consumed;
        if finished {
            break End::Body { consumed: consumed_total };
        }
        if need_more {
            match pending.next() {
                Some(read) => buf.extend_from_slice(read),
                None => break End::NeedMore,
            }
        }
    };
    Decoding { data, trailers, end }
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let limits = Limits::default();
    let split = body.len() * usize::from(selector) / 255;
    let (first, second) = body.split_at(split);

    let whole = decode(&[body], &limits);
    let split_up = decode(&[first, second], &limits);

    assert_eq!(whole.end, split_up.end, "outcome differs with reads split at {split}");
    assert_eq!(whole.data, split_up.data, "body bytes differ with reads split at {split}");
    if matches!(whole.end, End::Body { .. }) {
        assert_eq!(whole.trailers, split_up.trailers, "trailers differ with reads split at {split}");
    }
});

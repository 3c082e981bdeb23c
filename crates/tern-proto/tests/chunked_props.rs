//! Property tests of the chunked coding: decoding is independent of how the input is split,
//! the decoder reads back what the encoder writes, and hostile bytes never panic or stall.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod pieces;

use pieces::split_at;
use proptest::prelude::*;
use tern_proto::chunked::{
    ChunkHeader, ChunkedDecoder, Decoded, chunk_len, chunk_parts, encode_chunk, encode_last_chunk, last_chunk_len,
};
use tern_proto::{ChunkError, Field, Limits, RemoteError};

/// A decoded body: data, trailers, and whether End was seen.
#[derive(Debug, Default, Clone, PartialEq)]
struct Body {
    data: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
    done: bool,
}

/// Feeds `pieces` as a real caller does: unconsumed bytes are kept and the next piece is
/// appended to them; after each piece, decodes until NeedMore or End. Checks the progress
/// contract on every call.
fn feed<'p>(limits: &Limits, pieces: impl IntoIterator<Item = &'p [u8]>) -> Result<Body, RemoteError> {
    let mut dec = ChunkedDecoder::new(limits);
    let mut buf = Vec::new();
    let mut body = Body::default();
    for piece in pieces {
        buf.extend_from_slice(piece);
        // Each call consumes bytes or ends the loop, so this many calls always suffice.
        let mut budget = buf.len() + 1;
        loop {
            assert!(budget > 0, "decoder made no progress");
            budget -= 1;
            let (n, ev) = dec.decode(&buf)?;
            assert!(n <= buf.len(), "consumed more than given");
            let stop = match ev {
                Decoded::Data(d) => {
                    assert!(!d.is_empty() && n >= d.len(), "empty data event or data not consumed");
                    body.data.extend_from_slice(d);
                    false
                }
                Decoded::Trailer(f) => {
                    assert!(n > 0, "trailer without consuming");
                    body.trailers.push((f.name.to_owned(), f.value.to_vec()));
                    false
                }
                Decoded::End => {
                    assert!(!body.done || n == 0, "bytes consumed after End");
                    body.done = true;
                    true
                }
                Decoded::NeedMore => {
                    // Left over: nothing, or a partial trailer line (no LF in it).
                    assert!(!buf[n..].contains(&b'\n'), "NeedMore with a whole line left");
                    true
                }
            };
            buf.drain(..n);
            if stop {
                break;
            }
        }
    }
    Ok(body)
}

/// One chunk as a peer might write it, in any of the accepted spellings.
#[derive(Debug, Clone)]
struct WireChunk {
    data: Vec<u8>,
    leading_zeros: usize,
    upper: bool,
    bws: &'static str,
    ext: &'static str,
    crlf_size: bool,
    crlf_data: bool,
}

fn wire_chunk(data: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = WireChunk> {
    let bws = prop::sample::select(vec!["", " ", "\t", " \t "]);
    let ext = prop::sample::select(vec![
        "",
        ";a",
        ";a=b",
        ";name=\"quoted; \\\" value\"",
        " ; x = y ; z",
        ";ext=\"\"",
        ";a=\"\\\\\";b=1",
    ]);
    (data, 0..4usize, any::<bool>(), bws, ext, any::<bool>(), any::<bool>()).prop_map(
        |(data, leading_zeros, upper, bws, ext, crlf_size, crlf_data)| WireChunk {
            data,
            leading_zeros,
            upper,
            bws,
            ext,
            crlf_size,
            crlf_data,
        },
    )
}

fn eol(crlf: bool) -> &'static [u8] {
    if crlf { b"\r\n" } else { b"\n" }
}

fn write_size_line(out: &mut Vec<u8>, c: &WireChunk) {
    out.extend(std::iter::repeat_n(b'0', c.leading_zeros));
    let size = if c.upper { format!("{:X}", c.data.len()) } else { format!("{:x}", c.data.len()) };
    out.extend_from_slice(size.as_bytes());
    out.extend_from_slice(c.bws.as_bytes());
    out.extend_from_slice(c.ext.as_bytes());
    // A bare LF ends a size line only right after the size; after BWS or an extension only CRLF
    // does (a bare LF there is refused: see `bare_lf_after_bws_or_extension_is_refused`).
    out.extend_from_slice(eol(c.crlf_size || !c.bws.is_empty() || !c.ext.is_empty()));
}

fn trailer_name() -> impl Strategy<Value = String> {
    "X-[A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}"
}

fn trailer_value() -> impl Strategy<Value = Vec<u8>> {
    // Printable ASCII, tab, obs-text; no leading or trailing whitespace.
    prop::collection::vec(prop_oneof![0x21u8..0x7f, Just(b' '), Just(b'\t'), 0x80u8..=0xff], 0..16).prop_map(|mut v| {
        while v.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.remove(0);
        }
        while v.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.pop();
        }
        v
    })
}

/// A valid chunked body in varied spellings, with the body it decodes to.
fn valid_body() -> impl Strategy<Value = (Vec<u8>, Body)> {
    let chunks = prop::collection::vec(wire_chunk(prop::collection::vec(any::<u8>(), 1..40)), 0..6);
    let last = wire_chunk(Just(Vec::new()));
    let trailers = prop::collection::vec(
        (trailer_name(), trailer_value(), prop::sample::select(vec!["", " ", "\t", "  "]), any::<bool>()),
        0..4,
    );
    (chunks, last, trailers, any::<bool>()).prop_map(|(chunks, last, trailers, crlf_end)| {
        let mut wire = Vec::new();
        let mut body = Body { done: true, ..Body::default() };
        for c in &chunks {
            write_size_line(&mut wire, c);
            wire.extend_from_slice(&c.data);
            wire.extend_from_slice(eol(c.crlf_data));
            body.data.extend_from_slice(&c.data);
        }
        write_size_line(&mut wire, &last);
        for (name, value, ows, crlf) in trailers {
            wire.extend_from_slice(name.as_bytes());
            wire.push(b':');
            wire.extend_from_slice(ows.as_bytes());
            wire.extend_from_slice(&value);
            wire.extend_from_slice(ows.as_bytes());
            wire.extend_from_slice(eol(crlf));
            body.trailers.push((name, value));
        }
        wire.extend_from_slice(eol(crlf_end));
        (wire, body)
    })
}

proptest! {
    /// Any split of a valid body decodes like the whole body and like one byte at a time.
    #[test]
    fn chunked_any_split_decodes_the_same((wire, expected) in valid_body(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let limits = Limits::default();
        let whole = feed(&limits, [&wire[..]]).unwrap();
        prop_assert_eq!(&whole, &expected);
        let split = feed(&limits, split_at(&wire, &cuts)).unwrap();
        prop_assert_eq!(&split, &expected);
        let bytewise = feed(&limits, wire.chunks(1)).unwrap();
        prop_assert_eq!(&bytewise, &expected);
    }

    /// Pipelined bytes after a valid body are never consumed, however the input is split.
    #[test]
    fn chunked_bytes_after_the_body_are_left((wire, _) in valid_body(), cut in any::<usize>()) {
        let mut input = wire.clone();
        input.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        let cut = cut % (wire.len() + 1);
        let mut dec = ChunkedDecoder::new(&Limits::default());
        let mut buf = input[..cut].to_vec();
        let mut fed = cut;
        let mut consumed = 0;
        loop {
            let (n, ev) = dec.decode(&buf).unwrap();
            consumed += n;
            let (ended, need_more) = (ev == Decoded::End, ev == Decoded::NeedMore);
            buf.drain(..n);
            if ended {
                break;
            }
            if need_more {
                prop_assert!(fed < input.len(), "stalled before End");
                buf.extend_from_slice(&input[fed..]);
                fed = input.len();
            }
        }
        prop_assert_eq!(consumed, wire.len());
    }

    /// The decoder reads back exactly what the encoder writes, zero-copy or copying.
    #[test]
    fn chunked_encode_decode_round_trip(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
        trailers in prop::collection::vec((trailer_name(), trailer_value()), 0..4),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let fields: Vec<Field<'_>> = trailers.iter().map(|(n, v)| Field { name: n, value: v }).collect();

        // Zero copy: the parts, as a vectored write would send them.
        let mut vectored = Vec::new();
        for data in &chunks {
            let header = ChunkHeader::new(data.len() as u64);
            let parts = chunk_parts(&header, data);
            prop_assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), chunk_len(data.len()));
            for part in parts {
                vectored.extend_from_slice(part);
            }
        }

        // Copying, into one buffer.
        let total: usize = chunks.iter().map(|d| chunk_len(d.len())).sum::<usize>() + last_chunk_len(&fields);
        let mut copied = vec![0u8; total];
        let mut at = 0;
        for data in &chunks {
            at += encode_chunk(data, &mut copied[at..]).unwrap();
        }
        prop_assert_eq!(&copied[..at], &vectored[..]);
        let n = encode_last_chunk(&fields, &mut copied[at..]).unwrap();
        prop_assert_eq!(at + n, total);
        let mut last = vec![0u8; last_chunk_len(&fields)];
        encode_last_chunk(&fields, &mut last).unwrap();
        vectored.extend_from_slice(&last);
        prop_assert_eq!(&copied, &vectored);

        let expected = Body {
            data: chunks.concat(),
            trailers: trailers.clone(),
            done: true,
        };
        let limits = Limits::default();
        prop_assert_eq!(&feed(&limits, [&copied[..]]).unwrap(), &expected);
        prop_assert_eq!(&feed(&limits, split_at(&copied, &cuts)).unwrap(), &expected);
    }

    /// Arbitrary bytes, split anyhow, never panic or stall; errors are sticky.
    #[test]
    fn chunked_arbitrary_bytes_never_stall(
        input in prop::collection::vec(any::<u8>(), 0..256),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        small in any::<bool>(),
    ) {
        let limits = if small {
            Limits { max_body_len: 64, max_chunk_ext_len: 8, max_trailer_section_len: 16, ..Limits::default() }
        } else {
            Limits::default()
        };
        let _ = feed(&limits, [&input[..]]);
        let _ = feed(&limits, split_at(&input, &cuts));
        check_sticky(&limits, &input);
    }

    /// A bare LF after BWS or an extension on any size line (the last one included) is
    /// refused, with the same error however the bytes arrive: a recipient that skips
    /// extensions up to CRLF would frame the body differently.
    #[test]
    fn bare_lf_after_bws_or_extension_is_refused(
        chunks in prop::collection::vec(wire_chunk(prop::collection::vec(any::<u8>(), 1..40)), 0..4),
        bad in wire_chunk(prop::collection::vec(any::<u8>(), 0..40)),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        prop_assume!(!bad.bws.is_empty() || !bad.ext.is_empty());
        let mut wire = Vec::new();
        for c in &chunks {
            write_size_line(&mut wire, c);
            wire.extend_from_slice(&c.data);
            wire.extend_from_slice(eol(c.crlf_data));
        }
        wire.extend(std::iter::repeat_n(b'0', bad.leading_zeros));
        wire.extend_from_slice(format!("{:x}", bad.data.len()).as_bytes());
        wire.extend_from_slice(bad.bws.as_bytes());
        wire.extend_from_slice(bad.ext.as_bytes());
        wire.push(b'\n');
        wire.extend_from_slice(&bad.data);
        wire.extend_from_slice(b"\r\n0\r\n\r\n");
        let limits = Limits::default();
        let want = Err(RemoteError::Chunk(ChunkError::InvalidExtension));
        prop_assert_eq!(feed(&limits, [&wire[..]]).map(|_| ()), want);
        prop_assert_eq!(feed(&limits, split_at(&wire, &cuts)).map(|_| ()), want);
        prop_assert_eq!(feed(&limits, wire.chunks(1)).map(|_| ()), want);
    }

    /// Mostly-valid bytes (a valid body with a few bytes changed) reach deeper states.
    #[test]
    fn chunked_mutated_bodies_never_stall(
        (wire, _) in valid_body(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut input = wire;
        for (at, b) in edits {
            let at = at % input.len();
            input[at] = b;
        }
        let limits = Limits::default();
        let whole = feed(&limits, [&input[..]]);
        let split = feed(&limits, split_at(&input, &cuts));
        // An error is the same error however the bytes arrive; a success, the same body.
        prop_assert_eq!(whole.clone().err(), split.clone().err());
        if let (Ok(a), Ok(b)) = (whole, split) {
            prop_assert_eq!(a, b);
        }
        check_sticky(&limits, &input);
    }
}

/// Decodes `input` one call at a time; once an error is returned, it comes back forever.
fn check_sticky(limits: &Limits, input: &[u8]) {
    let mut dec = ChunkedDecoder::new(limits);
    let mut rest = input;
    for _ in 0..=input.len() + 1 {
        match dec.decode(rest) {
            Ok((_, Decoded::End | Decoded::NeedMore)) => return,
            Ok((n, _)) => rest = &rest[n..],
            Err(e) => {
                assert_eq!(dec.decode(rest), Err(e));
                assert_eq!(dec.decode(b"0\r\n\r\n"), Err(e));
                assert!(!dec.is_done());
                return;
            }
        }
    }
    panic!("decoder looped without progress");
}

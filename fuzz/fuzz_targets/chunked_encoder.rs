//! The chunked encoder against the decoder: data cut into chunks by the input, framed with
//! `encode_chunk` (copying) or `ChunkHeader` + `chunk_parts` (zero copy), ended with
//! `encode_last_chunk` and trailers taken from the input, then decoded by `ChunkedDecoder`.
//!
//! Input: a sequence of records `[len, kind, bytes...]`: a data chunk of `len << (kind / 2 % 5)`
//! bytes (so sizes of one to three hex digits), copied when `kind` is even and through the
//! zero-copy parts when odd; a record with `len == 0` is a trailer line `name:value` up to the
//! next `\n` (both sides trimmed). Checked: every length function is exact, a buffer one byte
//! short is refused, the decoder gives back exactly the data and the trailers the encoder
//! accepted, and ends exactly at the end of the encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern_proto::chunked::{
    ChunkHeader, ChunkedDecoder, Decoded, chunk_len, chunk_parts, encode_chunk, encode_last_chunk, last_chunk_len,
};
use tern_proto::{Field, Limits, LocalError};

fuzz_target!(|data: &[u8]| {
    let mut wire = Vec::new();
    let mut body = Vec::new();
    let mut trailer_text: Vec<(String, String)> = Vec::new();

    let mut rest = data;
    while let [len, kind, tail @ ..] = rest {
        let take = (usize::from(*len) << (kind / 2 % 5)).min(tail.len());
        let (bytes, after) = tail.split_at(take);
        rest = after;
        if *len == 0 {
            let text = String::from_utf8_lossy(tail.split(|&b| b == b'\n').next().unwrap_or_default()).into_owned();
            rest = &tail[tail.iter().position(|&b| b == b'\n').map_or(tail.len(), |i| i + 1)..];
            if let Some((name, value)) = text.split_once(':') {
                trailer_text.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            continue;
        }
        let needed = chunk_len(bytes.len());
        if kind % 2 == 0 {
            let mut out = vec![0u8; needed];
            let n = encode_chunk(bytes, &mut out).expect("chunk_len is enough");
            assert_eq!(n, needed);
            if let Some(short) = needed.checked_sub(1) {
                assert!(matches!(encode_chunk(bytes, &mut out[..short]), Err(LocalError::BufferTooSmall { .. })));
            }
            wire.extend_from_slice(&out);
        } else {
            let header = ChunkHeader::new(bytes.len() as u64);
            let parts = chunk_parts(&header, bytes);
            let total: usize = parts.iter().map(|p| p.len()).sum();
            assert_eq!(total, needed, "chunk_parts and chunk_len disagree");
            for part in parts {
                wire.extend_from_slice(part);
            }
        }
        body.extend_from_slice(bytes);
    }

    let trailers: Vec<Field<'_>> = trailer_text.iter().map(|(n, v)| Field::new(n, v)).collect();
    let mut last = vec![0u8; last_chunk_len(&trailers)];
    let accepted = match encode_last_chunk(&trailers, &mut last) {
        Ok(n) => {
            assert_eq!(n, last.len(), "last_chunk_len is exact");
            let short = n - 1;
            let refused = encode_last_chunk(&trailers, &mut vec![0u8; short]);
            assert!(matches!(refused, Err(LocalError::BufferTooSmall { .. })), "one byte short: {refused:?}");
            trailers.clone()
        }
        Err(LocalError::BufferTooSmall { .. }) => panic!("last_chunk_len is enough"),
        Err(_) => {
            last = vec![0u8; last_chunk_len(&[])];
            encode_last_chunk(&[], &mut last).expect("the bare last chunk");
            Vec::new()
        }
    };
    wire.extend_from_slice(&last);

    // Decode with no limit on trailers beyond what the encoder may send.
    let limits = Limits { max_trailer_section_len: wire.len() + 1, ..Limits::default() };
    let mut decoder = ChunkedDecoder::new(&limits);
    let mut at = 0;
    let mut decoded = Vec::new();
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let (consumed, event) = decoder.decode(&wire[at..]).unwrap_or_else(|e| panic!("our own encoding: {e:?}"));
        match event {
            Decoded::Data(bytes) => decoded.extend_from_slice(bytes),
            Decoded::Trailer(f) => fields.push((f.name.to_owned(), f.value.to_vec())),
            Decoded::End => {
                at += consumed;
                break;
            }
            Decoded::NeedMore => panic!("the decoder wants more after the whole encoding"),
        }
        at += consumed;
    }
    assert_eq!(at, wire.len(), "the decoder ended before the end of the encoding");
    assert_eq!(decoded, body, "body bytes changed");
    let sent: Vec<(String, Vec<u8>)> = accepted.iter().map(|f| (f.name.to_owned(), f.value.to_vec())).collect();
    assert_eq!(fields, sent, "trailers changed");
});

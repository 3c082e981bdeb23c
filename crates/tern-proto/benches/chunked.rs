//! Chunked decoding: tern's `ChunkedDecoder` against a bare `memchr` loop on the same bytes.
//!
//! Both decoders hand out each chunk's data as a slice of the input (no copies) through the
//! same caller loop, and the sink only `black_box`es the slice, so the difference is the
//! framing work: tern walks each size line and data terminator byte by byte through its
//! state machine, checking extensions and limits; the baseline finds the line end with
//! `memchr` and parses plain hex. Bodies of 64 KiB in chunks of 1 KiB and of 16 bytes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod inputs;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use inputs::{CHUNK_SIZES, CHUNKED_BODY_LEN, chunked_body, drive_bare, drive_tern};
use std::hint::black_box;
use tern_proto::Limits;

fn chunked(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("chunked_decode");
    g.throughput(Throughput::Bytes(CHUNKED_BODY_LEN as u64));
    for chunk in CHUNK_SIZES {
        let body = chunked_body(chunk);
        // Both decode the whole payload, and agree on it.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert_eq!(drive_tern(&body, &limits, |d| a.extend_from_slice(d)), CHUNKED_BODY_LEN);
        assert_eq!(drive_bare(&body, |d| b.extend_from_slice(d)), CHUNKED_BODY_LEN);
        assert_eq!(a, b);
        g.bench_with_input(BenchmarkId::new("memchr", chunk), &body, |bench, body| {
            bench.iter(|| drive_bare(black_box(body), |d| _ = black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("tern", chunk), &body, |bench, body| {
            bench.iter(|| drive_tern(black_box(body), &limits, |d| _ = black_box(d)))
        });
    }
    g.finish();
}

criterion_group!(benches, chunked);
criterion_main!(benches);

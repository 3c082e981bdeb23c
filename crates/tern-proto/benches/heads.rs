//! Head parsing: tern against bare httparse on the same bytes.
//!
//! tern adds limit checks, precise errors and body-length rules on top of httparse; the
//! design goal is to stay within 10% of httparse alone. Both sides get the same number of
//! header slots. The tern side also decides the body length, which any HTTP engine must do
//! after parsing; `tern_head_only` is the parse alone.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod inputs;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use inputs::{REQUEST, RESPONSE, SLOTS};
use std::hint::black_box;
use tern_proto::body::{request_body, response_body};
use tern_proto::{EMPTY_SLOT, Limits, Method, RequestHead, ResponseHead};

fn request_heads(c: &mut Criterion) {
    let limits = Limits { max_header_section_len: 4096, ..Limits::default() };
    let mut g = c.benchmark_group("request_head");
    g.throughput(Throughput::Bytes(REQUEST.len() as u64));
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut slots = [httparse::EMPTY_HEADER; SLOTS];
            let mut req = httparse::Request::new(&mut slots);
            let n = req.parse(black_box(REQUEST)).unwrap();
            black_box((n, req.method, req.path, req.headers.len()));
        })
    });
    g.bench_function("tern_head_only", |b| {
        b.iter(|| {
            let mut slots = [EMPTY_SLOT; SLOTS];
            let (head, n) = RequestHead::parse(black_box(REQUEST), &mut slots, &limits).unwrap().complete().unwrap();
            black_box((n, head.method, head.target, head.headers.len()));
        })
    });
    g.bench_function("tern", |b| {
        b.iter(|| {
            let mut slots = [EMPTY_SLOT; SLOTS];
            let (head, n) = RequestHead::parse(black_box(REQUEST), &mut slots, &limits).unwrap().complete().unwrap();
            let body = request_body(&head, &limits).unwrap();
            black_box((n, head.method, head.target, head.headers.len(), body));
        })
    });
    g.finish();
}

fn response_heads(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("response_head");
    g.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut slots = [httparse::EMPTY_HEADER; SLOTS];
            let mut res = httparse::Response::new(&mut slots);
            let n = res.parse(black_box(RESPONSE)).unwrap();
            black_box((n, res.code, res.reason, res.headers.len()));
        })
    });
    g.bench_function("tern_head_only", |b| {
        b.iter(|| {
            let mut slots = [EMPTY_SLOT; SLOTS];
            let (head, n) = ResponseHead::parse(black_box(RESPONSE), &mut slots, &limits).unwrap().complete().unwrap();
            black_box((n, head.status, head.reason, head.headers.len()));
        })
    });
    g.bench_function("tern", |b| {
        b.iter(|| {
            let mut slots = [EMPTY_SLOT; SLOTS];
            let (head, n) = ResponseHead::parse(black_box(RESPONSE), &mut slots, &limits).unwrap().complete().unwrap();
            let body = response_body(&Method::Get, &head, &limits).unwrap();
            black_box((n, head.status, head.reason, head.headers.len(), body));
        })
    });
    g.finish();
}

criterion_group!(benches, request_heads, response_heads);
criterion_main!(benches);

//! Head parsing: tern against bare httparse on the same bytes.
//!
//! tern adds limit checks, precise errors and body-length rules on top of httparse; the
//! design goal is to stay within 10% of httparse alone. Both sides get the same number of
//! header slots. The tern side also decides the body length, which any HTTP engine must do
//! after parsing; `tern_head_only` is the parse alone.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tern_proto::body::{request_body, response_body};
use tern_proto::{EMPTY_SLOT, Limits, Method, RequestHead, ResponseHead};

/// A browser's GET, as a device's web UI receives it.
const REQUEST: &[u8] = b"GET /api/v1/status?verbose=1 HTTP/1.1\r\n\
Host: esp32.local\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate\r\n\
Connection: keep-alive\r\n\
Cookie: session=4f2a9c1e7b; theme=dark\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Cache-Control: max-age=0\r\n\r\n";

/// A typical API server's answer.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Sat, 21 Nov 2026 09:00:00 GMT\r\n\
Server: nginx/1.26.2\r\n\
Content-Type: application/json; charset=utf-8\r\n\
Content-Length: 1234\r\n\
Connection: keep-alive\r\n\
Cache-Control: no-cache\r\n\
ETag: \"6731-5f2a\"\r\n\r\n";

const SLOTS: usize = 16;

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

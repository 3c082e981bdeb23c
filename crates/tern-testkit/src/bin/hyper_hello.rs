//! A hyper 1.x hello server, the reference for the server benchmarks: every request gets
//! `200 OK`, `Content-Type: text/html` and `Hello World!`, as advanced_tests' `/hello` does.
//!
//! `hyper_hello [--port N] [--threads N]` (defaults: 8080, 1 worker thread).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello World!")));
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/html"));
    Ok(response)
}

fn main() -> std::io::Result<()> {
    tern_testkit::bench_peer::run("hyper_hello", |stream| async move {
        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello)).await;
    })
}

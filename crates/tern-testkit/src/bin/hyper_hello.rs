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

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w.first().is_some_and(|a| a == name))
        .and_then(|w| w.get(1)?.parse().ok())
        .unwrap_or(default)
}

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello World!")));
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/html"));
    Ok(response)
}

fn main() -> std::io::Result<()> {
    let port = u16::try_from(arg("--port", 8080)).unwrap_or(8080);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(arg("--threads", 1).max(1)).enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("hyper_hello listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello)).await;
            });
        }
    })
}

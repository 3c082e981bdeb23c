//! hyper as a reference server, in-process on a background tokio runtime.
//!
//! Routes (all HTTP/1.1, keep-alive unless said otherwise):
//! - `GET /hello`: 200 with `hello` and a Content-Length;
//! - `GET /chunked?n=N&size=S`: N chunks of S bytes each (`a`, `b`, ... repeated), chunked;
//! - `POST|PUT /echo`: the request body back with a Content-Length; the request's
//!   `Content-Type`, `Transfer-Encoding` and `Content-Length` are echoed as `x-seen-*` headers;
//! - `GET /status/N`: status N with the body `status N`;
//! - `GET /close`: 200 `bye` with `Connection: close`;
//! - `HEAD` on any of them: the same head without a body.
//!
//! [`HyperServer::connections`] counts accepted connections, for keep-alive tests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// A running hyper server; stopped when dropped.
pub struct HyperServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

type Body = BoxBody<Bytes, Infallible>;

impl HyperServer {
    /// Starts the server on a free loopback port.
    ///
    /// # Panics
    /// When the runtime or the listener cannot be created.
    pub fn start() -> HyperServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
        let connections = Arc::new(AtomicUsize::new(0));
        let listener =
            runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}"));
        let counter = connections.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(route)).await;
                });
            }
        });
        HyperServer { addr, connections, runtime: Some(runtime) }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for HyperServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

fn query_number(req: &Request<Incoming>, key: &str, default: usize) -> usize {
    req.uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok()))
        .unwrap_or(default)
}

async fn route(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    let response = if path == "/hello" {
        Response::new(full("hello"))
    } else if path == "/chunked" {
        let n = query_number(&req, "n", 3);
        let size = query_number(&req, "size", 10);
        let frames = (0..n).map(move |i| {
            let byte = b'a' + (i % 26) as u8;
            Ok::<_, Infallible>(Frame::data(Bytes::from(vec![byte; size])))
        });
        Response::new(BodyExt::boxed(StreamBody::new(futures_util::stream::iter(frames))))
    } else if path == "/echo" {
        let seen = |name: &str| req.headers().get(name).map(|v| v.as_bytes().to_vec());
        let (ct, te, cl) = (seen("content-type"), seen("transfer-encoding"), seen("content-length"));
        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let mut response = Response::new(full(body));
        for (name, value) in
            [("x-seen-content-type", ct), ("x-seen-transfer-encoding", te), ("x-seen-content-length", cl)]
        {
            if let Some(v) = value.and_then(|v| hyper::header::HeaderValue::from_bytes(&v).ok()) {
                response.headers_mut().insert(name, v);
            }
        }
        response
    } else if let Some(code) = path.strip_prefix("/status/").and_then(|c| c.parse::<u16>().ok()) {
        let mut response = Response::new(full(format!("status {code}")));
        *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
        response
    } else if path == "/close" {
        let mut response = Response::new(full("bye"));
        response.headers_mut().insert("connection", hyper::header::HeaderValue::from_static("close"));
        response
    } else {
        let mut response = Response::new(full("not found"));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response
    };
    Ok(response)
}

//! Shared by the TLS tests: a tokio HTTPS server with a few routes, its TLS configurations,
//! and a recorder for what it accepted and what its TLS hook heard.
#![allow(dead_code, unreachable_pub)] // each test file uses a different part; `pub` for them

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tern_proto::Method;
use tern_testkit::{CertFiles, Pki};
use tern_tls::{ServerTls, ServerTlsOptions};
use tern_tokio::server::{Config, Error, HandlerResult, Request, Server, UriHandler};

/// What `/hello` answers.
pub const HELLO: &str = "Hello over TLS!";
/// The size of `/big`.
pub const BIG: usize = 1 << 20;
/// The chunks `/chunks` sends, in order.
pub const CHUNKS: [&str; 4] = ["first chunk, ", "second, ", "a third that is a little longer, ", "and the end"];

/// `/big`'s body: a pattern that shows misplaced bytes.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A server configuration for `cert` (no client certificates asked for).
pub fn server_tls(cert: &CertFiles) -> ServerTls {
    ServerTls::new(&ServerTlsOptions {
        cert_chain: cert.cert_pem.as_bytes(),
        private_key: cert.key_pem.as_bytes(),
        ..ServerTlsOptions::default()
    })
    .unwrap()
}

/// The PKI's server certificate, with client certificates required (mutual TLS).
pub fn mutual_server_tls(pki: &Pki) -> ServerTls {
    ServerTls::new(&ServerTlsOptions {
        cert_chain: pki.server().cert_pem.as_bytes(),
        private_key: pki.server().key_pem.as_bytes(),
        client_ca: Some(pki.ca_pem().as_bytes()),
        ..ServerTlsOptions::default()
    })
    .unwrap()
}

/// What a test server saw: sessions that got past the handshake (the open hook) and the TLS
/// hook's reports.
#[derive(Default)]
pub struct Seen {
    pub opened: AtomicUsize,
    pub tls_errors: Mutex<Vec<String>>,
    /// The TLS errors, as the typed error's `Debug`, for matching.
    pub tls_debug: Mutex<Vec<String>>,
}

impl Seen {
    pub fn opened(&self) -> usize {
        self.opened.load(Ordering::SeqCst)
    }

    pub fn tls_errors(&self) -> Vec<String> {
        self.tls_debug.lock().unwrap().clone()
    }
}

/// `config` on a free loopback port with `tls`, its open and TLS hooks recording into `seen`.
pub fn tls_config(tls: ServerTls, seen: &Arc<Seen>, config: Config) -> Config {
    let (on_open, on_tls) = (seen.clone(), seen.clone());
    Config {
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        server_port: 0,
        tls: Some(tls),
        open_fn: Some(Arc::new(move |_, _| {
            on_open.opened.fetch_add(1, Ordering::SeqCst);
            true
        })),
        tls_error_fn: Some(Arc::new(move |_, _, e: &Error| {
            on_tls.tls_errors.lock().unwrap().push(e.to_string());
            on_tls.tls_debug.lock().unwrap().push(format!("{e:?}"));
        })),
        ..config
    }
}

async fn hello(mut req: Request) -> HandlerResult {
    req.set_type("text/plain");
    req.send(HELLO.as_bytes()).await
}

async fn echo(mut req: Request) -> HandlerResult {
    let body = req.recv_body(4 << 20).await?;
    req.set_type("application/octet-stream");
    req.send(&body).await
}

async fn chunks(mut req: Request) -> HandlerResult {
    req.set_type("text/plain");
    for chunk in CHUNKS {
        req.send_chunk(chunk.as_bytes()).await?;
    }
    req.send_chunk(b"").await
}

async fn big(mut req: Request) -> HandlerResult {
    req.set_type("application/octet-stream");
    req.send(&pattern(BIG)).await
}

/// Who the client is: `tls` or `plain`, and the length of its certificate, when it sent one.
async fn whoami(mut req: Request) -> HandlerResult {
    let transport = if req.is_tls() { "tls" } else { "plain" };
    let cert = req.peer_certificates().and_then(|chain| chain.first()).map_or(0, |leaf| leaf.len());
    let text = format!("{transport} cert={cert}");
    req.set_type("text/plain");
    req.send(text.as_bytes()).await
}

/// Starts `config` with `/hello`, `/echo` (POST), `/chunks`, `/big` and `/whoami`.
pub async fn start(config: Config) -> Server {
    let server = Server::start(config).await.unwrap();
    server.register_uri_handler(UriHandler::new("/hello", Method::Get, hello)).unwrap();
    server.register_uri_handler(UriHandler::new("/echo", Method::Post, echo)).unwrap();
    server.register_uri_handler(UriHandler::new("/chunks", Method::Get, chunks)).unwrap();
    server.register_uri_handler(UriHandler::new("/big", Method::Get, big)).unwrap();
    server.register_uri_handler(UriHandler::new("/whoami", Method::Get, whoami)).unwrap();
    server
}

/// A TLS server with the PKI's server certificate, its record, and its port.
pub async fn start_tls(pki: &Pki) -> (Server, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let server = start(tls_config(server_tls(pki.server()), &seen, Config::default())).await;
    (server, seen)
}

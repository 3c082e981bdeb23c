//! The `async_handlers` example over loopback, with raw HTTP/1.1 clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's interface, seen from the test crate
#[path = "../examples/async_handlers.rs"]
mod async_handlers;

use std::net::SocketAddr;
use std::time::Duration;

use async_handlers::{BUSY, INDEX, Long};
use tern_tokio::server::Server;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Bound on every wait of a test.
const PATIENCE: Duration = Duration::from_secs(5);

async fn server(long: Long) -> Server {
    async_handlers::start(async_handlers::config(0), long).await.unwrap()
}

/// A long request that outlives the test: it is stopped with the server.
fn endless() -> Long {
    Long { chunks: 1000, interval: Duration::from_millis(50) }
}

/// A response head.
#[derive(Debug)]
struct Head {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", addr.port())).await.unwrap();
        Client { io: BufReader::new(stream) }
    }

    async fn get(&mut self, path: &str) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.io.get_mut().write_all(request.as_bytes()).await.unwrap();
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = timeout(PATIENCE, self.io.read_line(&mut line)).await.expect("a line in time").unwrap();
        assert!(n > 0, "the connection closed");
        line.trim_end_matches("\r\n").to_owned()
    }

    async fn head(&mut self) -> Head {
        let status_line = self.line().await;
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
        let status = parts.next().unwrap().parse().unwrap();
        let reason = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let line = self.line().await;
            if line.is_empty() {
                return Head { status, reason, headers };
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
    }

    /// A `Content-Length` body.
    async fn body(&mut self, head: &Head) -> String {
        let len: usize = head.header("Content-Length").expect("Content-Length").parse().unwrap();
        let mut body = vec![0u8; len];
        timeout(PATIENCE, self.io.read_exact(&mut body)).await.expect("the body in time").unwrap();
        String::from_utf8(body).unwrap()
    }

    /// The next chunk of a chunked body; `None` at its end.
    async fn chunk(&mut self) -> Option<String> {
        let size = usize::from_str_radix(&self.line().await, 16).unwrap();
        if size == 0 {
            assert_eq!(self.line().await, "");
            return None;
        }
        let mut data = vec![0u8; size + 2];
        timeout(PATIENCE, self.io.read_exact(&mut data)).await.expect("a chunk in time").unwrap();
        assert_eq!(&data[size..], b"\r\n");
        data.truncate(size);
        Some(String::from_utf8(data).unwrap())
    }

    /// A whole `GET` with a `Content-Length` answer.
    async fn fetch(&mut self, path: &str) -> (Head, String) {
        self.get(path).await;
        let head = self.head().await;
        let body = self.body(&head).await;
        (head, body)
    }

    /// `GET /long`, its head checked and its first chunk (the count) returned.
    async fn start_long(&mut self) -> String {
        self.get("/long").await;
        let head = self.head().await;
        assert_eq!(head.status, 200, "{head:?}");
        assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
        self.chunk().await.expect("the count")
    }

    /// True when the server closed the connection (EOF or reset), within the patience.
    async fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(timeout(PATIENCE, self.io.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
    }
}

fn assert_random(body: &str) {
    let n = body.strip_prefix("random: ").and_then(|s| s.strip_suffix('\n')).expect(body);
    n.parse::<u32>().expect(body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_quick_and_long_counted_per_session() {
    let server = server(Long { chunks: 5, interval: Duration::from_millis(20) }).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr).await;
    let (head, body) = a.fetch("/").await;
    assert_eq!((head.status, head.header("Content-Type")), (200, Some("text/html")));
    assert_eq!(body, INDEX);
    let (head, body) = a.fetch("/quick").await;
    assert_eq!(head.status, 200);
    assert_random(&body);

    for n in 1..=2 {
        assert_eq!(a.start_long().await, format!("<div>req: {n}</div>\n"));
        for i in 0..5 {
            assert_eq!(a.chunk().await.as_deref(), Some(format!("<div>{i}</div>\n").as_str()));
        }
        assert_eq!(a.chunk().await, None);
    }
    // Another session counts from 1; the first one is still served after its long requests.
    let mut b = Client::connect(addr).await;
    assert_eq!(b.start_long().await, "<div>req: 1</div>\n");
    let (head, body) = a.fetch("/quick").await;
    assert_eq!(head.status, 200);
    assert_random(&body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_answers_while_two_long_run_and_a_third_long_is_busy() {
    let server = server(endless()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    let mut c = Client::connect(addr).await;
    assert_eq!(a.start_long().await, "<div>req: 1</div>\n");
    assert_eq!(b.start_long().await, "<div>req: 1</div>\n");
    assert_eq!(a.chunk().await.as_deref(), Some("<div>0</div>\n"));

    let (head, body) = c.fetch("/quick").await;
    assert_eq!(head.status, 200);
    assert_random(&body);
    let (head, body) = c.fetch("/long").await;
    assert_eq!((head.status, head.reason.as_str()), (503, "Busy"));
    assert_eq!(body, BUSY);
    // The refused session stays usable, and the long ones go on, in order.
    let (head, body) = c.fetch("/quick").await;
    assert_eq!(head.status, 200);
    assert_random(&body);
    for i in 1..4 {
        assert_eq!(a.chunk().await.as_deref(), Some(format!("<div>{i}</div>\n").as_str()));
    }
    for i in 0..3 {
        assert_eq!(b.chunk().await.as_deref(), Some(format!("<div>{i}</div>\n").as_str()));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_leaving_mid_long_frees_its_worker() {
    let server = server(endless()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    assert_eq!(a.start_long().await, "<div>req: 1</div>\n");
    assert_eq!(b.start_long().await, "<div>req: 1</div>\n");
    assert_eq!(a.chunk().await.as_deref(), Some("<div>0</div>\n"));
    drop(a);

    // B's request runs much longer than this test: a /long served now got A's worker.
    let mut c = Client::connect(addr).await;
    let until = Instant::now() + PATIENCE;
    loop {
        c.get("/long").await;
        let head = c.head().await;
        if head.status == 200 {
            assert_eq!(c.chunk().await.as_deref(), Some("<div>req: 1</div>\n"));
            assert_eq!(c.chunk().await.as_deref(), Some("<div>0</div>\n"));
            break;
        }
        assert_eq!(head.status, 503);
        c.body(&head).await;
        assert!(Instant::now() < until, "the worker of the client that left was not freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // B was not disturbed, and quick requests are answered.
    for i in 0..3 {
        assert_eq!(b.chunk().await.as_deref(), Some(format!("<div>{i}</div>\n").as_str()));
    }
    let mut d = Client::connect(addr).await;
    let (head, body) = d.fetch("/quick").await;
    assert_eq!(head.status, 200);
    assert_random(&body);
    assert_eq!(server.client_list().len(), 3, "B, C and D");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sessions_and_the_least_recently_used_is_purged() {
    let server = server(endless()).await;
    let addr = server.local_addr();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = Client::connect(addr).await;
        assert_eq!(client.fetch("/quick").await.0.status, 200);
        clients.push(client);
    }
    assert_eq!(server.client_list().len(), 3);
    let mut fourth = Client::connect(addr).await;
    assert_eq!(fourth.fetch("/quick").await.0.status, 200);
    assert!(clients[0].closed().await, "the least recently used session was not closed");
    for client in &mut clients[1..] {
        assert_eq!(client.fetch("/quick").await.0.status, 200);
    }
    server.stop().await;
}

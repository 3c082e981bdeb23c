//! The `simple` example over real loopback sockets, driven by curl, Python's http.client and
//! raw TCP: `/hello`, `/echo`, `/ctrl` with its custom 404 handler, `/any`, `/sse`, and LRU
//! purge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's `pub` items are for the tests
#[path = "../examples/simple.rs"]
mod simple;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::{Raw, blocking, curl_response, eventually, get, on_loopback, py_sequence, url, with_body};
use tern_tokio::server::{Config, Server};

fn config() -> Config {
    on_loopback(simple::config(0))
}

async fn start_with(config: Config) -> (Server, SocketAddr) {
    let server = simple::start(config).await.unwrap();
    let addr = server.local_addr();
    (server, addr)
}

async fn start() -> (Server, SocketAddr) {
    start_with(config()).await
}

fn assert_hello(resp: &support::Resp) {
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.header("Custom-Header-1"), Some("Custom-Value-1"));
    assert_eq!(resp.header("Custom-Header-2"), Some("Custom-Value-2"));
    assert_eq!(resp.header("Content-Length"), Some("12"));
    assert_eq!(resp.text(), "Hello World!");
}

#[test]
fn the_example_is_configured_as_esp_idf_with_lru_purge() {
    let config = simple::config(8001);
    assert_eq!(config.server_port, 8001);
    assert!(config.lru_purge_enable);
    assert_eq!(config.max_open_sockets, 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn hello_reads_headers_and_query_and_answers_with_custom_headers() {
    let (server, addr) = start().await;
    let resp = blocking(move || {
        curl_response(&[
            "-H",
            "Test-Header-1: one",
            "-H",
            "Test-Header-2: two",
            &url(addr, "/hello?query1=a%20b&query2=c+d&query3=plain"),
        ])
    })
    .await;
    assert_hello(&resp);
    assert_eq!(resp.header("Content-Type"), Some("text/html"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn any_answers_every_method_like_hello() {
    let (server, addr) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let resp = raw.exchange(with_body(method, "/any", "ignored"));
            assert_hello(&resp);
        }
        // HEAD gets the head only.
        raw.send("HEAD /any HTTP/1.1\r\nHost: x\r\n\r\n");
        let head = raw.head();
        assert_eq!((head.status, head.header("Content-Length")), (200, Some("12")));
        assert_hello(&raw.exchange(get("/any?query1=x")));
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_answers_in_chunks_of_at_most_100_bytes() {
    let (server, addr) = start().await;
    let body: Vec<u8> = (0..1234u32).map(|i| b'A' + (i % 26) as u8).collect();
    let sent = body.clone();
    let (raw_resp, curl_resp, empty) = blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send(format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", sent.len()));
        raw.send(&sent);
        let raw_resp = raw.response();
        // The session goes on after the chunked response.
        let empty = raw.exchange(with_body("POST", "/echo", ""));
        let curl_resp = curl_response(&["--data-binary", "echo via curl", &url(addr, "/echo")]);
        (raw_resp, curl_resp, empty)
    })
    .await;
    assert_eq!(raw_resp.status, 200);
    assert_eq!(raw_resp.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(raw_resp.header("Content-Length"), None);
    assert_eq!(raw_resp.body, body);
    assert!(raw_resp.chunks.len() >= 13, "{:?}", raw_resp.chunks);
    assert!(raw_resp.chunks.iter().all(|&n| (1..=100).contains(&n)), "{:?}", raw_resp.chunks);
    // An empty body: just the last chunk.
    assert_eq!((empty.status, empty.body.len()), (200, 0));
    assert_eq!(empty.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!((curl_resp.status, curl_resp.text().as_str()), (200, "echo via curl"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_uris_get_the_default_404_and_a_close() {
    let (server, addr) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        let resp = raw.exchange(get("/nothing"));
        assert_eq!((resp.status, resp.text().as_str()), (404, "Nothing matches the given URI"));
        assert!(resp.says_close());
        raw.assert_closed();
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_toggles_hello_and_echo_and_the_custom_404_handler() {
    let (server, addr) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        let off = raw.exchange(with_body("PUT", "/ctrl", "0"));
        assert_eq!((off.status, off.body.len()), (200, 0));
        assert_eq!(off.header("Content-Length"), Some("0"));

        // /hello: the custom message, and the session stays open (the next request on it
        // is served).
        let resp = raw.exchange(get("/hello"));
        assert_eq!((resp.status, resp.reason.as_str()), (404, "Not Found"));
        assert_eq!(resp.text(), "/hello URI is not available");
        assert!(!resp.says_close());
        assert_hello(&raw.exchange(get("/any")));
        let resp = raw.exchange(get("/hello"));
        assert_eq!(resp.text(), "/hello URI is not available");

        // /echo: the custom message, then the session closes.
        let resp = raw.exchange(with_body("POST", "/echo", "x"));
        assert_eq!((resp.status, resp.text().as_str()), (404, "/echo URI is not available"));
        raw.assert_closed();

        // Anything else: the generic custom message, then a close.
        let mut raw = Raw::connect(addr);
        let resp = raw.exchange(get("/elsewhere"));
        assert_eq!((resp.status, resp.text().as_str()), (404, "Some 404 error message"));
        raw.assert_closed();
        // The handler compares the whole URI: a query makes /hello "anything else".
        let mut raw = Raw::connect(addr);
        let resp = raw.exchange(get("/hello?x=1"));
        assert_eq!(resp.text(), "Some 404 error message");
        raw.assert_closed();

        // Anything but 0 brings /hello and /echo back and the default 404 with them.
        let mut raw = Raw::connect(addr);
        let on = raw.exchange(with_body("PUT", "/ctrl", "1"));
        assert_eq!((on.status, on.body.len()), (200, 0));
        assert_hello(&raw.exchange(get("/hello")));
        assert_eq!(raw.exchange(with_body("POST", "/echo", "back")).text(), "back");
        let resp = raw.exchange(get("/elsewhere"));
        assert_eq!((resp.status, resp.text().as_str()), (404, "Nothing matches the given URI"));
        raw.assert_closed();

        // Toggling twice in a row is harmless (registering again is refused and ignored).
        let results = py_sequence(addr, &["PUT /ctrl 1", "GET /hello", "PUT /ctrl 0", "PUT /ctrl 0", "GET /hello"]);
        let seen: Vec<(u16, &str)> = results.iter().map(|r| (r.status, r.body.as_str())).collect();
        assert_eq!(
            seen,
            [(200, ""), (200, "Hello World!"), (200, ""), (200, ""), (404, "/hello URI is not available")]
        );
        assert!(results.iter().all(|r| r.local_port == results[0].local_port), "{results:?}");
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_sends_an_event_a_second_until_the_client_leaves() {
    let (server, addr) = start().await;
    let handle = server.handle();
    let events = blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send(get("/sse"));
        let head = raw.head();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Type"), Some("text/event-stream"));
        assert_eq!(head.header("Cache-Control"), Some("no-cache"));
        assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
        let start = std::time::Instant::now();
        let events: Vec<String> = (0..2).map(|_| String::from_utf8(raw.chunk().unwrap()).unwrap()).collect();
        // One a second: the second comes about a second after the first.
        assert!(start.elapsed() >= Duration::from_millis(800), "{:?}", start.elapsed());
        events
    })
    .await;
    let mut seconds = Vec::new();
    for event in &events {
        let n = event
            .strip_prefix("data: Time since boot: ")
            .and_then(|rest| rest.strip_suffix(" seconds\n\n"))
            .unwrap_or_else(|| panic!("not an SSE event: {event:?}"));
        seconds.push(n.parse::<u64>().unwrap());
    }
    assert!(seconds[1] >= seconds[0] && seconds[1] <= seconds[0] + 2, "{seconds:?}");
    // The client left: the next events fail to go out and the session closes.
    assert!(eventually(Duration::from_secs(5), || handle.client_list().is_empty()).await);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lru_purge_closes_the_least_recently_used_session_for_a_new_one() {
    let (server, addr) = start_with(Config { max_open_sockets: 2, ..config() }).await;
    let handle = server.handle();
    let (mut a, mut b) = blocking(move || {
        let mut a = Raw::connect(addr);
        let mut b = Raw::connect(addr);
        assert_hello(&a.exchange(get("/hello")));
        assert_hello(&b.exchange(get("/hello")));
        // a is used again: b is now the least recently used.
        assert_hello(&a.exchange(get("/any")));
        (a, b)
    })
    .await;
    assert_eq!(handle.client_list().len(), 2);
    (a, b) = blocking(move || {
        let mut c = Raw::connect(addr);
        assert_hello(&c.exchange(get("/hello")));
        // b was closed to make room; a was not.
        b.assert_closed();
        assert_hello(&a.exchange(get("/hello")));
        (a, b)
    })
    .await;
    assert!(eventually(Duration::from_secs(2), || handle.client_list().len() <= 2).await);
    drop((a, b));
    server.stop().await;
}

//! The `advanced_tests` example over real loopback sockets, driven by curl, Python's
//! http.client and raw TCP: every handler, and every error status the server answers itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's `pub` items are for the tests
#[path = "../examples/advanced_tests.rs"]
mod advanced_tests;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::{Raw, blocking, curl, curl_response, eventually, get, on_loopback, py_sequence, url, with_body};
use tern_tokio::server::{Config, Server};

fn config() -> Config {
    on_loopback(advanced_tests::config(0))
}

async fn start_with(config: Config) -> (Server, SocketAddr) {
    let server = advanced_tests::start(config).await.unwrap();
    let addr = server.local_addr();
    (server, addr)
}

async fn start() -> (Server, SocketAddr) {
    start_with(config()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn hello_handlers_answer_with_curl() {
    let (server, addr) = start().await;
    let (html, hello, status_500) = blocking(move || {
        (
            curl_response(&[&url(addr, "/hello/type_html")]),
            curl_response(&[&url(addr, "/hello")]),
            curl_response(&[&url(addr, "/hello/status_500")]),
        )
    })
    .await;
    for resp in [&html, &hello] {
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("Content-Type"), Some("text/html"));
        assert_eq!(resp.header("Content-Length"), Some("12"));
        assert_eq!(resp.text(), "Hello World!");
    }
    assert_eq!((status_500.status, status_500.reason.as_str()), (500, "Internal Server Error"));
    assert_eq!(status_500.text(), "Hello World!");
    server.stop().await;
}

/// A `/test_header` request with these header lines.
fn test_header(lines: &str) -> String {
    format!("GET /test_header HTTP/1.1\r\nHost: localhost\r\n{lines}\r\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn test_header_checks_each_header_and_keeps_trailing_whitespace() {
    let (server, addr) = start().await;
    blocking(move || {
        // All present: Header2's value back; leading whitespace is not part of it, trailing is.
        let mut raw = Raw::connect(addr);
        let ok = raw.exchange(test_header("Header1: Value1\r\nHeader2:   spaced value \t\r\nHeader3: Value3\r\n"));
        assert_eq!(ok.status, 200);
        assert_eq!(ok.text(), "spaced value \t");
        // An empty Header2 is allowed, and the session goes on.
        let empty = raw.exchange(test_header("Header1: Value1\r\nHeader2:\r\nHeader3: Value3\r\n"));
        assert_eq!((empty.status, empty.text().as_str()), (200, ""));
        assert!(!empty.says_close());

        let refusals = [
            ("Header2: x\r\nHeader3: Value3\r\n", "Header1 not found"),
            ("Header1: Value2\r\nHeader2: x\r\nHeader3: Value3\r\n", "Wrong value of Header1 received"),
            // Trailing whitespace is kept, so "Value1 " is not "Value1".
            ("Header1: Value1 \r\nHeader2: x\r\nHeader3: Value3\r\n", "Wrong value of Header1 received"),
            ("Header1: Value1\r\nHeader2: x\r\n", "Header3 not found"),
            ("Header1: Value1\r\nHeader2: x\r\nHeader3: value3\r\n", "Wrong value of Header3 received"),
            ("Header1: Value1\r\nHeader3: Value3\r\n", "Header2 not found"),
        ];
        for (lines, message) in refusals {
            let mut raw = Raw::connect(addr);
            let resp = raw.exchange(test_header(lines));
            assert_eq!((resp.status, resp.reason.as_str()), (400, "Bad Request"), "{lines:?}");
            assert_eq!(resp.header("Content-Type"), Some("text/html"));
            assert_eq!(resp.text(), message, "{lines:?}");
            raw.assert_closed();
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_returns_the_body_and_the_custom_header() {
    let (server, addr) = start().await;
    let big: String = (0..3000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let big_sent = big.clone();
    let (post, put, no_custom, large) = blocking(move || {
        let post = curl_response(&["-H", "Custom: my value", "--data-binary", "hello echo", &url(addr, "/echo")]);
        let put = curl_response(&["-X", "PUT", "--data-binary", "put body", &url(addr, "/echo")]);
        let no_custom = curl_response(&["-H", "Custom;", "--data-binary", "x", &url(addr, "/echo")]);
        // More than the receive buffer: curl waits for 100 Continue, the body goes in pieces.
        let large = curl_response(&["--data-binary", &big_sent, &url(addr, "/echo")]);
        (post, put, no_custom, large)
    })
    .await;
    assert_eq!((post.status, post.text().as_str()), (200, "hello echo"));
    assert_eq!(post.header("Custom"), Some("my value"));
    assert_eq!((put.status, put.text().as_str()), (200, "put body"));
    assert_eq!(put.header("Custom"), None);
    // An empty Custom header is not echoed.
    assert_eq!((no_custom.status, no_custom.text().as_str()), (200, "x"));
    assert_eq!(no_custom.header("Custom"), None);
    assert_eq!(large.status, 200);
    assert_eq!(large.text(), big);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_over_one_mib_answers_500_and_closes() {
    let (server, addr) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send(format!("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n", 1024 * 1024 + 1));
        raw.send(vec![b'x'; 4096]);
        let resp = raw.response();
        assert_eq!((resp.status, resp.reason.as_str()), (500, "Internal Server Error"));
        assert_eq!(resp.text(), "Body too large");
        assert!(resp.says_close());
        raw.assert_closed();
        // Exactly 1 MiB is still echoed.
        let body = vec![b'y'; 1024 * 1024];
        let mut raw = Raw::connect(addr);
        raw.send(format!("PUT /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n", body.len()));
        raw.send(&body);
        let resp = raw.response();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, body);
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_body_that_stalls_answers_408_and_closes() {
    let mut config = config();
    config.connection.recv_wait_timeout_ms = 300;
    let (server, addr) = start_with(config).await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
        let resp = raw.response();
        assert_eq!((resp.status, resp.reason.as_str()), (408, "Request Timeout"));
        assert_eq!(resp.text(), "Server closed this connection");
        assert!(resp.says_close());
        raw.assert_closed();
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn leftover_data_is_discarded_and_the_connection_stays_usable() {
    let (server, addr) = start().await;
    let results = blocking(move || {
        py_sequence(
            addr,
            &["POST /leftover_data 0123456789abcdefghijklmnopqrstuvwxyz", "GET /hello", "POST /echo after"],
        )
    })
    .await;
    assert_eq!(results.len(), 3);
    assert_eq!((results[0].status, results[0].body.as_str()), (200, "0123456789"));
    assert_eq!((results[1].status, results[1].body.as_str()), (200, "Hello World!"));
    assert_eq!((results[2].status, results[2].body.as_str()), (200, "after"));
    // One connection for all three: the rest of the first body did not break the stream.
    assert!(results.iter().all(|r| r.local_port == results[0].local_port), "{results:?}");

    // The same with raw TCP, the next request sent right behind the body.
    blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send(with_body("POST", "/leftover_data", "short"));
        raw.send(with_body("POST", "/leftover_data", "a body longer than ten bytes"));
        raw.send(get("/hello"));
        assert_eq!(raw.response().text(), "short");
        assert_eq!(raw.response().text(), "a body lon");
        assert_eq!(raw.response().text(), "Hello World!");
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn adder_keeps_a_running_sum_per_session() {
    let (server, addr) = start().await;
    let (first, second) = blocking(move || {
        let first = py_sequence(addr, &["POST /adder 5", "POST /adder 10", "POST /adder -3", "POST /adder 100"]);
        let second = py_sequence(addr, &["POST /adder 7"]);
        (first, second)
    })
    .await;
    let sums: Vec<&str> = first.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(sums, ["5", "15", "12", "112"]);
    assert!(first.iter().all(|r| r.status == 200 && r.local_port == first[0].local_port), "{first:?}");
    // A new connection is a new session: a fresh sum.
    assert_eq!((second[0].status, second[0].body.as_str()), (200, "7"));
    assert_ne!(second[0].local_port, first[0].local_port);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn async_data_sends_two_responses_on_one_connection() {
    let (server, addr) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        let first = raw.exchange(get("/async_data"));
        assert_eq!((first.status, first.text().as_str()), (200, "Hello World!"));
        let second = raw.response();
        assert_eq!((second.status, second.reason.as_str()), (200, "OK"));
        assert_eq!(second.header("Content-Type"), Some("text/html"));
        assert_eq!(second.header("Content-Length"), Some("19"));
        assert_eq!(second.text(), "Hello Double World!");
        // And the session still serves requests.
        assert_eq!(raw.exchange(get("/hello")).text(), "Hello World!");
    })
    .await;
    server.stop().await;
}

/// Sends `request` on a new connection: the response, which must be followed by a close.
fn refused(addr: SocketAddr, request: impl AsRef<[u8]>) -> support::Resp {
    let mut raw = Raw::connect(addr);
    raw.send(request);
    let resp = raw.response();
    assert!(resp.says_close(), "{resp:?}");
    raw.assert_closed();
    resp
}

fn assert_error(resp: &support::Resp, status: u16, reason: &str, body: &str) {
    assert_eq!((resp.status, resp.reason.as_str()), (status, reason), "{resp:?}");
    assert_eq!(resp.header("Content-Type"), Some("text/html"));
    assert_eq!(resp.header("Content-Length"), Some(body.len().to_string().as_str()));
    assert_eq!(resp.text(), body);
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_and_method_not_allowed() {
    let (server, addr) = start().await;
    blocking(move || {
        let resp = refused(addr, get("/nothing/here"));
        assert_error(&resp, 404, "Not Found", "Nothing matches the given URI");
        // Exact matching: a trailing slash is another URI.
        assert_eq!(refused(addr, get("/hello/")).status, 404);

        let resp = refused(addr, get("/echo"));
        assert_error(&resp, 405, "Method Not Allowed", "Specified method is invalid for this resource");
        assert_eq!(resp.header("Allow"), Some("POST, PUT"));
        // tern answers HEAD with the GET handler, so the Allow list names it too.
        let resp = refused(addr, with_body("POST", "/hello", ""));
        assert_eq!(resp.status, 405);
        assert_eq!(resp.header("Allow"), Some("GET, HEAD"));
        // A method no handler serves anywhere is 501, not 405 (a tern change from ESP-IDF).
        let resp = refused(addr, with_body("DELETE", "/hello", ""));
        assert_error(&resp, 501, "Method Not Implemented", "Server does not support this method");
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_the_servers_error_statuses() {
    let (server, addr) = start().await;
    blocking(move || {
        // 400: a bare CR, a header line without a colon, garbage, two Content-Lengths.
        for request in [
            "GET /hello HTTP/1.1\rHost: x\r\n\r\n",
            "GET /hello HTTP/1.1\r\nno colon here\r\n\r\n",
            "\x16\x03\x01 not http\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        ] {
            let resp = refused(addr, request);
            assert_error(&resp, 400, "Bad Request", "Bad request syntax");
        }
        // 413: a Content-Length past UINT32_MAX.
        let resp = refused(addr, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967296\r\n\r\n");
        assert_error(&resp, 413, "Content Too Large", "Content is too large");
        // 414: a target over 512 bytes; 512 itself is fine (and then not found).
        let long = format!("/{}", "a".repeat(512));
        let resp = refused(addr, get(&long));
        assert_error(&resp, 414, "URI Too Long", "URI is too long");
        assert_eq!(refused(addr, get(&long[..512])).status, 404);
        // 431: a header section over 1024 bytes; just under it is fine.
        let big = format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(1024));
        let resp = refused(addr, big);
        assert_error(&resp, 431, "Request Header Fields Too Large", "Header fields are too long");
        let mut raw = Raw::connect(addr);
        let fits = raw.exchange(format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(990)));
        assert_eq!(fits.status, 200);
        // A transfer coding that does not end in chunked leaves the body unframed: 400.
        let resp = refused(addr, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_error(&resp, 400, "Bad Request", "Bad request syntax");
        // 501: a transfer coding the server cannot decode, and a method token too long.
        let resp = refused(addr, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_error(&resp, 501, "Method Not Implemented", "Server does not support this method");
        let resp = refused(addr, format!("{} /hello HTTP/1.1\r\n\r\n", "M".repeat(40)));
        assert_eq!(resp.status, 501);
        // 505: a version other than 1.0 and 1.1.
        let resp = refused(addr, "GET /hello HTTP/2.0\r\n\r\n");
        assert_error(&resp, 505, "Version Not Supported", "HTTP version not supported by server");
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_request_head_answers_408() {
    let mut config = config();
    config.connection.recv_wait_timeout_ms = 300;
    let (server, addr) = start_with(config).await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send("GET /hello HTTP/1.1\r\nHost: loc");
        let resp = raw.response();
        assert_error(&resp, 408, "Request Timeout", "Server closed this connection");
        assert!(resp.says_close());
        raw.assert_closed();
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_connections_are_reused() {
    let (server, addr) = start().await;
    let (py, curl_run) = blocking(move || {
        let py = py_sequence(addr, &["GET /hello", "GET /hello/type_html", "PUT /echo reuse", "GET /hello/status_500"]);
        let curl_run = curl(&["-v", &url(addr, "/hello"), &url(addr, "/hello/type_html")]);
        (py, curl_run)
    })
    .await;
    let statuses: Vec<u16> = py.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 200, 500]);
    assert_eq!(py[2].body, "reuse");
    assert!(py.iter().all(|r| r.local_port == py[0].local_port), "{py:?}");
    assert_eq!(curl_run.stdout_text(), "Hello World!Hello World!");
    assert!(curl_run.stderr.contains("Re-using"), "curl opened a second connection:\n{}", curl_run.stderr);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_third_connection_waits_while_two_sessions_are_open() {
    let (server, addr) = start_with(Config { max_open_sockets: 2, ..config() }).await;
    let handle = server.handle();
    let (a, mut b) = blocking(move || {
        let mut a = Raw::connect(addr);
        let mut b = Raw::connect(addr);
        assert_eq!(a.exchange(get("/hello")).status, 200);
        assert_eq!(b.exchange(get("/hello")).status, 200);
        (a, b)
    })
    .await;
    assert_eq!(handle.client_list().len(), 2);
    let mut c = blocking(move || {
        // The connection is made (the listen backlog takes it) but not served.
        let mut c = Raw::connect(addr);
        c.send(get("/hello"));
        c.set_read_timeout(Duration::from_millis(400));
        assert!(!c.closed(), "the third connection was answered while two sessions were open");
        c
    })
    .await;
    assert_eq!(handle.client_list().len(), 2);
    // One of the first two leaves: the third is served.
    drop(a);
    c = blocking(move || {
        c.set_read_timeout(support::READ_TIMEOUT);
        let resp = c.response();
        assert_eq!((resp.status, resp.text().as_str()), (200, "Hello World!"));
        c
    })
    .await;
    // b was never disturbed.
    b = blocking(move || {
        assert_eq!(b.exchange(get("/hello")).status, 200);
        b
    })
    .await;
    assert!(eventually(Duration::from_secs(2), || handle.client_list().len() == 2).await);
    drop((b, c));
    assert!(eventually(Duration::from_secs(2), || handle.client_list().is_empty()).await);
    server.stop().await;
}

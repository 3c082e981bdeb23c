//! The embassy port of ESP-IDF's `advanced_tests` server, as the firmware runs it, served to
//! curl over a real socket (`serve_connection` on a std stream) and to the embassy client over
//! two embassy-net stacks in memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;
#[path = "../../tern-embassy/tests/support/mod.rs"]
mod support;

use std::net::TcpListener;

use embassy_futures::join::join;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use tern_embassy::client::Client;
use tern_embassy::net::TcpTransport;
use tern_embassy::server::{DefaultSessionBuffers, Server};
use tern_embassy_examples::advanced_tests::{self, AdvancedTests};
use tern_proto::client::ClientConfig;

type App = AdvancedTests<CriticalSectionRawMutex, 7>;
type TestServer = Server<App, CriticalSectionRawMutex, 1, 9>;

fn server() -> TestServer {
    let server = Server::new(advanced_tests::config(80), App::new());
    advanced_tests::register(&server).unwrap();
    server
}

#[test]
fn curl_gets_what_esp_idf_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    common::serve_real_socket(server(), listener);

    let (out, _) = common::curl(&[&format!("{base}/hello")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\n"), "{out}");
    assert!(out.contains("Content-Type: text/html\n") && out.ends_with("\n\nHello World!"), "{out}");

    let (out, _) = common::curl(&[&format!("{base}/hello/status_500")]);
    assert!(out.starts_with("HTTP/1.1 500 Internal Server Error\n") && out.ends_with("Hello World!"), "{out}");

    let (out, _) = common::curl(&["-d", "some body", "-H", "Custom: abc", &format!("{base}/echo")]);
    assert!(out.contains("\nCustom: abc\n") && out.ends_with("\n\nsome body"), "{out}");
    let (out, _) = common::curl(&["-X", "PUT", "-d", "put body", &format!("{base}/echo")]);
    assert!(out.ends_with("\n\nput body") && !out.contains("Custom:"), "{out}");

    let url = format!("{base}/test_header");
    let (out, _) = common::curl(&["-H", "Header1: Value1", "-H", "Header2: the answer", "-H", "Header3: Value3", &url]);
    assert!(out.starts_with("HTTP/1.1 200 OK\n") && out.ends_with("\n\nthe answer"), "{out}");
    let (out, _) = common::curl(&["-H", "Header1: Value1", "-H", "Header2: x", "-H", "Header3: Wrong", &url]);
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\n") && out.ends_with("Wrong value of Header3 received"), "{out}");
    let (out, _) = common::curl(&["-H", "Header1: Value1", "-H", "Header3: Value3", &url]);
    assert!(out.ends_with("Header2 not found"), "{out}");

    // At most 10 bytes are read; the rest is discarded and the session goes on.
    let url = format!("{base}/leftover_data");
    // (curl's -i and -v stop at --next: the second answer comes without its head.)
    let (out, err) = common::curl(&["-v", "-d", "0123456789abcdef", &url, "--next", "-d", "second", &url]);
    assert!(out.ends_with("\n\n0123456789second"), "{out}");
    assert!(err.contains("Re-using existing connection"), "one session for both: {err}");

    // The sum is the session's: two posts on one connection, then a fresh one.
    let url = format!("{base}/adder");
    let (out, err) = common::curl(&["-v", "-d", "5", &url, "--next", "-d", "7", &url]);
    assert!(out.ends_with("\n\n512"), "5, then 12: {out}");
    assert!(err.contains("Re-using existing connection"), "{err}");
    let (out, _) = common::curl(&["-d", "3", &url]);
    assert!(out.ends_with("\n\n3"), "a new session starts from 0: {out}");

    let (out, _) = common::curl(&[&format!("{base}/nowhere")]);
    assert!(out.starts_with("HTTP/1.1 404 Not Found\n"), "{out}");
    // GET is served elsewhere, not on /echo: 405 with Allow. No route serves DELETE: 501.
    let (out, _) = common::curl(&[&format!("{base}/echo")]);
    assert!(out.starts_with("HTTP/1.1 405 Method Not Allowed\n") && out.contains("\nAllow: POST, PUT\n"), "{out}");
    let (out, _) = common::curl(&["-X", "DELETE", &format!("{base}/echo")]);
    assert!(out.starts_with("HTTP/1.1 501 Method Not Implemented\n"), "{out}");
}

#[test]
fn the_embassy_client_gets_hello_and_keeps_a_sum_over_embassy_net() {
    let server = server();
    support::run(async |a, b| {
        let mut bufs = DefaultSessionBuffers::new();
        let test = async {
            let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 2048]);
            let mut engine = vec![0u8; ClientConfig::default().buffer_len()];
            let mut piece = [0u8; 64];
            let transport = TcpTransport::new(b, &mut rx, &mut tx);
            let fetched =
                tern_embassy_examples::fetch::get("http://10.0.0.1/hello", &mut engine, transport, &mut piece)
                    .await
                    .unwrap();
            assert_eq!(fetched, tern_embassy_examples::fetch::Fetched { status: 200, body_len: 12 });

            let config = ClientConfig {
                url: Some("http://10.0.0.1/adder"),
                method: tern_proto::Method::Post,
                ..ClientConfig::default()
            };
            let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 2048]);
            let mut client = Client::new(&config, &mut engine, TcpTransport::new(b, &mut rx, &mut tx)).unwrap();
            let mut sums = Vec::new();
            for value in ["10", "-3", "100"] {
                client.set_post_field(Some(value.as_bytes())).unwrap();
                client.open(Some(value.len() as u64)).await.unwrap();
                client.write(value.as_bytes()).await.unwrap();
                client.fetch_headers().await.unwrap();
                let n = client.read_response(&mut piece).await.unwrap();
                sums.push(String::from_utf8(piece[..n].to_vec()).unwrap());
            }
            client.close().await.unwrap();
            server.stop();
            sums
        };
        let (served, sums) = join(server.serve(a, &mut bufs), test).await;
        assert_eq!(served, Ok(()));
        assert_eq!(sums, ["10", "7", "107"]);
    });
}

//! The programs of docs/migration.md, run: the `migration_server` example on a loopback port,
//! driven by the `migration_client` example and by raw TCP (`/hello`, `/echo` in pieces, the
//! 404 handler keeping the session, LRU purge at 4 sessions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's `pub` items are for the tests
#[path = "../examples/migration_client.rs"]
mod migration_client;
#[allow(unreachable_pub)]
#[path = "../examples/migration_server.rs"]
mod migration_server;
mod support;

use std::net::SocketAddr;

use migration_client::Outcome;
use support::{Raw, blocking, get, on_loopback};
use tern_tokio::server::Server;

async fn start() -> (Server, SocketAddr) {
    let server = migration_server::start(on_loopback(migration_server::config(0))).await.unwrap();
    let addr = server.local_addr();
    (server, addr)
}

fn assert_hello(resp: &support::Resp) {
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.header("Content-Type"), Some("text/plain"));
    assert_eq!(resp.text(), "Hello World!");
}

#[test]
fn the_migration_guide_shows_both_examples_word_for_word() {
    let guide = include_str!("../../../docs/migration.md");
    for (file, text) in [
        ("migration_client.rs", include_str!("../examples/migration_client.rs")),
        ("migration_server.rs", include_str!("../examples/migration_server.rs")),
    ] {
        assert!(guide.contains(text), "docs/migration.md no longer shows examples/{file} as it is: copy it in again");
    }
}

#[test]
fn the_server_is_configured_as_the_c_program() {
    let config = migration_server::config(8006);
    assert_eq!(config.server_port, 8006);
    assert_eq!(config.max_open_sockets, 4);
    assert!(config.lru_purge_enable);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_example_gets_hello_and_posts_json_to_the_server_example() {
    let (server, addr) = start().await;
    let outcomes = migration_client::run(&format!("http://{addr}/hello")).await.unwrap();
    assert_eq!(
        outcomes,
        [Outcome { status: 200, body_len: 12 }, Outcome { status: 200, body_len: migration_client::JSON.len() }]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_sends_the_body_back_in_pieces_as_it_reads_it() {
    let (server, addr) = start().await;
    let body: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let sent = body.clone();
    let resp = blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send(format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", sent.len()));
        raw.send(&sent);
        let resp = raw.response();
        // The session goes on.
        assert_hello(&raw.exchange(get("/hello")));
        resp
    })
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(resp.body, body);
    assert!(resp.chunks.iter().all(|&n| (1..=migration_server::PIECE).contains(&n)), "{:?}", resp.chunks);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_upload_is_echoed_too() {
    let (server, addr) = start().await;
    let resp = blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    })
    .await;
    assert_eq!((resp.status, resp.text().as_str()), (200, "hello world"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_uris_get_the_404_handler_and_the_session_goes_on() {
    let (server, addr) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        let resp = raw.exchange(get("/nowhere"));
        assert_eq!((resp.status, resp.text().as_str()), (404, "No such URI"));
        assert!(!resp.says_close(), "{resp:?}");
        assert_hello(&raw.exchange(get("/hello")));
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fifth_client_purges_the_least_recently_used_session() {
    let (server, addr) = start().await;
    let handle = server.handle();
    let mut clients = blocking(move || {
        (0..4)
            .map(|_| {
                let mut raw = Raw::connect(addr);
                assert_hello(&raw.exchange(get("/hello")));
                raw
            })
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(handle.client_list().len(), 4);
    clients = blocking(move || {
        let mut fifth = Raw::connect(addr);
        assert_hello(&fifth.exchange(get("/hello")));
        // The first client was the least recently used: closed to make room.
        clients[0].assert_closed();
        assert_hello(&clients[1].exchange(get("/hello")));
        clients.push(fifth);
        clients
    })
    .await;
    assert!(handle.client_list().len() <= 4);
    drop(clients);
    server.stop().await;
}

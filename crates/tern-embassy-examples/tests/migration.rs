//! The embassy programs of docs/migration.md (`tern_embassy_examples::migration`), as the
//! firmware would run them: the server served to curl over a real socket
//! (`serve_connection` on a std stream), and to the embassy client over two embassy-net
//! stacks in memory, with one serving task per session and one more for LRU purge.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;
#[path = "../../tern-embassy/tests/support/mod.rs"]
mod support;

use std::net::TcpListener;

use embassy_futures::join::{join, join_array};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use tern_embassy::client::Client;
use tern_embassy::net::TcpTransport;
use tern_embassy::server::{DefaultSessionBuffers, Server};
use tern_embassy_examples::migration::{self, App, AppServer, JSON, MAX_OPEN_SOCKETS, Outcome, TASKS};
use tern_proto::client::ClientConfig;

type TestServer = AppServer<CriticalSectionRawMutex>;

fn server() -> TestServer {
    let server = Server::new(migration::config(80), App);
    migration::register(&server).unwrap();
    server
}

#[test]
fn the_migration_guide_shows_the_module_word_for_word() {
    // The guide shows the module in two parts: the server, then the client from `Outcome` on.
    let guide = include_str!("../../../docs/migration.md");
    let module = include_str!("../src/migration.rs");
    let (server, client) = module.split_at(module.find("/// What one request got back.").unwrap());
    for part in [server.trim_end(), client] {
        assert!(guide.contains(part), "docs/migration.md no longer shows src/migration.rs as it is: copy it in again");
    }
}

#[test]
fn the_server_is_configured_as_the_c_program() {
    let config = migration::config(80);
    assert_eq!((config.server_port, config.max_open_sockets, config.lru_purge_enable), (80, 4, true));
    const { assert!(TASKS > MAX_OPEN_SOCKETS, "LRU purge needs a task beyond the sessions") };
}

#[test]
fn curl_gets_hello_an_echo_in_chunks_and_the_404_handler() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    common::serve_real_socket(server(), listener);

    let (out, _) = common::curl(&[&format!("{base}/hello")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\n"), "{out}");
    assert!(out.contains("\nContent-Type: text/plain\n") && out.ends_with("\n\nHello World!"), "{out}");

    // A body of several pieces comes back chunked, whole.
    let body: String = (0..1000u32).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let (out, _) = common::curl(&["--data-binary", &body, &format!("{base}/echo")]);
    assert!(out.contains("\nTransfer-Encoding: chunked\n"), "{out}");
    assert!(out.ends_with(&format!("\n\n{body}")), "{out}");

    // The 404 handler answers and keeps the session.
    let (out, err) = common::curl(&["-v", &format!("{base}/nowhere"), "--next", &format!("{base}/hello")]);
    assert!(out.starts_with("HTTP/1.1 404 Not Found\n"), "{out}");
    assert!(out.contains("\n\nNo such URI") && out.ends_with("Hello World!"), "{out}");
    assert!(err.contains("Re-using existing connection"), "one session for both: {err}");
}

#[test]
fn the_embassy_client_gets_hello_and_posts_json_over_embassy_net() {
    let server = server();
    support::run(async |a, b| {
        let mut bufs = DefaultSessionBuffers::new();
        let test = async {
            let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 2048]);
            let mut engine = vec![0u8; ClientConfig::default().buffer_len()];
            let transport = TcpTransport::new(b, &mut rx, &mut tx);
            let outcomes = migration::client("http://10.0.0.1/hello", &mut engine, transport).await;
            server.stop();
            outcomes
        };
        let (served, outcomes) = join(server.serve(a, &mut bufs), test).await;
        assert_eq!(served, Ok(()));
        assert_eq!(
            outcomes.unwrap(),
            [Outcome { status: 200, body_len: 12 }, Outcome { status: 200, body_len: JSON.len() }]
        );
    });
}

#[test]
fn with_every_session_taken_a_new_client_purges_the_least_recently_used() {
    let server = server();
    support::run(async |a, b| {
        let mut bufs = Box::new([const { DefaultSessionBuffers::new() }; TASKS]);
        let serving = join_array(bufs.each_mut().map(|bufs| server.serve(a, bufs)));
        let test = async {
            let config = ClientConfig { url: Some("http://10.0.0.1/hello"), ..ClientConfig::default() };
            let mut memory: Vec<_> =
                (0..5).map(|_| (vec![0u8; config.buffer_len()], vec![0u8; 2048], vec![0u8; 2048])).collect();
            let mut clients: Vec<_> = memory
                .iter_mut()
                .map(|(engine, rx, tx)| Client::new(&config, engine, TcpTransport::new(b, rx, tx)).unwrap())
                .collect();
            // Four sessions, the first the least recently used.
            for client in &mut clients[..4] {
                client.perform().await.unwrap();
                assert_eq!(client.status_code().map(|s| s.as_u16()), Some(200));
            }
            assert_eq!(server.open_sessions(), MAX_OPEN_SOCKETS);
            // A fifth client is served at once: the first session was closed for it.
            clients[4].perform().await.unwrap();
            assert_eq!(clients[4].status_code().map(|s| s.as_u16()), Some(200));
            assert_eq!(server.open_sessions(), MAX_OPEN_SOCKETS);
            // The first client finds its connection gone and connects again (a GET is retried).
            clients[0].perform().await.unwrap();
            assert_eq!((clients[0].status_code().map(|s| s.as_u16()), clients[0].connects()), (Some(200), 2));
            // The third kept its session.
            clients[2].perform().await.unwrap();
            assert_eq!(clients[2].connects(), 1);
            for client in &mut clients {
                client.close().await.unwrap();
            }
            server.stop();
        };
        let (served, ()) = join(serving, test).await;
        assert!(served.iter().all(|r| *r == Ok(())), "{served:?}");
    });
}

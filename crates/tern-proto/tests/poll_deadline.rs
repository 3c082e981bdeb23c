//! `poll_with_deadline`: the action and the deadline that poll armed, together, for adapters
//! that await the action's I/O while it borrows the engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::time::Duration;

use tern_proto::Instant;
use tern_proto::client::{Action, ClientConfig};
use tern_proto::server::{self, Connection, ServerConfig, SessionId};

#[test]
fn the_client_reports_the_deadline_its_poll_armed() {
    let config = ClientConfig {
        url: Some("http://esp32.local/"),
        timeout: Duration::from_millis(700),
        ..ClientConfig::default()
    };
    let (mut client, _log) = support::client(&config);
    let t0 = Instant::from_millis(1_000);
    client.perform(t0).unwrap();
    // Before the first poll nothing is armed: a wait bounded by deadline() would be unbounded.
    assert_eq!(client.deadline(), None);
    let (action, deadline) = client.poll_with_deadline(t0);
    assert!(matches!(action, Action::Connect(_)));
    assert_eq!(deadline, Some(Instant::from_millis(1_700)));
    assert_eq!(client.deadline(), deadline);
    client.connected(Instant::from_millis(1_100));
    let (action, deadline) = client.poll_with_deadline(Instant::from_millis(1_100));
    assert!(matches!(action, Action::Transmit(_)));
    assert_eq!(deadline, client.deadline());
    assert!(deadline.is_some());
}

#[test]
fn the_server_reports_the_deadline_its_poll_armed() {
    let config = ServerConfig { recv_wait_timeout_ms: 300, idle_timeout_ms: Some(9_000), ..ServerConfig::default() };
    let mut conn = Connection::new(vec![0u8; config.buffer_len()], config, SessionId(1)).unwrap();
    let t0 = Instant::from_millis(50);
    assert_eq!(conn.deadline(), None);
    let (action, deadline) = conn.poll_with_deadline(t0);
    let server::Action::Receive(buf) = action else { panic!("the first action is a read") };
    // Half a request head: from here on the head must arrive within recv_wait_timeout.
    buf[..5].copy_from_slice(b"GET /");
    assert_eq!(deadline, Some(Instant::from_millis(9_050)), "idle: the idle timeout");
    conn.received(5, Instant::from_millis(60));
    let (action, deadline) = conn.poll_with_deadline(Instant::from_millis(60));
    assert!(matches!(action, server::Action::Receive(_)));
    assert_eq!(deadline, conn.deadline());
    assert_eq!(deadline, Some(Instant::from_millis(360)), "a head under way: recv_wait_timeout from its first byte");
}

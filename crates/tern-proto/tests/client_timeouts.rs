//! Timeouts as deadlines: per operation (`timeout`), for a whole `perform`
//! (`request_timeout`), and what a timeout does to the connection: it is closed, so a late
//! response never leaks into the next request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::time::Duration;

use support::{Conn, Done, Ev, Gate, Peer, client, client_for, data_of, perform, status};
use tern_proto::Instant;
use tern_proto::client::{ClientConfig, ClientError, EventId, Stage, State};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh";

#[test]
fn silent_server_times_out_closes_and_the_late_response_never_leaks() {
    let (mut client, log) = client_for("http://example.test/first");
    let stale = Conn::default().reply(Gate::At(7000), b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale");
    let mut peer = Peer::new([stale, Conn::answer(OK)]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveHead)));
    assert_eq!(peer.now, Instant::from_millis(5000), "the default timeout is 5 s");
    let events = log.take();
    let ids: Vec<(EventId, State)> = events.iter().rev().take(2).rev().map(|(id, s, _)| (*id, *s)).collect();
    assert_eq!(ids, [(EventId::Error, State::ReqCompleteData), (EventId::Disconnected, State::Init)]);
    assert!(!peer.is_open(), "the connection was closed");
    assert_eq!(client.state(), State::Init);
    assert_eq!(client.deadline(), None);
    assert_eq!(ClientError::Timeout(Stage::ReceiveHead).esp_err(), 0x7007);

    // Time passes beyond the late answer; the next request gets its own response.
    peer.now = Instant::from_millis(8000);
    client.set_url("/second").unwrap();
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(data_of(&log.take()), b"fresh");
    assert_eq!(peer.connects, 2);
    assert_eq!(peer.requests(1)[0].line(), "GET /second HTTP/1.1");
}

#[test]
fn body_timeout_is_receive_body() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), Conn::answer(OK)]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveBody)));
    assert_eq!(ClientError::Timeout(Stage::ReceiveBody).esp_err(), 0x700B);
    let events = log.take();
    assert_eq!(data_of(&events), b"abc");
    assert!(!events.iter().any(|(id, _, _)| *id == EventId::OnFinish));
    assert!(!client.is_complete_data_received());
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(client.connects(), 2);
}

#[test]
fn set_timeout_changes_the_per_operation_timeout() {
    let (mut client, _log) = client_for("http://example.test/");
    client.set_timeout(Duration::from_millis(2000));
    let mut peer = Peer::new([Conn::silent()]);
    peer.idle_step = 100;
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveHead)));
    assert_eq!(peer.now, Instant::from_millis(2000));
}

#[test]
fn the_per_operation_timeout_restarts_with_each_read() {
    // Ten pieces, one a second: 10 s in all, never 5 s without a byte.
    let mut conn = Conn::default().reply(Gate::At(1000), b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
    for i in 0..9u64 {
        conn = conn.reply(Gate::At(2000 + i * 1000), b"x");
    }
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([conn]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(data_of(&log.take()), b"xxxxxxxxx");
    assert_eq!(peer.now, Instant::from_millis(10_000));
    assert_eq!(client.deadline(), None, "no deadline while idle");
}

#[test]
fn request_timeout_bounds_the_whole_perform() {
    let mut conn = Conn::default().reply(Gate::At(1000), b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
    for i in 0..9u64 {
        conn = conn.reply(Gate::At(2000 + i * 1000), b"x");
    }
    let config = ClientConfig {
        url: Some("http://example.test/"),
        request_timeout: Some(Duration::from_millis(4500)),
        ..ClientConfig::default()
    };
    let (mut client, log) = client(&config);
    let mut peer = Peer::new([conn]);
    peer.idle_step = 100;
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveBody)));
    assert_eq!(peer.now, Instant::from_millis(4500));
    assert_eq!(data_of(&log.take()), b"xxx");
    assert!(!peer.is_open());
}

#[test]
fn request_timeout_spans_redirect_hops() {
    let config = ClientConfig {
        url: Some("http://example.test/a"),
        request_timeout: Some(Duration::from_millis(3000)),
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    let conn = Conn::default()
        .reply(Gate::At(2000), b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n")
        .reply(Gate::At(4000), OK);
    let mut peer = Peer::new([conn]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveHead)));
    assert_eq!(peer.requests(0).len(), 2);
    assert_eq!(peer.now, Instant::from_millis(3000));
}

#[test]
fn request_timeout_starts_again_with_each_perform() {
    let config = ClientConfig {
        url: Some("http://example.test/"),
        request_timeout: Some(Duration::from_millis(3000)),
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    let conn = Conn::default().reply(Gate::At(2000), OK).reply(Gate::At(4000), OK);
    let mut peer = Peer::new([conn]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(client.deadline(), None);
    peer.now = Instant::from_millis(2500);
    // This one starts at 2.5 s: its deadline is 5.5 s, and the answer comes at 4 s.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
}

#[test]
fn set_request_timeout_applies_to_the_next_perform() {
    let (mut client, _log) = client_for("http://example.test/");
    client.set_request_timeout(Some(Duration::from_millis(1500)));
    let mut peer = Peer::new([Conn::default().reply(Gate::At(2000), OK)]);
    peer.idle_step = 500;
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveHead)));
    assert_eq!(peer.now, Instant::from_millis(1500));
}

#[test]
fn streamed_fetch_headers_and_read_time_out_and_close() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([
        Conn::silent(),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        Conn::answer(OK),
    ]);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    assert_eq!(peer.run(&mut client), Err(ClientError::Timeout(Stage::ReceiveHead)));
    assert!(!peer.is_open());
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    client.read().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Data(b"abc".to_vec()));
    client.consume(3);
    client.read().unwrap();
    assert_eq!(peer.run(&mut client), Err(ClientError::Timeout(Stage::ReceiveBody)));
    assert!(log.take().iter().any(|(_, _, e)| *e == Ev::Error(ClientError::Timeout(Stage::ReceiveBody))));
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(client.connects(), 3);
}

#[test]
fn an_idle_client_has_no_deadline_and_ignores_handle_timeout() {
    let (mut client, log) = client_for("http://example.test/");
    assert_eq!(client.deadline(), None);
    client.handle_timeout(Instant::from_millis(1_000_000));
    assert!(log.take().is_empty());
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(client.deadline(), None);
    client.handle_timeout(Instant::from_millis(1_000_000));
    assert!(!log.take().iter().any(|(id, _, _)| *id == EventId::Error));
    assert_eq!(client.state(), State::Connected);
}

#[test]
fn a_streamed_write_that_cannot_go_out_times_out() {
    let config = ClientConfig { url: Some("http://example.test/"), ..ClientConfig::default() };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::silent()]);
    client.open(Some(3), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    assert_eq!(client.deadline(), None, "no deadline between operations");
    // The adapter cannot write (the peer's window is shut) for 5 s.
    let start = Instant::from_millis(60_000);
    assert_eq!(client.write(b"abc").unwrap(), 3);
    assert!(matches!(client.poll(start), tern_proto::client::Action::Transmit(_)));
    assert_eq!(client.deadline(), Some(Instant::from_millis(65_000)));
    client.handle_timeout(Instant::from_millis(65_000));
    assert!(matches!(client.poll(Instant::from_millis(65_000)), tern_proto::client::Action::Close));
    client.closed();
    match client.poll(Instant::from_millis(65_000)) {
        tern_proto::client::Action::Done(Err(e)) => assert_eq!(e, ClientError::Timeout(Stage::Send)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn flush_response_times_out_on_a_silent_body() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")]);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    peer.now = Instant::from_millis(100_000);
    client.flush_response().unwrap();
    assert_eq!(peer.run(&mut client), Err(ClientError::Timeout(Stage::ReceiveBody)));
    assert_eq!(peer.now, Instant::from_millis(105_000));
}

#[test]
fn between_streamed_operations_nothing_times_out_until_the_next_call() {
    let config = ClientConfig {
        url: Some("http://example.test/"),
        request_timeout: Some(Duration::from_millis(10_000)),
        ..ClientConfig::default()
    };
    let (mut client, log) = client(&config);
    let r: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    let mut peer = Peer::new([Conn::answers(&[r, r])]);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    assert_eq!(support::read_all(&mut peer, &mut client).unwrap(), b"abc");
    // Idle: the adapter has nothing to wait for, and a stray handle_timeout does nothing.
    assert_eq!(client.deadline(), None);
    client.handle_timeout(Instant::from_millis(50_000));
    assert!(!log.take().iter().any(|(id, _, _)| *id == EventId::Error));
    assert_eq!(client.state(), State::ResOnDataStart);
    // The connection is still there for the next request.
    peer.now = Instant::from_millis(60_000);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    assert_eq!(client.connects(), 1);
}

#[test]
fn the_request_deadline_still_applies_to_the_next_streamed_call() {
    let config = ClientConfig {
        url: Some("http://example.test/"),
        request_timeout: Some(Duration::from_millis(10_000)),
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]);
    client.open(Some(3), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    // The application comes back after the whole-request deadline.
    peer.now = Instant::from_millis(20_000);
    client.write(b"abc").unwrap();
    assert_eq!(peer.run(&mut client), Err(ClientError::Timeout(Stage::Send)));
}

//! Connection reuse: keep-alive and close counted in connects, `keep_alive: false`, origin
//! changes, and the one transparent retry of an idempotent request on a dead reused
//! connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Ev, Peer, client, client_for, data_of, perform, status};
use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, EventId, Stage, State};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn keep_alive_makes_one_connect_for_three_performs() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[OK, OK, OK])]);
    for _ in 0..3 {
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(client.state(), State::Connected);
        assert!(client.is_persistent_connection());
    }
    assert_eq!(client.connects(), 1);
    assert_eq!(peer.connects, 1);
    assert_eq!(peer.closes, 0);
    assert_eq!(peer.requests(0).len(), 3);
}

#[test]
fn connection_close_makes_three_connects_for_three_performs() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer =
        Peer::new([Conn::answer_and_close(CLOSE), Conn::answer_and_close(CLOSE), Conn::answer_and_close(CLOSE)]);
    for _ in 0..3 {
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(client.state(), State::Init);
        assert!(!client.is_persistent_connection());
    }
    assert_eq!(client.connects(), 3);
    assert_eq!(peer.closes, 3);
}

#[test]
fn keep_alive_off_closes_after_each_request_whatever_the_server_says() {
    let config = ClientConfig { url: Some("http://example.test/"), keep_alive: false, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    // The server keeps its side open; the client asked for close and must not reuse it.
    let mut peer = Peer::new([Conn::answer(OK), Conn::answer(OK), Conn::answer(OK)]);
    for _ in 0..3 {
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(status(&client), 200);
        assert_eq!(client.state(), State::Init);
    }
    for i in 0..3 {
        assert_eq!(peer.requests(i)[0].header("Connection"), Some("close"));
    }
    assert_eq!(client.connects(), 3);
    assert_eq!(peer.closes, 3);
    assert_eq!(log.take_shape().last(), Some(&EventId::Disconnected));
}

#[test]
fn a_caller_set_connection_close_closes_too() {
    let (mut client, _log) = client_for("http://example.test/");
    client.set_header("Connection", "close").unwrap();
    let mut peer = Peer::new([Conn::answer(OK), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].header("Connection"), Some("close"));
    assert_eq!(client.connects(), 2);
}

#[test]
fn keep_alive_off_with_a_caller_keep_alive_header_reuses() {
    let config = ClientConfig { url: Some("http://example.test/"), keep_alive: false, ..ClientConfig::default() };
    let (mut client, _log) = client(&config);
    client.set_header("Connection", "keep-alive").unwrap();
    let mut peer = Peer::new([Conn::answers(&[OK, OK])]);
    perform(&mut peer, &mut client).unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].header("Connection"), Some("keep-alive"));
    assert_eq!(client.connects(), 1);
}

#[test]
fn set_url_to_another_host_reconnects_and_a_path_change_does_not() {
    let (mut client, _log) = client_for("http://a.test/one");
    let mut peer = Peer::new([Conn::answers(&[OK, OK]), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    client.set_url("/two?x").unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[1].line(), "GET /two?x HTTP/1.1");
    client.set_url("http://b.test/three").unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(1)[0].line(), "GET /three HTTP/1.1");
    assert_eq!(peer.requests(1)[0].header("Host"), Some("b.test"));
    assert_eq!(client.connects(), 2);
    assert_eq!(peer.closes, 1);
}

#[test]
fn dead_reused_connection_is_retried_once_for_get() {
    let (mut client, log) = client_for("http://example.test/");
    // The server answers once, then closes the idle connection.
    let mut peer = Peer::new([Conn::answer(OK).then_close(), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    log.take();
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 200);
    let events = log.take();
    assert!(!events.iter().any(|(id, _, _)| *id == EventId::Error), "{events:?}");
    assert_eq!(
        events
            .iter()
            .map(|(id, _, _)| *id)
            .filter(|id| matches!(id, EventId::Disconnected | EventId::OnConnected))
            .collect::<Vec<_>>(),
        [EventId::Disconnected, EventId::OnConnected]
    );
    assert_eq!(data_of(&events), b"ok");
    assert_eq!(peer.requests(0).len(), 2, "the request went out on the dead connection first");
    assert_eq!(peer.requests(1).len(), 1);
    assert_eq!(client.connects(), 2);
}

#[test]
fn dead_reused_connection_reset_is_retried_for_idempotent_methods() {
    for method in [Method::Get, Method::Head, Method::Put, Method::Delete, Method::Options] {
        let config = ClientConfig { url: Some("http://example.test/"), method, ..ClientConfig::default() };
        let (mut client, _log) = client(&config);
        let mut peer = Peer::new([Conn::answer(OK).then_reset(), Conn::answer(OK)]);
        perform(&mut peer, &mut client).unwrap();
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(client.connects(), 2, "{method:?}");
    }
}

#[test]
fn dead_reused_connection_is_not_retried_for_post() {
    for method in [Method::Post, Method::Patch] {
        let config = ClientConfig { url: Some("http://example.test/"), method, ..ClientConfig::default() };
        let (mut client, log) = client(&config);
        client.set_post_field(Some(b"once")).unwrap();
        let mut peer = Peer::new([Conn::answer(OK).then_close(), Conn::answer(OK)]);
        perform(&mut peer, &mut client).unwrap();
        log.take();
        assert_eq!(perform(&mut peer, &mut client), Err(ClientError::ConnectionClosed(Stage::ReceiveHead)));
        let events = log.take();
        assert_eq!(events.iter().filter(|(_, _, e)| matches!(e, Ev::Error(_))).count(), 1);
        assert_eq!(client.state(), State::Init);
        assert_eq!(client.connects(), 1, "{method:?}");
        // The application decides; the next perform connects again.
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(client.connects(), 2);
        assert_eq!(peer.requests(1)[0].body, b"once");
    }
}

#[test]
fn only_one_retry() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(OK).then_close(), Conn::default().then_close(), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::ConnectionClosed(Stage::ReceiveHead)));
    assert_eq!(client.connects(), 2);
}

#[test]
fn a_fresh_connection_closed_before_the_response_is_not_retried() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::default().then_close(), Conn::answer(OK)]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::ConnectionClosed(Stage::ReceiveHead)));
    assert_eq!(client.connects(), 1);
    assert_eq!(ClientError::ConnectionClosed(Stage::ReceiveHead).esp_err(), 0x7008);
}

#[test]
fn a_reused_connection_closed_mid_response_is_not_retried() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[OK, b"HTTP/1.1 200 OK\r\nContent-Le"]).then_close(), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::ConnectionClosed(Stage::ReceiveHead)));
    assert_eq!(client.connects(), 1);
}

#[test]
fn the_retry_also_follows_redirects_and_stays_one_per_perform() {
    let (mut client, _log) = client_for("http://example.test/a");
    let mut peer = Peer::new([
        Conn::answer(OK).then_close(),
        Conn::answers(&[b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n"]).then_close(),
        Conn::answer(OK),
    ]);
    perform(&mut peer, &mut client).unwrap();
    // Dead connection: retried on a second one, which redirects and then dies too.
    let result = perform(&mut peer, &mut client);
    assert_eq!(result, Err(ClientError::ConnectionClosed(Stage::ReceiveHead)));
    assert_eq!(client.connects(), 2);
}

#[test]
fn a_reused_connection_that_fails_on_write_is_retried_for_get() {
    let (mut client, log) = client_for("http://example.test/");
    let first_len = 64; // the first request's head is shorter than this
    let mut peer = Peer::new([Conn::answer(OK).break_writes_at(first_len), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert!(peer.sent[0].len() < first_len);
    log.take();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert!(!log.take().iter().any(|(id, _, _)| *id == EventId::Error));
    assert_eq!(client.connects(), 2);
}

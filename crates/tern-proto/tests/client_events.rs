//! The client's events: ids, order and the state at each, for the exchanges ESP-IDF's own
//! characterization tests pin (GET, POST, redirect, auth retry, keep-alive, close).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Ev, Peer, client, client_for, data_of, perform, status};
use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, EventId, Stage, State};

use EventId::*;
use State::*;

#[test]
fn get_events_with_states_and_values() {
    let (mut client, log) = client_for("http://example.test/get");
    let mut peer = Peer::new([Conn::answer(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello",
    )]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    let events = log.take();
    let got: Vec<(EventId, State, Ev)> = events.clone();
    assert_eq!(
        got,
        [
            (OnConnected, Connected, Ev::Connected),
            (HeadersSent, ReqCompleteHeader, Ev::HeadersSent),
            (OnStatusCode, ReqCompleteData, Ev::Status(200)),
            (OnHeader, ReqCompleteData, Ev::Header("Content-Type".into(), "text/plain".into())),
            (OnHeader, ReqCompleteData, Ev::Header("Set-Cookie".into(), "a=1".into())),
            (OnHeader, ReqCompleteData, Ev::Header("Set-Cookie".into(), "b=2".into())),
            (OnHeader, ReqCompleteData, Ev::Header("Content-Length".into(), "5".into())),
            (OnHeadersComplete, ResCompleteHeader, Ev::HeadersComplete),
            (OnData, ResCompleteHeader, Ev::Data(b"hello".to_vec())),
            (OnFinish, ResOnDataStart, Ev::Finish),
        ]
    );
    assert_eq!(client.state(), Connected);
}

#[test]
fn post_with_post_field_events_and_wire() {
    let config =
        ClientConfig { url: Some("http://example.test/post"), method: Method::Post, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    client.set_post_field(Some(b"field1=value1&field2=value2")).unwrap();
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 201);
    assert_eq!(
        log.take_ids(),
        [
            (OnConnected, Connected),
            (HeadersSent, ReqCompleteHeader),
            (OnStatusCode, ReqCompleteData),
            (OnHeader, ReqCompleteData),
            (OnHeadersComplete, ResCompleteHeader),
            (OnData, ResCompleteHeader),
            (OnFinish, ResOnDataStart),
        ]
    );
    let req = &peer.requests(0)[0];
    assert_eq!(req.line(), "POST /post HTTP/1.1");
    assert_eq!(req.header("Content-Type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(req.header("Content-Length"), Some("27"));
    assert_eq!(req.body, b"field1=value1&field2=value2");
    // Head and a small body leave in one write.
    assert_eq!(peer.transmits, 1);
}

#[test]
fn redirect_fires_on_finish_per_hop_and_no_second_connect() {
    let (mut client, log) = client_for("http://example.test/old");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 3\r\n\r\nbye",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    ])]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    let events = log.take();
    let shape: Vec<EventId> =
        events.iter().map(|(id, _, _)| *id).filter(|id| !matches!(id, OnHeader | OnData)).collect();
    assert_eq!(
        shape,
        [
            OnConnected,
            HeadersSent,
            OnStatusCode,
            OnHeadersComplete,
            OnFinish,
            HeadersSent,
            OnStatusCode,
            OnHeadersComplete,
            OnFinish
        ]
    );
    let with_states: Vec<(EventId, State)> = events.iter().map(|(id, st, _)| (*id, *st)).collect();
    let hop = [
        (HeadersSent, ReqCompleteHeader),
        (OnStatusCode, ReqCompleteData),
        (OnHeader, ReqCompleteData),
        (OnHeader, ReqCompleteData),
        (OnHeadersComplete, ResCompleteHeader),
        (OnData, ResCompleteHeader),
        (OnFinish, ResOnDataStart),
    ];
    let second = [
        (HeadersSent, ReqCompleteHeader),
        (OnStatusCode, ReqCompleteData),
        (OnHeader, ReqCompleteData),
        (OnHeadersComplete, ResCompleteHeader),
        (OnData, ResCompleteHeader),
        (OnFinish, ResOnDataStart),
    ];
    let expected: Vec<(EventId, State)> = [(OnConnected, Connected)].into_iter().chain(hop).chain(second).collect();
    assert_eq!(with_states, expected);
    // The 3xx body is drained through ON_DATA too.
    assert_eq!(data_of(&events), b"byehi");
    // Automatic redirects are not announced to the handler.
    assert!(!events.iter().any(|(id, _, _)| *id == Redirect));
    assert_eq!(status(&client), 200);
    assert_eq!(peer.connects, 1);
    let reqs = peer.requests(0);
    assert_eq!(reqs[1].line(), "GET /new HTTP/1.1");
}

#[test]
fn auth_retry_events() {
    let config = ClientConfig {
        url: Some("http://example.test/secret"),
        username: Some("user"),
        password: Some("pass"),
        ..ClientConfig::default()
    };
    let (mut client, log) = client(&config);
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 4\r\n\r\nnope",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ])]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    let events = log.take();
    let statuses: Vec<&Ev> = events.iter().map(|(_, _, e)| e).filter(|e| matches!(e, Ev::Status(_))).collect();
    assert_eq!(statuses, [&Ev::Status(401), &Ev::Status(200)]);
    let shape: Vec<EventId> =
        events.iter().map(|(id, _, _)| *id).filter(|id| !matches!(id, OnHeader | OnData)).collect();
    assert_eq!(
        shape,
        [
            OnConnected,
            HeadersSent,
            OnStatusCode,
            OnHeadersComplete,
            OnFinish,
            HeadersSent,
            OnStatusCode,
            OnHeadersComplete,
            OnFinish
        ]
    );
    assert_eq!(data_of(&events), b"nopeok");
    let sent: Vec<State> = events.iter().filter(|(id, _, _)| *id == HeadersSent).map(|(_, s, _)| *s).collect();
    assert_eq!(sent, [ReqCompleteHeader, ReqCompleteHeader]);
    let finishes: Vec<State> = events.iter().filter(|(id, _, _)| *id == OnFinish).map(|(_, s, _)| *s).collect();
    assert_eq!(finishes, [ResOnDataStart, ResOnDataStart]);
    assert_eq!(peer.requests(0)[1].header("Authorization"), Some("Basic dXNlcjpwYXNz"));
}

#[test]
fn keep_alive_reuse_has_no_second_on_connected() {
    let (mut client, log) = client_for("http://example.test/a");
    let r: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    let mut peer = Peer::new([Conn::answers(&[r, r])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(log.take_shape(), [OnConnected, HeadersSent, OnStatusCode, OnHeadersComplete, OnFinish]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(
        log.take_ids(),
        [
            (HeadersSent, ReqCompleteHeader),
            (OnStatusCode, ReqCompleteData),
            (OnHeader, ReqCompleteData),
            (OnHeadersComplete, ResCompleteHeader),
            (OnData, ResCompleteHeader),
            (OnFinish, ResOnDataStart),
        ]
    );
    assert_eq!(client.connects(), 1);
}

#[test]
fn connection_close_response_gives_disconnected_then_init() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer =
        Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx")]);
    perform(&mut peer, &mut client).unwrap();
    let events = log.take();
    let tail: Vec<(EventId, State)> = events.iter().rev().take(2).rev().map(|(id, s, _)| (*id, *s)).collect();
    assert_eq!(tail, [(OnFinish, ResOnDataStart), (Disconnected, Init)]);
    assert_eq!(client.state(), Init);
    assert_eq!(peer.closes, 1);
}

#[test]
fn http10_response_without_keep_alive_closes() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx")]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(log.take_shape().last(), Some(&Disconnected));
    assert_eq!(client.state(), Init);
}

#[test]
fn http10_response_with_keep_alive_stays() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer =
        Peer::new([Conn::answer(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx")]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(log.take_shape().last(), Some(&OnFinish));
    assert_eq!(client.state(), Connected);
    assert!(client.is_persistent_connection());
}

#[test]
fn failure_gives_error_then_disconnected() {
    let (mut client, log) = client_for("http://example.test/a");
    // A Content-Length body cut short by the server.
    let mut peer = Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")]);
    let err = perform(&mut peer, &mut client).unwrap_err();
    assert_eq!(err, ClientError::IncompleteBody { received: 3 });
    let events = log.take();
    let tail: Vec<(EventId, State)> = events.iter().rev().take(2).rev().map(|(id, s, _)| (*id, *s)).collect();
    assert_eq!(tail, [(Error, ResOnDataStart), (Disconnected, Init)]);
    assert_eq!(events[events.len() - 2].2, Ev::Error(ClientError::IncompleteBody { received: 3 }));
    assert!(!events.iter().any(|(id, _, _)| *id == OnFinish));
    assert_eq!(client.state(), Init);
}

#[test]
fn refused_connect_gives_one_error_event_and_no_disconnected() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::refused()]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Connect));
    assert_eq!(log.take(), [(Error, Init, Ev::Error(ClientError::Connect))]);
}

#[test]
fn timeout_event_carries_the_stage() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::silent()]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Timeout(Stage::ReceiveHead)));
    let events = log.take();
    let tail: Vec<(EventId, State)> = events.iter().rev().take(2).rev().map(|(id, s, _)| (*id, *s)).collect();
    assert_eq!(tail, [(Error, ReqCompleteData), (Disconnected, Init)]);
}

//! The client's states against the seed diagrams: every transition of the sync and async
//! flows, checked with `state()` after each step of the driving loop and at each event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::time::Duration;

use support::{Conn, Done, Ev, Log, Peer, TestClient, client, client_for, read_all};
use tern_proto::Instant;
use tern_proto::Method;
use tern_proto::client::{Action, ClientConfig, ClientError, Completion, EventId, Stage, State};

use State::*;

/// Runs the current operation, returning its result and the states the client went through:
/// the state at each event and after each step, in order, without repeats.
fn traced(peer: &mut Peer, client: &mut TestClient, log: &Log) -> (Result<Done, ClientError>, Vec<State>) {
    fn push(trace: &mut Vec<State>, s: State) {
        if trace.last() != Some(&s) {
            trace.push(s);
        }
    }
    let mut trace = vec![client.state()];
    let mut seen = log.0.borrow().len();
    let mut catch_up = |trace: &mut Vec<State>| {
        let events = log.0.borrow();
        for (_, s, _) in &events[seen..] {
            push(trace, *s);
        }
        seen = events.len();
    };
    let result = peer.run_with(client, |c, _| {
        catch_up(&mut trace);
        push(&mut trace, c.state());
    });
    catch_up(&mut trace);
    push(&mut trace, client.state());
    (result, trace)
}

/// The states seen after each step, with the step's name.
fn step_states(peer: &mut Peer, client: &mut TestClient) -> (Result<Done, ClientError>, Vec<(String, State)>) {
    let mut steps = Vec::new();
    let result = peer.run_with(client, |c, step| steps.push((step.to_owned(), c.state())));
    (result, steps)
}

const BODY: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn ok_response() -> Vec<u8> {
    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", BODY.len()).into_bytes();
    r.extend_from_slice(BODY);
    r
}

#[test]
fn new_client_is_init() {
    let (client, log) = client_for("http://example.test/");
    assert_eq!(client.state(), Init);
    assert_eq!(client.state().as_u8(), 1);
    assert_eq!(State::Uninit.as_u8(), 0);
    assert!(log.take().is_empty());
}

#[test]
fn sync_keep_alive_get_walks_every_state_back_to_connected() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::answer(&ok_response())]).with_io_size(16);
    client.perform(peer.now).unwrap();
    assert_eq!(client.state(), Init, "perform only sets the goal");
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result.unwrap(), Done::Finished);
    assert_eq!(
        trace,
        [Init, Connecting, Connected, ReqCompleteHeader, ReqCompleteData, ResCompleteHeader, ResOnDataStart, Connected]
    );
    assert!(peer.is_open());
}

#[test]
fn sync_close_response_ends_in_init() {
    let (mut client, log) = client_for("http://example.test/a");
    let resp =
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 36\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz";
    let mut peer = Peer::new([Conn::answer_and_close(resp)]).with_io_size(16);
    client.perform(peer.now).unwrap();
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result.unwrap(), Done::Finished);
    assert_eq!(
        trace,
        [Init, Connecting, Connected, ReqCompleteHeader, ReqCompleteData, ResCompleteHeader, ResOnDataStart, Init]
    );
    assert!(!peer.is_open());
    assert_eq!(peer.closes, 1);
}

#[test]
fn states_after_each_step_of_a_get() {
    let (mut client, _log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::answer(&ok_response())]).with_io_size(16);
    client.perform(peer.now).unwrap();
    let (result, steps) = step_states(&mut peer, &mut client);
    assert_eq!(result.unwrap(), Done::Finished);
    // connect: CONNECTING until the adapter reports; then CONNECTED while the head goes out.
    assert_eq!(steps[0], ("connect".to_owned(), Connecting));
    assert_eq!(steps[1], ("connected".to_owned(), Connected));
    let transmits: Vec<_> = steps.iter().filter(|(s, _)| s == "transmitted").collect();
    assert!(transmits.len() > 1, "io_size 16 splits the head");
    assert!(transmits.iter().all(|(_, s)| *s == Connected));
    // Reading: REQ_COMPLETE_DATA until the head is parsed, then RES_ON_DATA_START.
    let receives: Vec<State> = steps.iter().filter(|(s, _)| s == "received").map(|(_, s)| *s).collect();
    let first_body = receives.iter().position(|s| *s == ResOnDataStart).unwrap();
    assert!(first_body > 0);
    assert!(receives[..first_body].iter().all(|s| *s == ReqCompleteData));
    assert!(receives[first_body..].iter().all(|s| *s == ResOnDataStart));
    assert_eq!(client.state(), Connected);
}

#[test]
fn post_body_larger_than_tx_shows_req_complete_header_while_the_body_goes_out() {
    static BIG: [u8; 1500] = [b'x'; 1500];
    let config = ClientConfig { url: Some("http://example.test/up"), method: Method::Post, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    client.set_post_field(Some(&BIG)).unwrap();
    let mut peer = Peer::new([Conn::answer(&ok_response())]).with_io_size(256);
    client.perform(peer.now).unwrap();
    let mut steps = Vec::new();
    let result = peer.run_with(&mut client, |c, step| steps.push((step.to_owned(), c.state())));
    assert_eq!(result.unwrap(), Done::Finished);
    let with_header_sent: Vec<_> = steps.iter().filter(|(_, s)| *s == ReqCompleteHeader).collect();
    assert!(!with_header_sent.is_empty(), "REQ_COMPLETE_HEADER is seen while the body is written: {steps:?}");
    assert!(with_header_sent.iter().all(|(step, _)| step == "transmitted"));
    let events = log.take_ids();
    assert!(events.contains(&(EventId::HeadersSent, ReqCompleteHeader)));
    assert_eq!(peer.requests(0)[0].body, BIG);
}

#[test]
fn keep_alive_second_perform_starts_from_connected_and_skips_connecting() {
    let (mut client, log) = client_for("http://example.test/a");
    let r = ok_response();
    let mut peer = Peer::new([Conn::answers(&[&r, &r])]).with_io_size(16);
    client.perform(peer.now).unwrap();
    peer.run(&mut client).unwrap();
    log.take();
    assert_eq!(client.state(), Connected);
    client.perform(peer.now).unwrap();
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result.unwrap(), Done::Finished);
    assert_eq!(trace, [Connected, ReqCompleteHeader, ReqCompleteData, ResCompleteHeader, ResOnDataStart, Connected]);
    assert_eq!(peer.connects, 1);
}

#[test]
fn async_connect_keeps_asking_to_connect_while_connecting() {
    let (mut client, log) = client_for("http://example.test:8080/a");
    let mut peer = Peer::new([Conn::answer(&ok_response())]);
    client.perform(peer.now).unwrap();
    // The adapter starts a non-blocking connect and returns: the engine stays CONNECTING.
    for poll in 0..3 {
        let now = Instant::from_millis(poll * 100);
        match client.poll(now) {
            Action::Connect(endpoint) => {
                assert_eq!((endpoint.host, endpoint.port), ("example.test", 8080));
            }
            other => panic!("poll {poll}: {other:?}"),
        }
        assert_eq!(client.state(), Connecting);
        // ESP-IDF's caller retries perform: resuming is a no-op.
        client.perform(now).unwrap();
        assert_eq!(client.state(), Connecting);
    }
    assert!(log.take().is_empty(), "no event while connecting");
    // The connect completes later; the loop carries on from there.
    peer.now = Instant::from_millis(400);
    assert!(peer.accept(tern_proto::client::url::Scheme::Http, "example.test", 8080));
    client.connected(peer.now);
    assert_eq!(client.state(), Connected);
    assert_eq!(log.take_ids(), [(EventId::OnConnected, Connected)]);
    assert_eq!(peer.run(&mut client).unwrap(), Done::Finished);
    assert_eq!(client.state(), Connected);
    assert_eq!(client.connects(), 1);
}

#[test]
fn async_connect_that_never_completes_times_out() {
    let config = ClientConfig {
        url: Some("http://example.test/a"),
        timeout: Duration::from_millis(3000),
        ..ClientConfig::default()
    };
    let (mut client, log) = client(&config);
    client.perform(Instant::from_millis(0)).unwrap();
    assert!(matches!(client.poll(Instant::from_millis(0)), Action::Connect(_)));
    assert!(matches!(client.poll(Instant::from_millis(2999)), Action::Connect(_)));
    assert_eq!(client.deadline(), Some(Instant::from_millis(3000)));
    client.handle_timeout(Instant::from_millis(3000));
    // The pending connect is abandoned.
    assert!(matches!(client.poll(Instant::from_millis(3000)), Action::Close));
    client.closed();
    match client.poll(Instant::from_millis(3000)) {
        Action::Done(Err(e)) => assert_eq!(e, ClientError::Timeout(Stage::Connect)),
        other => panic!("{other:?}"),
    }
    assert_eq!(client.state(), Init);
    let events = log.take();
    assert_eq!(events[0].2, Ev::Error(ClientError::Timeout(Stage::Connect)));
}

#[test]
fn async_perform_resumes_after_would_block_on_reads() {
    // The adapter returns from its loop whenever a read would block and polls again later.
    let (mut client, _log) = client_for("http://example.test/a");
    client.perform(Instant::from_millis(0)).unwrap();
    assert!(matches!(client.poll(Instant::from_millis(0)), Action::Connect(_)));
    client.connected(Instant::from_millis(0));
    let mut sent = Vec::new();
    loop {
        match client.poll(Instant::from_millis(0)) {
            Action::Transmit(parts) => {
                let n: usize = parts.iter().map(|p| p.len()).sum();
                sent.extend(parts.iter().flat_map(|p| p.iter().copied()));
                client.transmitted(n, Instant::from_millis(0));
            }
            Action::Receive(_) => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(sent.ends_with(b"\r\n\r\n"));
    assert_eq!(client.state(), ReqCompleteData);
    // Would block: the adapter goes away; nothing changes until it comes back.
    client.perform(Instant::from_millis(10)).unwrap();
    assert_eq!(client.state(), ReqCompleteData);
    let response = ok_response();
    match client.poll(Instant::from_millis(20)) {
        Action::Receive(buf) => {
            buf[..response.len()].copy_from_slice(&response);
            client.received(response.len(), Instant::from_millis(20));
        }
        other => panic!("{other:?}"),
    }
    match client.poll(Instant::from_millis(20)) {
        Action::Done(Ok(Completion::Finished)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(client.state(), Connected);
}

#[test]
fn streaming_flow_states() {
    let (mut client, log) = client_for("http://example.test/s");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")]);
    client.open(Some(5), peer.now).unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::HeadersSent);
    assert_eq!(client.state(), ReqCompleteHeader);
    assert_eq!(client.write(b"hello").unwrap(), 5);
    assert_eq!(peer.run(&mut client).unwrap(), Done::Written);
    assert_eq!(client.state(), ReqCompleteHeader);
    client.fetch_headers().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Headers);
    assert_eq!(client.state(), ResOnDataStart);
    assert_eq!(read_all(&mut peer, &mut client).unwrap(), b"hello");
    assert_eq!(client.state(), ResOnDataStart);
    log.take();
    client.close();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Closed);
    assert_eq!(client.state(), Init);
    assert_eq!(log.take_ids(), [(EventId::Disconnected, Init)]);
    // Closing again: nothing to close, no event.
    client.close();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Closed);
    assert!(log.take().is_empty());
}

#[test]
fn failed_connect_returns_to_init_and_the_next_perform_connects_again() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::refused(), Conn::answer(&ok_response())]);
    client.perform(peer.now).unwrap();
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result, Err(ClientError::Connect));
    assert_eq!(trace, [Init, Connecting, Init]);
    client.perform(peer.now).unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Finished);
    assert_eq!(client.state(), Connected);
    assert_eq!(peer.connects, 2);
    assert_eq!(client.connects(), 1);
}

#[test]
fn streaming_reuse_goes_back_to_connected_before_the_next_head() {
    let (mut client, log) = client_for("http://example.test/s");
    let r: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let mut peer = Peer::new([Conn::answers(&[r, r])]).with_io_size(8);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    assert_eq!(read_all(&mut peer, &mut client).unwrap(), b"hello");
    assert_eq!(client.state(), ResOnDataStart);
    log.take();
    // RES_ON_DATA_START -> CONNECTED (keep-alive reuse) -> REQ_COMPLETE_HEADER.
    client.open(Some(0), peer.now).unwrap();
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result.unwrap(), Done::HeadersSent);
    assert_eq!(trace, [Connected, ReqCompleteHeader]);
    assert_eq!(peer.connects, 1);
}

#[test]
fn errors_from_each_sending_state_return_to_init() {
    use support::Ev;
    // CONNECTED -> ERROR: the head cannot be written.
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::answer(&ok_response()).break_writes_at(10)]);
    client.perform(peer.now).unwrap();
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result, Err(ClientError::Transport(Stage::Send)));
    assert_eq!(trace, [Init, Connecting, Connected, Init]);
    let events = log.take();
    let tail: Vec<_> = events.iter().rev().take(2).rev().map(|(id, s, e)| (*id, *s, e.clone())).collect();
    assert_eq!(
        tail,
        [
            (EventId::Error, Connected, Ev::Error(ClientError::Transport(Stage::Send))),
            (EventId::Disconnected, Init, Ev::Disconnected)
        ]
    );
    assert_eq!(ClientError::Transport(Stage::Send).esp_err(), 0x7003);

    // REQ_COMPLETE_HEADER -> ERROR: the head went out, the body cannot be written.
    static BIG: [u8; 1500] = [b'x'; 1500];
    let config = ClientConfig { url: Some("http://example.test/up"), method: Method::Post, ..ClientConfig::default() };
    let (mut client, log) = support::client(&config);
    client.set_post_field(Some(&BIG)).unwrap();
    let mut peer = Peer::new([Conn::answer(&ok_response()).break_writes_at(300)]);
    client.perform(peer.now).unwrap();
    let (result, trace) = traced(&mut peer, &mut client, &log);
    assert_eq!(result, Err(ClientError::Transport(Stage::Send)));
    assert_eq!(trace, [Init, Connecting, Connected, ReqCompleteHeader, Init]);

    // The same client goes on.
    let mut peer = Peer::new([Conn::answer(&ok_response())]);
    assert_eq!(support::perform(&mut peer, &mut client).unwrap(), Done::Finished);
}

//! `Expect: 100-continue`: the body waits for `100 Continue`, is never sent after a final
//! answer (the connection then closes), and goes anyway when the server stays silent past
//! `expect_continue_timeout`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::time::Duration;

use support::{Conn, Done, Gate, Log, Peer, TestClient, client, data_of, perform, status};
use tern_proto::client::{ClientConfig, EventId, State};
use tern_proto::{Instant, Method};

const BODY: &[u8] = b"a body the server may not want";
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn expecting(config: ClientConfig<'static>) -> (TestClient, Log) {
    let (mut client, log) = client(&ClientConfig { method: Method::Post, ..config });
    client.set_header("Expect", "100-continue").unwrap();
    client.set_post_field(Some(BODY)).unwrap();
    (client, log)
}

fn url(u: &'static str) -> ClientConfig<'static> {
    ClientConfig { url: Some(u), ..ClientConfig::default() }
}

#[test]
fn body_waits_for_100_continue() {
    let (mut client, log) = expecting(url("http://example.test/upload"));
    let conn = Conn::default().reply(Gate::At(500), b"HTTP/1.1 100 Continue\r\n\r\n").reply(Gate::Requests(1), OK);
    let mut peer = Peer::new([conn]);
    peer.idle_step = 100;
    let mut states = Vec::new();
    client.perform(peer.now).unwrap();
    let done = peer.run_with(&mut client, |c, step| states.push((step.to_owned(), c.state()))).unwrap();
    assert_eq!(done, Done::Finished);
    assert_eq!(status(&client), 200);
    let req = &peer.requests(0)[0];
    assert_eq!(req.header("Expect"), Some("100-continue"));
    assert_eq!(req.body, BODY);
    // The head went alone; the body only after the 100 arrived (at 500 ms, before the 1 s
    // expect timeout).
    assert_eq!(peer.writes.len(), 2);
    assert_eq!(peer.writes[0].1, req.head.len());
    assert_eq!(peer.writes[1].1, BODY.len());
    let steps: Vec<&str> = states.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(steps, ["connect", "connected", "transmitted", "received", "transmitted", "received"]);
    // Waiting for the 100 is REQ_COMPLETE_HEADER: the head is out, the body is not.
    assert_eq!(states[2].1, State::Connected);
    assert_eq!(states[3].1, State::ReqCompleteHeader);
    assert_eq!(peer.now, Instant::from_millis(500));
    // One final status reaches the handler.
    let events = log.take();
    assert_eq!(events.iter().filter(|(id, _, _)| *id == EventId::OnStatusCode).count(), 1);
    assert_eq!(client.state(), State::Connected);
}

#[test]
fn a_final_status_instead_of_100_means_no_body_and_a_closed_connection() {
    let (mut client, log) = expecting(url("http://example.test/upload"));
    let refused = b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope";
    let mut peer = Peer::new([
        Conn::default().reply(Gate::Head(1), refused),
        Conn::default().reply(Gate::Head(1), b"HTTP/1.1 100 Continue\r\n\r\n").reply(Gate::Requests(1), OK),
    ]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 417);
    assert_eq!(data_of(&log.take()), b"nope");
    assert_eq!(peer.sent[0].len(), peer.writes[0].1, "only the head was sent");
    assert!(peer.request(0).ends_with("\r\n\r\n"));
    assert!(!peer.request(0).contains("a body"));
    assert!(!peer.is_open(), "the declared body was never sent: the connection is closed");
    assert_eq!(client.state(), State::Init);
    // The next request opens a new connection.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.connects, 2);
    assert_eq!(peer.requests(1)[0].body, BODY);
}

#[test]
fn a_401_instead_of_100_is_answered_on_a_new_connection() {
    let config = ClientConfig { username: Some("u"), password: Some("p"), ..url("http://example.test/upload") };
    let (mut client, _log) = expecting(config);
    let challenge = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\n\r\n";
    let mut peer = Peer::new([
        Conn::default().reply(Gate::Head(1), challenge),
        Conn::default().reply(Gate::Head(1), b"HTTP/1.1 100 Continue\r\n\r\n").reply(Gate::Requests(1), OK),
    ]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.connects, 2);
    assert!(!peer.request(0).contains("a body"));
    let retry = &peer.requests(1)[0];
    assert_eq!(retry.header("Authorization"), Some("Basic dTpw"));
    assert_eq!(retry.body, BODY);
}

#[test]
fn without_100_the_body_goes_after_expect_continue_timeout() {
    let config = ClientConfig { expect_continue_timeout: Duration::from_millis(1500), ..url("http://example.test/up") };
    let (mut client, _log) = expecting(config);
    let mut peer = Peer::new([Conn::answer(OK)]);
    peer.idle_step = 100;
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 200);
    assert_eq!(peer.requests(0)[0].body, BODY);
    assert_eq!(peer.now, Instant::from_millis(1500));
    assert_eq!(peer.writes.len(), 2);
    assert_eq!(client.connects(), 1);
}

#[test]
fn a_100_arriving_after_the_body_went_is_skipped() {
    let config = ClientConfig { expect_continue_timeout: Duration::from_millis(1000), ..url("http://example.test/up") };
    let (mut client, log) = expecting(config);
    let conn = Conn::default()
        .reply(Gate::Requests(1), b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let mut peer = Peer::new([conn]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(data_of(&log.take()), b"ok");
}

#[test]
fn a_100_and_the_final_answer_together() {
    // The server says 100 and answers at once; the body still goes (the server asked for it)
    // and the answer already received is the response.
    let (mut client, log) = expecting(url("http://example.test/up"));
    let conn = Conn::default()
        .reply(Gate::Head(1), b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let mut peer = Peer::new([conn]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 200);
    assert_eq!(data_of(&log.take()), b"ok");
    assert_eq!(peer.requests(0)[0].body, BODY);
}

#[test]
fn a_100_split_across_reads_with_the_wait_timing_out_between() {
    let config = ClientConfig { expect_continue_timeout: Duration::from_millis(1000), ..url("http://example.test/up") };
    let (mut client, _log) = expecting(config);
    let conn = Conn::default()
        .reply(Gate::Head(1), b"HTTP/1.1 100 Cont")
        .reply(Gate::Requests(1), b"inue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let mut peer = Peer::new([conn]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 200);
    assert_eq!(peer.requests(0)[0].body, BODY);
}

#[test]
fn an_empty_body_does_not_wait_and_does_not_announce_an_expectation() {
    // RFC 9110 section 10.1.1: no 100-continue expectation without content.
    let (mut client, _log) = expecting(url("http://example.test/up"));
    client.set_post_field(None).unwrap();
    client.set_method(Method::Get);
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.now, Instant::from_millis(0), "no wait");
    assert_eq!(peer.requests(0)[0].header("Expect"), None);
}

#[test]
fn a_303_to_get_drops_the_expectation() {
    let (mut client, _log) = expecting(url("http://example.test/up"));
    let mut peer = Peer::new([Conn::default()
        .reply(Gate::Head(1), b"HTTP/1.1 100 Continue\r\n\r\n")
        .reply(Gate::Requests(1), b"HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n")
        .reply(Gate::Requests(2), OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let reqs = peer.requests(0);
    assert_eq!(reqs[1].line(), "GET /done HTTP/1.1");
    assert_eq!(reqs[1].header("Expect"), None);
}

#[test]
fn a_dead_reused_connection_found_while_waiting_for_100_is_retried_for_put() {
    let (mut client, _log) = expecting(ClientConfig { method: Method::Put, ..url("http://example.test/up") });
    client.set_method(Method::Put);
    let first = Conn::default()
        .reply(Gate::Head(1), b"HTTP/1.1 100 Continue\r\n\r\n")
        .reply(Gate::Requests(1), OK)
        .then_close();
    let second = Conn::default().reply(Gate::Head(1), b"HTTP/1.1 100 Continue\r\n\r\n").reply(Gate::Requests(1), OK);
    let mut peer = Peer::new([first, second]);
    perform(&mut peer, &mut client).unwrap();
    // The server closed the idle connection: the next PUT finds out while waiting for 100.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(client.connects(), 2);
    assert_eq!(peer.requests(1)[0].body, BODY);
}

//! The streaming flow (`open` / `write` / `fetch_headers` / `read` / `flush_response` /
//! `close`), with the wire bytes it produces and the calls it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Peer, TestClient, client, client_for, perform, read_all, status};
use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, State};

fn post_client(url: &'static str) -> (TestClient, support::Log) {
    client(&ClientConfig { url: Some(url), method: Method::Post, ..ClientConfig::default() })
}

fn open(peer: &mut Peer, client: &mut TestClient, len: Option<u64>) {
    client.open(len, peer.now).unwrap();
    assert_eq!(peer.run(client).unwrap(), Done::HeadersSent);
}

fn write_all(peer: &mut Peer, client: &mut TestClient, mut data: &[u8]) {
    while !data.is_empty() {
        let n = client.write(data).unwrap();
        assert!(n > 0);
        assert_eq!(peer.run(client).unwrap(), Done::Written);
        data = &data[n..];
    }
}

fn fetch(peer: &mut Peer, client: &mut TestClient) {
    client.fetch_headers().unwrap();
    assert_eq!(peer.run(client).unwrap(), Done::Headers);
}

#[test]
fn open_write_fetch_read_like_the_upstream_streaming_test() {
    let (mut client, _log) = post_client("http://example.test/echo");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")]);
    open(&mut peer, &mut client, Some(5));
    write_all(&mut peer, &mut client, b"hello");
    fetch(&mut peer, &mut client);
    assert_eq!(client.content_length(), Some(5));
    assert_eq!(status(&client), 200);
    // The body came with the head: read hands it over without another transport read.
    let mut steps = Vec::new();
    client.read().unwrap();
    let done = peer.run_with(&mut client, |_, step| steps.push(step.to_owned())).unwrap();
    assert_eq!(done, Done::Data(b"hello".to_vec()));
    assert!(steps.is_empty(), "{steps:?}");
    client.consume(5);
    client.read().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::EndOfBody);
    assert!(client.is_complete_data_received());
    let req = &peer.requests(0)[0];
    assert_eq!(req.line(), "POST /echo HTTP/1.1");
    assert_eq!(req.header("Content-Length"), Some("5"));
    assert_eq!(req.body, b"hello");
}

#[test]
fn open_without_length_sends_chunked_with_exact_bytes() {
    let (mut client, _log) = post_client("http://example.test/up");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")]);
    open(&mut peer, &mut client, None);
    write_all(&mut peer, &mut client, b"hello");
    write_all(&mut peer, &mut client, b"world!");
    // An empty write sends nothing (a zero-size chunk would end the body).
    assert_eq!(client.write(b"").unwrap(), 0);
    assert_eq!(peer.run(&mut client).unwrap(), Done::Written);
    fetch(&mut peer, &mut client);
    assert_eq!(status(&client), 201);
    assert_eq!(
        peer.request(0),
        "POST /up HTTP/1.1\r\nUser-Agent: tern/0.1.0\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"
    );
}

#[test]
fn writes_larger_than_the_transmit_buffer_are_accepted_in_parts() {
    let config = ClientConfig {
        url: Some("http://example.test/up"),
        method: Method::Put,
        buffer_size_tx: 128,
        ..ClientConfig::default()
    };
    let body: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    for len in [Some(1000), None] {
        let (mut client, _log) = client(&config);
        let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 204 No Content\r\n\r\n")]).with_io_size(50);
        open(&mut peer, &mut client, len);
        let first = client.write(&body).unwrap();
        assert!(first > 0 && first <= 128, "{first}");
        assert_eq!(peer.run(&mut client).unwrap(), Done::Written);
        write_all(&mut peer, &mut client, &body[first..]);
        fetch(&mut peer, &mut client);
        assert_eq!(peer.requests(0)[0].body, body, "{len:?}");
    }
}

#[test]
fn writing_more_than_declared_is_refused() {
    let (mut client, _log) = post_client("http://example.test/up");
    let mut peer = Peer::new([
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    open(&mut peer, &mut client, Some(4));
    assert_eq!(client.write(b"hello"), Err(ClientError::BodyLengthMismatch { declared: 4, written: 5 }));
    write_all(&mut peer, &mut client, b"hel");
    assert_eq!(client.write(b"lo"), Err(ClientError::BodyLengthMismatch { declared: 4, written: 5 }));
    write_all(&mut peer, &mut client, b"l");
    fetch(&mut peer, &mut client);
    assert_eq!(peer.requests(0)[0].body, b"hell");
}

#[test]
fn writing_less_than_declared_fails_at_fetch_headers_and_drops_the_connection() {
    let (mut client, _log) = post_client("http://example.test/up");
    let mut peer = Peer::new([Conn::silent(), Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]);
    open(&mut peer, &mut client, Some(10));
    write_all(&mut peer, &mut client, b"abc");
    client.fetch_headers().unwrap();
    assert_eq!(peer.run(&mut client), Err(ClientError::BodyLengthMismatch { declared: 10, written: 3 }));
    assert!(!peer.is_open());
    assert_eq!(client.state(), State::Init);
    // The client goes on with a new connection.
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(peer.connects, 2);
}

#[test]
fn open_framing_for_bodiless_methods() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ])]);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    assert_eq!(read_all(&mut peer, &mut client).unwrap(), b"");
    client.set_method(Method::Post);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    let reqs = peer.requests(0);
    assert_eq!(reqs[0].header("Content-Length"), None, "GET without body has no framing");
    assert_eq!(reqs[1].header("Content-Length"), Some("0"), "POST always has framing");
}

#[test]
fn calls_out_of_order_are_refused() {
    let (mut client, _log) = client_for("http://example.test/");
    assert!(matches!(client.fetch_headers(), Err(ClientError::InvalidState { .. })));
    assert!(matches!(client.read(), Err(ClientError::InvalidState { .. })));
    assert!(matches!(client.write(b"x"), Err(ClientError::InvalidState { .. })));
    assert!(matches!(client.flush_response(), Err(ClientError::InvalidState { .. })));
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")]);
    open(&mut peer, &mut client, Some(0));
    assert!(matches!(client.read(), Err(ClientError::InvalidState { .. })));
    fetch(&mut peer, &mut client);
    assert!(matches!(client.write(b"x"), Err(ClientError::InvalidState { .. })));
    assert!(matches!(client.fetch_headers(), Err(ClientError::InvalidState { .. })));
    // A second perform while one is open is refused too.
    client.read().unwrap();
    assert!(matches!(client.open(Some(0), peer.now), Err(ClientError::InvalidState { .. })));
    assert_eq!(peer.run(&mut client).unwrap(), Done::Data(b"abc".to_vec()));
}

#[test]
fn partial_consume_hands_the_rest_out_again() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef")]);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    client.read().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Data(b"abcdef".to_vec()));
    client.consume(2);
    client.read().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Data(b"cdef".to_vec()));
    client.consume(100);
    client.read().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::EndOfBody);
}

#[test]
fn flush_response_discards_the_rest_and_keeps_the_connection() {
    let (mut client, log) = client_for("http://example.test/");
    let big = vec![b'x'; 5000];
    let mut first = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".to_vec();
    first.extend_from_slice(&big);
    let mut peer =
        Peer::new([Conn::answers(&[&first, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])]).with_io_size(700);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    client.flush_response().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::EndOfBody);
    assert!(client.is_complete_data_received());
    assert_eq!(client.body_received(), 5000);
    log.take();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(support::data_of(&log.take()), b"ok");
    assert_eq!(peer.connects, 1);
}

#[test]
fn open_after_a_body_read_to_the_end_reuses_the_connection() {
    let (mut client, _log) = client_for("http://example.test/");
    let r: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    let mut peer = Peer::new([Conn::answers(&[r, r])]);
    for _ in 0..2 {
        open(&mut peer, &mut client, Some(0));
        fetch(&mut peer, &mut client);
        assert_eq!(read_all(&mut peer, &mut client).unwrap(), b"abc");
    }
    assert_eq!(peer.connects, 1);
}

#[test]
fn open_after_an_unread_body_does_not_reuse_the_connection() {
    // The rest of the first body is still on the wire: reusing the connection would read it
    // as the second response.
    let (mut client, _log) = client_for("http://example.test/");
    let mut first = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n".to_vec();
    first.extend_from_slice(&[b'x'; 3000]);
    let mut peer = Peer::new([
        Conn::answers(&[&first, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwrong"]),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nright"),
    ])
    .with_io_size(100);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    client.read().unwrap();
    assert!(matches!(peer.run(&mut client).unwrap(), Done::Data(_)));
    // The application gives up on that body and makes another request.
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    assert_eq!(read_all(&mut peer, &mut client).unwrap(), b"right");
    assert_eq!(peer.connects, 2);
}

#[test]
fn perform_after_unread_headers_does_not_reuse_the_connection() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([
        Conn::answers(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwrong",
        ]),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nright"),
    ]);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    log.take();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(support::data_of(&log.take()), b"right");
}

#[test]
fn open_after_an_empty_body_left_unread_reuses_the_connection() {
    // Nothing of the first body remains on the wire (HEAD, or Content-Length: 0).
    let config = ClientConfig { url: Some("http://example.test/"), method: Method::Head, ..ClientConfig::default() };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ])]);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    client.set_method(Method::Get);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    assert_eq!(peer.connects, 1);
}

#[test]
fn streamed_redirects_and_challenges_are_left_to_the_application() {
    let (mut client, _log) = client(&ClientConfig {
        url: Some("http://example.test/a"),
        username: Some("u"),
        password: Some("p"),
        ..ClientConfig::default()
    });
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Length: 0\r\n\r\n",
    ])]);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    assert_eq!(status(&client), 302);
    read_all(&mut peer, &mut client).unwrap();
    client.set_redirection().unwrap();
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    assert_eq!(status(&client), 401);
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].line(), "GET /b HTTP/1.1");
}

#[test]
fn close_in_the_middle_of_a_body_closes_and_the_next_request_reconnects() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]);
    open(&mut peer, &mut client, Some(0));
    fetch(&mut peer, &mut client);
    log.take();
    client.close();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Closed);
    assert_eq!(client.state(), State::Init);
    assert_eq!(log.take_shape(), [tern_proto::client::EventId::Disconnected]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.connects, 2);
}

#[test]
fn a_caller_transfer_encoding_makes_a_sized_stream_chunked() {
    let (mut client, _log) = post_client("http://example.test/up");
    client.set_header("Transfer-Encoding", "chunked").unwrap();
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]);
    open(&mut peer, &mut client, Some(5));
    write_all(&mut peer, &mut client, b"hello");
    fetch(&mut peer, &mut client);
    let req = &peer.requests(0)[0];
    assert_eq!(req.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(req.header("Content-Length"), None);
    assert_eq!(req.raw_body, b"5\r\nhello\r\n0\r\n\r\n");
}

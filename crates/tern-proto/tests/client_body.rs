//! Response bodies through the engine: Content-Length, chunked (trailers, extensions), close-
//! delimited, none (HEAD, 204, 304), each whole and cut short, and the three answers
//! "no Content-Length", "Content-Length: 0" and "chunked" kept apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Ev, Peer, client, client_for, data_of, perform, read_all, status};
use tern_proto::body::BodyKind;
use tern_proto::client::{ClientConfig, ClientError, EventId, Stage, State};
use tern_proto::{Limit, Method, RemoteError};

fn chunked(body: &[u8], piece: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in body.chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).collect()
}

#[test]
fn chunked_body_whole_with_trailers_and_extensions() {
    let (mut client, log) = client_for("http://example.test/c");
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1;x\r\n \r\n5\r\nworld\r\n0;last=1\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
    let mut peer = Peer::new([Conn::answers(&[resp, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"])]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(data_of(&log.take()), b"hello world");
    assert!(client.is_chunked_response());
    assert_eq!(client.body_kind(), BodyKind::Chunked);
    assert_eq!(client.content_length(), None);
    assert_eq!(client.chunk_length(), Some(0));
    assert!(client.is_complete_data_received());
    assert_eq!(client.body_received(), 11);
    // The connection is still usable: the trailers were consumed exactly.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(data_of(&log.take()), b"z");
    assert_eq!(peer.connects, 1);
}

#[test]
fn chunked_body_survives_every_read_size() {
    let body = pattern(3000);
    let resp = chunked(&body, 700);
    for io in [1, 2, 3, 5, 7, 16, 61, 100, 0] {
        let config = ClientConfig { url: Some("http://example.test/"), buffer_size: 256, ..ClientConfig::default() };
        let (mut client, log) = client(&config);
        let mut peer = Peer::new([Conn::answers(&[&resp, &resp])]).with_io_size(io);
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(data_of(&log.take()), body, "io {io}");
        // The same through the streaming API.
        client.open(Some(0), peer.now).unwrap();
        peer.run(&mut client).unwrap();
        client.fetch_headers().unwrap();
        peer.run(&mut client).unwrap();
        assert_eq!(read_all(&mut peer, &mut client).unwrap(), body, "io {io} read");
    }
}

#[test]
fn length_body_larger_than_the_receive_buffer() {
    let body = pattern(5000);
    let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend_from_slice(&body);
    for io in [1, 13, 64, 0] {
        let config = ClientConfig { url: Some("http://example.test/"), buffer_size: 128, ..ClientConfig::default() };
        let (mut client, log) = client(&config);
        let mut peer = Peer::new([Conn::answer(&resp)]).with_io_size(io);
        perform(&mut peer, &mut client).unwrap();
        let events = log.take();
        assert_eq!(data_of(&events), body, "io {io}");
        assert!(events.iter().all(|(_, _, e)| !matches!(e, Ev::Data(d) if d.len() > 128)));
        assert_eq!(client.content_length(), Some(5000));
    }
}

#[test]
fn chunked_body_cut_short_is_incomplete() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer =
        Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello")]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::IncompleteBody { received: 5 }));
    let events = log.take();
    assert_eq!(data_of(&events), b"hello");
    assert!(!events.iter().any(|(id, _, _)| *id == EventId::OnFinish));
    assert!(!client.is_complete_data_received());
    assert_eq!(ClientError::IncompleteBody { received: 5 }.esp_err(), 0x700C);
    assert_eq!(client.state(), State::Init);

    // Cut after a whole chunk but before the last one: still incomplete.
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer =
        Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::IncompleteBody { received: 5 }));

    // Cut in the trailers.
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer =
        Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n")]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::IncompleteBody { received: 0 }));
}

#[test]
fn length_body_cut_short_is_incomplete_through_read_too() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd")]);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    assert_eq!(client.content_length(), Some(10));
    client.read().unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Data(b"abcd".to_vec()));
    client.consume(4);
    client.read().unwrap();
    assert_eq!(peer.run(&mut client), Err(ClientError::IncompleteBody { received: 4 }));
    assert!(!client.is_complete_data_received());
}

#[test]
fn close_delimited_body_ends_cleanly_at_eof() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([
        Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the end"),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ])
    .with_io_size(5);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    let events = log.take();
    assert_eq!(data_of(&events), b"all of this until the end");
    assert!(events.iter().any(|(id, _, _)| *id == EventId::OnFinish));
    assert_eq!(client.body_kind(), BodyKind::CloseDelimited);
    assert_eq!(client.content_length(), None);
    assert!(!client.is_chunked_response());
    assert!(client.is_complete_data_received());
    assert_eq!(client.state(), State::Init);
    // A close-delimited body ends the connection: the next request opens another.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.connects, 2);
}

#[test]
fn close_delimited_body_through_read() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\n\r\nuntil close")]).with_io_size(4);
    client.open(Some(0), peer.now).unwrap();
    peer.run(&mut client).unwrap();
    client.fetch_headers().unwrap();
    peer.run(&mut client).unwrap();
    assert_eq!(read_all(&mut peer, &mut client).unwrap(), b"until close");
    assert!(client.is_complete_data_received());
}

#[test]
fn head_reports_content_length_without_a_body() {
    let config = ClientConfig { url: Some("http://example.test/big"), method: Method::Head, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    ])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(client.content_length(), Some(123456));
    assert_eq!(client.body_kind(), BodyKind::None);
    assert!(client.is_complete_data_received());
    assert!(data_of(&log.take()).is_empty());
    assert_eq!(peer.requests(0)[0].line(), "HEAD /big HTTP/1.1");
    assert_eq!(peer.requests(0)[0].header("Content-Length"), None);
    // Kept alive, and a chunked HEAD answer has no body either.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(client.body_kind(), BodyKind::None);
    assert_eq!(peer.connects, 1);
    assert_eq!(client.state(), State::Connected);
}

#[test]
fn no_content_and_not_modified_have_no_body() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!((status(&client), client.body_kind()), (204, BodyKind::None));
    perform(&mut peer, &mut client).unwrap();
    assert_eq!((status(&client), client.body_kind()), (304, BodyKind::None));
    assert!(client.is_complete_data_received());
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(data_of(&log.take()), b"ok");
    assert_eq!(peer.connects, 1);
}

#[test]
fn no_length_zero_length_and_chunked_are_three_answers() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    ])
    .then_close()]);
    perform(&mut peer, &mut client).unwrap();
    let zero = (client.body_kind(), client.content_length(), client.is_chunked_response(), client.chunk_length());
    perform(&mut peer, &mut client).unwrap();
    let chunked = (client.body_kind(), client.content_length(), client.is_chunked_response(), client.chunk_length());
    perform(&mut peer, &mut client).unwrap();
    let none = (client.body_kind(), client.content_length(), client.is_chunked_response(), client.chunk_length());
    assert_eq!(zero, (BodyKind::Length(0), Some(0), false, None));
    assert_eq!(chunked, (BodyKind::Chunked, None, true, Some(0)));
    assert_eq!(none, (BodyKind::CloseDelimited, None, false, None));
}

#[test]
fn bytes_after_a_response_end_the_connection() {
    // A server that sends more than it announced cannot be trusted with another request.
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"),
        Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
    ]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(data_of(&log.take()), b"ok");
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(data_of(&log.take()), b"hi");
    assert_eq!(peer.connects, 2);
}

#[test]
fn response_head_larger_than_the_receive_buffer_is_too_large() {
    let config = ClientConfig { url: Some("http://example.test/"), buffer_size: 256, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let mut resp = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..20 {
        resp.extend_from_slice(format!("X-Header-{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    resp.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let mut peer = Peer::new([Conn::answer(&resp)]).with_io_size(50);
    let err = perform(&mut peer, &mut client).unwrap_err();
    assert!(matches!(err, ClientError::Remote(RemoteError::TooLarge { limit: Limit::HeaderSection, .. })), "{err:?}");
    assert!(err.is_remote());
    assert!(log.take().iter().any(|(_, _, e)| *e == Ev::Error(err)));
    assert!(!peer.is_open());
}

#[test]
fn response_head_that_fits_the_buffer_with_body_room_is_read() {
    let config = ClientConfig { url: Some("http://example.test/"), buffer_size: 256, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let mut resp = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..5 {
        resp.extend_from_slice(format!("X-Header-{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    resp.extend_from_slice(b"Content-Length: 300\r\n\r\n");
    resp.extend_from_slice(&pattern(300));
    let mut peer = Peer::new([Conn::answer(&resp)]).with_io_size(50);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(data_of(&log.take()), pattern(300));
    assert_eq!(client.response_header("x-header-4").map(|v| v.len()), Some(20));
}

#[test]
fn malformed_responses_are_remote_errors() {
    let cases: [&[u8]; 5] = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for case in cases {
        let (mut client, _log) = client_for("http://example.test/");
        let mut peer = Peer::new([Conn::answer(case)]);
        let err = perform(&mut peer, &mut client).unwrap_err();
        assert!(matches!(err, ClientError::Remote(_)), "{:?}: {err:?}", String::from_utf8_lossy(case));
        assert!(!peer.is_open(), "the connection is dropped");
    }
}

#[test]
fn eof_in_the_middle_of_the_head_is_connection_closed() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer_and_close(b"HTTP/1.1 200 OK\r\nContent-Le")]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::ConnectionClosed(Stage::ReceiveHead)));
}

#[test]
fn interim_responses_are_skipped() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    )]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let events = log.take();
    assert_eq!(events.iter().filter(|(id, _, _)| *id == EventId::OnStatusCode).count(), 1);
    assert_eq!(data_of(&events), b"ok");
}

//! ESP-IDF's client test situations for statuses: each status finishes `perform` (the status
//! is the application's to judge), and the same client goes on after each one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Peer, client_for, data_of, perform, status};
use tern_proto::client::{ClientError, EventId, State};

fn response(code: u16, reason: &str, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} {reason}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn every_status_finishes_and_the_client_is_reused() {
    let cases = [
        (200, "OK", "ok"),
        (201, "Created", "made"),
        (204, "No Content", ""),
        (300, "Multiple Choices", "pick"),
        (304, "Not Modified", ""),
        (400, "Bad Request", "bad"),
        (404, "Not Found", "missing"),
        (500, "Internal Server Error", "oops"),
        (503, "Service Unavailable", "later"),
        (200, "OK", "again"),
    ];
    let responses: Vec<Vec<u8>> = cases.iter().map(|(c, r, b)| response(*c, r, b)).collect();
    let refs: Vec<&[u8]> = responses.iter().map(|r| r.as_slice()).collect();
    let (mut client, log) = client_for("http://example.test/status");
    let mut peer = Peer::new([Conn::answers(&refs)]);
    for (code, _, body) in cases {
        assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished, "{code}");
        assert_eq!(status(&client), code);
        let events = log.take();
        let expected_body = if code == 304 { "" } else { body };
        assert_eq!(data_of(&events), expected_body.as_bytes(), "{code}");
        assert!(events.iter().any(|(id, _, _)| *id == EventId::OnFinish), "{code}");
        assert!(!events.iter().any(|(id, _, _)| *id == EventId::Error), "{code}");
        assert_eq!(client.state(), State::Connected);
        assert!(client.is_complete_data_received());
    }
    assert_eq!(client.connects(), 1);
    assert_eq!(peer.requests(0).len(), cases.len());
}

#[test]
fn moved_without_following_is_300_and_304_only() {
    // Only the statuses ESP-IDF follows are followed; 300 and 304 end the perform.
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 300 Multiple Choices\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nLocation: /y\r\n\r\n",
    ])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 300);
    assert!(matches!(client.set_redirection(), Err(ClientError::InvalidState { .. })));
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 304);
    assert_eq!(peer.requests(0).len(), 2);
}

#[test]
fn refused_connect_then_success_on_the_same_client() {
    let (mut client, log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::refused(), Conn::refused(), Conn::answer(&response(200, "OK", "up"))]);
    for _ in 0..2 {
        let err = perform(&mut peer, &mut client).unwrap_err();
        assert_eq!(err, ClientError::Connect);
        assert_eq!(err.esp_err(), 0x7002);
        assert_eq!(client.state(), State::Init);
        assert_eq!(client.status_code(), None);
    }
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(data_of(&log.take()), b"up");
    assert_eq!(peer.connects, 3);
    assert_eq!(client.connects(), 1);
}

#[test]
fn status_code_and_headers_of_the_last_response_stay_readable() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nX-Request-Id:  abc \r\nContent-Length: 3\r\n\r\nno!",
    )]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 404);
    assert_eq!(client.response_header("content-type"), Some(&b"text/html"[..]));
    assert_eq!(client.response_header("X-REQUEST-ID"), Some(&b"abc"[..]));
    assert_eq!(client.response_header("missing"), None);
    let names: Vec<&[u8]> = client.response_headers().map(|(n, _)| n).collect();
    assert_eq!(names, [&b"Content-Type"[..], b"X-Request-Id", b"Content-Length"]);
    assert_eq!(client.content_length(), Some(3));
}

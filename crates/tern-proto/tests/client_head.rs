//! The request head on the wire: default headers, framing per method, paging through a small
//! `buffer_size_tx`, lines that can never fit, and a transport that moves 4 bytes at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Peer, client, client_for, data_of, perform, status};
use tern_proto::client::url::Scheme;
use tern_proto::client::{ClientConfig, ClientError, DEFAULT_USER_AGENT};
use tern_proto::{LocalError, Method};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn default_head_is_user_agent_then_host() {
    let (mut client, _log) = client_for("http://example.test:8080/p?q=1");
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(
        peer.request(0),
        format!("GET /p?q=1 HTTP/1.1\r\nUser-Agent: {DEFAULT_USER_AGENT}\r\nHost: example.test:8080\r\n\r\n")
    );
}

#[test]
fn host_path_query_config_and_ipv6_hosts() {
    let config = ClientConfig {
        host: Some("::1"),
        path: Some("/status"),
        query: Some("a=b"),
        port: 8443,
        scheme: Scheme::Https,
        url: Some("http://ignored.test/"),
        user_agent: "",
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.request(0), "GET /status?a=b HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
    assert_eq!(peer.endpoints[0], (Scheme::Https, "::1".to_owned(), 8443));
    let mut url = [0u8; 64];
    let n = client.get_url(&mut url).unwrap();
    assert_eq!(&url[..n], b"https://[::1]:8443/status");
}

#[test]
fn framing_per_method() {
    type Case = (Method<'static>, Option<&'static [u8]>, Option<&'static str>);
    let cases: [Case; 7] = [
        (Method::Get, None, None),
        (Method::Head, None, None),
        (Method::Delete, None, None),
        (Method::Post, None, Some("0")),
        (Method::Put, None, Some("0")),
        (Method::Patch, Some(b"{}"), Some("2")),
        (Method::Delete, Some(b"x"), Some("1")),
    ];
    for (method, body, length) in cases {
        let config = ClientConfig { url: Some("http://example.test/"), method, ..ClientConfig::default() };
        let (mut client, _log) = client(&config);
        client.set_post_field(body).unwrap();
        let mut peer = Peer::new([Conn::answer(OK)]);
        perform(&mut peer, &mut client).unwrap();
        let req = &peer.requests(0)[0];
        assert_eq!(req.header("Content-Length"), length, "{method:?} {body:?}");
        assert_eq!(req.header("Transfer-Encoding"), None);
        assert_eq!(req.body, body.unwrap_or_default());
    }
}

#[test]
fn caller_framing_headers_do_not_break_the_message() {
    let config = ClientConfig { url: Some("http://example.test/"), method: Method::Post, ..ClientConfig::default() };
    let (mut client, _log) = client(&config);
    client.set_header("Content-Length", "999").unwrap();
    client.set_post_field(Some(b"hello")).unwrap();
    let mut peer = Peer::new([Conn::answers(&[OK, OK])]);
    perform(&mut peer, &mut client).unwrap();
    let req = &peer.requests(0)[0];
    assert_eq!(req.header("Content-Length"), Some("5"));
    assert_eq!(req.body, b"hello");
    // A caller's Transfer-Encoding: chunked on a whole body: it goes with its length, as in
    // ESP-IDF (a body sent raw under a chunked head would be garbage to the server).
    client.delete_header("Content-Length");
    client.set_header("Transfer-Encoding", "chunked").unwrap();
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 2, "{:?}", peer.request(0));
    assert_eq!(reqs[1].body, b"hello");
    assert_eq!(reqs[1].header("Content-Length"), Some("5"));
    assert_eq!(reqs[1].header("Transfer-Encoding"), None);
    assert_eq!(status(&client), 200);
}

#[test]
fn headers_are_set_replaced_in_place_and_deleted() {
    let (mut client, _log) = client_for("http://example.test/");
    client.set_header("X-A", "1").unwrap();
    client.set_header("X-B", "  2  ").unwrap();
    client.set_header("x-a", "3").unwrap();
    client.set_header("User-Agent", "custom").unwrap();
    assert!(client.delete_header("x-b"));
    assert!(!client.delete_header("x-b"));
    assert_eq!(client.get_header("X-A"), Some(&b"3"[..]));
    assert_eq!(client.set_header("X-C", "a\r\nInjected: 1"), Err(ClientError::Local(LocalError::InvalidHeaderValue)));
    assert!(client.set_header("Bad Name", "v").is_err());
    let mut peer = Peer::new([Conn::answers(&[OK, OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.request(0), "GET / HTTP/1.1\r\nUser-Agent: custom\r\nHost: example.test\r\nx-a: 3\r\n\r\n");
    // Deleting everything removes Host too; the next set_url brings it back.
    client.delete_all_headers();
    client.set_url("/again").unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[1].head, "GET /again HTTP/1.1\r\nHost: example.test\r\n\r\n");
}

#[test]
fn a_header_line_larger_than_buffer_size_tx_fails_before_connecting() {
    let config = ClientConfig { url: Some("http://example.test/"), buffer_size_tx: 128, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let value = "v".repeat(200);
    client.set_header("X-Big", &value).unwrap();
    let mut peer = Peer::new([Conn::answer(OK)]);
    let err = client.perform(peer.now).unwrap_err();
    assert_eq!(err, ClientError::HeaderTooLong { needed: 7 + 200 + 2, capacity: 128 });
    assert_eq!(err.esp_err(), 0x700E);
    assert!(err.is_local());
    assert_eq!(peer.connects, 0);
    assert!(log.take().is_empty());
    assert!(matches!(client.poll(peer.now), tern_proto::client::Action::Done(Err(ClientError::InvalidState { .. }))));
    // Removing it makes the client usable again.
    client.delete_header("X-Big");
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
}

#[test]
fn a_url_too_long_for_buffer_size_tx_is_refused_and_changes_nothing() {
    let config = ClientConfig { url: Some("http://example.test/"), buffer_size_tx: 64, ..ClientConfig::default() };
    let (mut client, _log) = client(&config);
    let long = format!("/{}", "p".repeat(80));
    assert!(matches!(client.set_url(&long), Err(ClientError::Url(_))));
    assert_eq!(client.url_str(), "http://example.test/");
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].line(), "GET / HTTP/1.1");
}

#[test]
fn a_head_longer_than_buffer_size_tx_goes_out_in_pages() {
    let config = ClientConfig { url: Some("http://example.test/paged"), buffer_size_tx: 64, ..ClientConfig::default() };
    let (mut client, _log) = client(&config);
    let mut expected = format!("GET /paged HTTP/1.1\r\nUser-Agent: {DEFAULT_USER_AGENT}\r\nHost: example.test\r\n");
    for i in 0..12 {
        let value = format!("{i:02}-{}", "x".repeat(40));
        client.set_header(&format!("X-Field-{i:02}"), &value).unwrap();
        expected.push_str(&format!("X-Field-{i:02}: {value}\r\n"));
    }
    expected.push_str("\r\n");
    for io in [0, 4, 7] {
        let mut peer = Peer::new([Conn::answer(OK)]).with_io_size(io);
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(peer.request(0), expected, "io {io}");
        assert!(peer.transmits >= expected.len() / 64, "{} transmits", peer.transmits);
        assert!(peer.writes.iter().all(|(_, n)| *n <= 64));
        client.close();
        peer.run(&mut client).unwrap();
    }
}

#[test]
fn a_paged_head_with_a_body_that_fits_the_last_page() {
    let config = ClientConfig {
        url: Some("http://example.test/"),
        method: Method::Post,
        buffer_size_tx: 64,
        user_agent: "",
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    for i in 0..4 {
        client.set_header(&format!("X-{i}"), &"y".repeat(30)).unwrap();
    }
    client.set_post_field(Some(b"small")).unwrap();
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    let req = &peer.requests(0)[0];
    assert_eq!(req.body, b"small");
    assert_eq!(req.header("X-3"), Some("y".repeat(30).as_str()));
}

#[test]
fn four_bytes_at_a_time_get() {
    let (mut client, log) = client_for("http://example.test/four");
    let body: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut resp =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Long-Header: {}\r\n\r\n", body.len(), "h".repeat(50))
            .into_bytes();
    resp.extend_from_slice(&body);
    let mut peer = Peer::new([Conn::answers(&[&resp, &resp])]).with_io_size(4);
    for _ in 0..2 {
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(status(&client), 200);
        assert_eq!(data_of(&log.take()), body);
        assert_eq!(client.response_header("x-long-header").map(<[u8]>::len), Some(50));
    }
    assert!(peer.writes.iter().all(|(_, n)| *n <= 4));
    assert_eq!(peer.connects, 1);
}

#[test]
fn four_bytes_at_a_time_post_and_chunked_response() {
    let config =
        ClientConfig { url: Some("http://example.test/four"), method: Method::Post, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let body: Vec<u8> = (0..700u32).map(|i| (i % 256) as u8).collect();
    let leaked: &'static [u8] = Box::leak(body.clone().into_boxed_slice());
    client.set_post_field(Some(leaked)).unwrap();
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: x\r\n\r\n";
    let mut peer = Peer::new([Conn::answers(&[resp, resp])]).with_io_size(4);
    for _ in 0..2 {
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(data_of(&log.take()), b"abc0123456789abcdef");
    }
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.body == body));
}

#[test]
fn a_url_almost_as_long_as_buffer_size_tx_is_usable() {
    // Long signed URLs: the request line may take nearly the whole transmit buffer.
    let path: &'static str = Box::leak(format!("/bucket/object?X-Signature={}", "s".repeat(400)).into_boxed_str());
    let url: &'static str = Box::leak(format!("http://storage.example.test{path}").into_boxed_str());
    let (mut client, _log) = client_for(url);
    assert_eq!(client.url_str(), url);
    let redirect = format!("HTTP/1.1 302 Found\r\nLocation: {path}&again=1\r\nContent-Length: 0\r\n\r\n");
    let mut peer = Peer::new([Conn::answers(&[OK, redirect.as_bytes(), OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].line(), format!("GET {path} HTTP/1.1"));
    client.set_url("/short").unwrap();
    client.set_url(url).unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.requests(0)[2].line(), format!("GET {path}&again=1 HTTP/1.1"));
}

//! tern-std against hyper, in-process: whole requests, the streaming flow, keep-alive and the
//! non-blocking (EAGAIN) mode, each checked against what hyper received and sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::sync::{Arc, Mutex};

use tern_proto::Method;
use tern_proto::body::BodyKind;
use tern_proto::client::{ClientConfig, Event, EventId, EventKind, State};
use tern_std::{Client, Error};
use tern_testkit::HyperServer;

/// Collects body bytes and event ids from a client's handler.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<(Vec<u8>, Vec<EventId>)>>);

impl Seen {
    fn handler(&self) -> impl FnMut(&Event<'_>) + use<> {
        let seen = self.0.clone();
        move |event: &Event<'_>| {
            let mut seen = seen.lock().unwrap();
            if let EventKind::OnData(data) = event.kind {
                seen.0.extend_from_slice(data);
            }
            seen.1.push(event.kind.id());
        }
    }
    fn take_body(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.lock().unwrap().0)
    }
    fn events(&self) -> Vec<EventId> {
        self.0.lock().unwrap().1.clone()
    }
}

#[test]
fn get_over_keep_alive_reuses_one_connection() {
    let server = HyperServer::start();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    for _ in 0..3 {
        client.perform().unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), 200);
        assert_eq!(seen.take_body(), b"hello");
        assert_eq!(client.state(), State::Connected);
    }
    assert_eq!(server.connections(), 1);
    assert_eq!(client.connects(), 1);
    let connected = seen.events().iter().filter(|e| **e == EventId::OnConnected).count();
    assert_eq!(connected, 1);
}

#[test]
fn connection_close_response_reconnects_each_time() {
    let server = HyperServer::start();
    let url = server.url("/close");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    for _ in 0..3 {
        client.perform().unwrap();
        assert_eq!(seen.take_body(), b"bye");
        assert_eq!(client.state(), State::Init);
    }
    assert_eq!(server.connections(), 3);
    let events = seen.events();
    assert_eq!(events.iter().filter(|e| **e == EventId::Disconnected).count(), 3);
}

#[test]
fn chunked_response_is_decoded_whole() {
    let server = HyperServer::start();
    let url = server.url("/chunked?n=50&size=1000");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().unwrap();
    let body = seen.take_body();
    let expected: Vec<u8> = (0..50).flat_map(|i| vec![b'a' + (i % 26) as u8; 1000]).collect();
    assert_eq!(body, expected);
    assert_eq!(client.body_kind(), BodyKind::Chunked);
    assert!(client.is_complete_data_received());
}

#[test]
fn post_field_arrives_with_length_and_type() {
    let server = HyperServer::start();
    let url = server.url("/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    let body = b"field1=value1&field2=value2";
    client.set_post_field(Some(body)).unwrap();
    client.perform().unwrap();
    assert_eq!(seen.take_body(), body);
    assert_eq!(client.response_header("x-seen-content-length"), Some(&b"27"[..]));
    assert_eq!(client.response_header("x-seen-content-type"), Some(&b"application/x-www-form-urlencoded"[..]));
    // The post field persists: a PUT re-sends it, as in ESP-IDF.
    client.set_method(Method::Put);
    client.perform().unwrap();
    assert_eq!(seen.take_body(), body);
}

#[test]
fn large_post_field_goes_out_whole() {
    let server = HyperServer::start();
    let url = server.url("/echo");
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.set_post_field(Some(&body)).unwrap();
    client.perform().unwrap();
    assert_eq!(seen.take_body(), body);
}

#[test]
fn streaming_flow_with_known_length() {
    let server = HyperServer::start();
    let url = server.url("/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(5)).unwrap();
    assert_eq!(client.state(), State::ReqCompleteHeader);
    assert_eq!(client.write(b"hel").unwrap(), 3);
    assert_eq!(client.write(b"lo").unwrap(), 2);
    assert_eq!(client.fetch_headers().unwrap(), Some(5));
    assert_eq!(client.state(), State::ResOnDataStart);
    let mut buf = [0u8; 64];
    let n = client.read_response(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(client.read(&mut buf).unwrap(), 0);
    assert!(client.is_complete_data_received());
    assert_eq!(client.response_header("x-seen-content-length"), Some(&b"5"[..]));
}

#[test]
fn streaming_flow_chunked_when_length_unknown() {
    let server = HyperServer::start();
    let url = server.url("/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Post, buffer_size_tx: 256, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(None).unwrap();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(client.write(&data).unwrap(), data.len());
    client.fetch_headers().unwrap();
    assert_eq!(client.response_header("x-seen-transfer-encoding"), Some(&b"chunked"[..]));
    let mut body = Vec::new();
    let mut buf = [0u8; 777];
    loop {
        let n = client.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    assert_eq!(body, data);
}

#[test]
fn statuses_with_the_client_reused() {
    let server = HyperServer::start();
    let url = server.url("/status/200");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    for code in [200u16, 201, 204, 304, 400, 404, 418, 500, 503] {
        client.set_url(&format!("/status/{code}")).unwrap();
        client.perform().unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), code);
        let body = seen.take_body();
        if code == 204 || code == 304 {
            assert!(body.is_empty());
        } else {
            assert_eq!(body, format!("status {code}").as_bytes());
        }
    }
    assert_eq!(server.connections(), 1);
}

#[test]
fn head_reports_length_without_body() {
    let server = HyperServer::start();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), method: Method::Head, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert!(seen.take_body().is_empty());
    assert_eq!(client.body_kind(), BodyKind::None);
    // The connection is still good after a HEAD.
    client.set_method(Method::Get);
    client.perform().unwrap();
    assert_eq!(seen.take_body(), b"hello");
    assert_eq!(server.connections(), 1);
}

#[test]
fn nonblocking_perform_returns_would_block_and_resumes() {
    let server = HyperServer::start();
    let url = server.url("/chunked?n=20&size=5000");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.set_nonblocking(true).unwrap();
    let mut would_block = 0;
    let mut states = Vec::new();
    loop {
        match client.perform() {
            Ok(()) => break,
            Err(Error::WouldBlock) => {
                would_block += 1;
                states.push(client.state());
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(e) => panic!("perform failed: {e}"),
        }
        assert!(would_block < 100_000, "never finished");
    }
    assert!(would_block > 0, "a non-blocking perform on loopback should have to wait at least once");
    let expected: Vec<u8> = (0..20).flat_map(|i| vec![b'a' + (i % 26) as u8; 5000]).collect();
    assert_eq!(seen.take_body(), expected);
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    // The first would-block is the connect in progress, or the wait for the head.
    assert!(matches!(states[0], State::Connecting | State::ReqCompleteData), "{states:?}");
}

#[test]
fn refused_connect_then_success_on_the_same_client() {
    // A port nobody listens on: bind, note it, drop the listener.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    let err = client.perform().unwrap_err();
    assert!(matches!(err, Error::Client(tern_proto::client::ClientError::Connect)), "{err}");
    assert_eq!(err.client_error().unwrap().esp_err(), 0x7002);
    assert_eq!(client.state(), State::Init);
    assert!(seen.events().contains(&EventId::Error));

    let server = HyperServer::start();
    client.set_url(&server.url("/hello")).unwrap();
    client.perform().unwrap();
    assert_eq!(seen.take_body(), b"hello");
}

//! The async client against hyper, in-process over loopback: whole requests, the streaming
//! flow, keep-alive reuse and events, each checked against what hyper received and sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::sync::{Arc, Mutex};

use tern_proto::Method;
use tern_proto::body::BodyKind;
use tern_proto::client::{ClientConfig, ClientError, Event, EventId, EventKind, State};
use tern_testkit::HyperServer;
use tern_tokio::client::{Client, Error};

/// Starts hyper on its own runtime (its constructor blocks, which a tokio worker must not).
fn hyper() -> HyperServer {
    std::thread::spawn(HyperServer::start).join().unwrap()
}

/// Collects body bytes and event ids from a client's handler.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<(Vec<u8>, Vec<EventId>)>>);

impl Seen {
    fn handler(&self) -> impl FnMut(&Event<'_>) + Send + use<> {
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
    /// The events so far, with runs of `OnHeader` and `OnData` collapsed to one, and cleared.
    fn take_events(&self) -> Vec<EventId> {
        let mut events = std::mem::take(&mut self.0.lock().unwrap().1);
        events.dedup_by(|a, b| a == b && matches!(a, EventId::OnHeader | EventId::OnData));
        events
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn get_delivers_status_and_body() {
    let server = hyper();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(client.content_length(), Some(5));
    assert_eq!(seen.take_body(), b"hello");
    assert!(client.is_complete_data_received());
    assert_eq!(client.state(), State::Connected);
}

#[tokio::test]
async fn post_field_is_echoed_with_its_length_and_type() {
    let server = hyper();
    let url = server.url("/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    let body = b"field1=value1&field2=value2";
    client.set_post_field(Some(body)).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(seen.take_body(), body);
    assert_eq!(client.response_header("x-seen-content-length"), Some(&b"27"[..]));
    assert_eq!(client.response_header("x-seen-content-type"), Some(&b"application/x-www-form-urlencoded"[..]));
}

#[tokio::test]
async fn large_post_field_goes_out_whole() {
    // Far more than a socket buffer: the vectored write is partial and the loop waits for
    // the socket to drain.
    let server = hyper();
    let url = server.url("/echo");
    let body = pattern(3_000_000);
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.set_post_field(Some(&body)).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(seen.take_body(), body);
}

#[tokio::test]
async fn streamed_chunked_upload_and_read_back() {
    let server = hyper();
    let url = server.url("/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Post, buffer_size_tx: 256, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(None).await.unwrap();
    assert_eq!(client.state(), State::ReqCompleteHeader);
    let data = pattern(100_000);
    for part in data.chunks(7_000) {
        assert_eq!(client.write(part).await.unwrap(), part.len());
    }
    assert_eq!(client.fetch_headers().await.unwrap(), Some(data.len() as u64));
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(client.response_header("x-seen-transfer-encoding"), Some(&b"chunked"[..]));
    assert_eq!(client.response_header("x-seen-content-length"), None);
    let mut body = Vec::new();
    let mut buf = [0u8; 777];
    loop {
        let n = client.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    assert_eq!(body, data);
    assert!(client.is_complete_data_received());
    assert_eq!(client.read(&mut buf).await.unwrap(), 0, "the end of the body stays the end");
}

#[tokio::test]
async fn streamed_upload_with_known_length() {
    let server = hyper();
    let url = server.url("/echo");
    let config = ClientConfig { url: Some(&url), method: Method::Put, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(11)).await.unwrap();
    assert_eq!(client.write(b"hello ").await.unwrap(), 6);
    assert_eq!(client.write(b"world").await.unwrap(), 5);
    assert_eq!(client.fetch_headers().await.unwrap(), Some(11));
    assert_eq!(client.response_header("x-seen-content-length"), Some(&b"11"[..]));
    let mut buf = [0u8; 64];
    let n = client.read_response(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"hello world");
}

#[tokio::test]
async fn chunked_response_through_read_to_end() {
    let server = hyper();
    let url = server.url("/chunked?n=40&size=1000");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(0)).await.unwrap();
    assert_eq!(client.fetch_headers().await.unwrap(), None);
    assert_eq!(client.body_kind(), BodyKind::Chunked);
    let body = client.read_to_end(1 << 20).await.unwrap();
    let expected: Vec<u8> = (0..40).flat_map(|i| vec![b'a' + (i % 26) as u8; 1000]).collect();
    assert_eq!(&body[..], &expected[..]);
    assert!(client.is_complete_data_received());
}

#[tokio::test]
async fn read_to_end_refuses_a_body_over_its_limit() {
    let server = hyper();
    let url = server.url("/chunked?n=4&size=1000");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(0)).await.unwrap();
    client.fetch_headers().await.unwrap();
    let err = client.read_to_end(3999).await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 3999 }), "{err}");
    // Exactly at the limit is fine; the half-read body above costs a new connection.
    client.open(Some(0)).await.unwrap();
    client.fetch_headers().await.unwrap();
    assert_eq!(client.read_to_end(4000).await.unwrap().len(), 4000);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn keep_alive_carries_many_requests_on_one_connection() {
    let server = hyper();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    for code in [200u16, 404, 201, 500] {
        client.set_url(&format!("/status/{code}")).unwrap();
        client.perform().await.unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), code);
        assert_eq!(seen.take_body(), format!("status {code}").as_bytes());
    }
    // The streaming flow and whole requests share the connection.
    client.set_url("/echo").unwrap();
    client.set_method(Method::Post);
    client.open(None).await.unwrap();
    client.write(b"streamed").await.unwrap();
    client.fetch_headers().await.unwrap();
    assert_eq!(&client.read_to_end(100).await.unwrap()[..], b"streamed");
    // The handler saw the streamed body too, as OnData.
    assert_eq!(seen.take_body(), b"streamed");
    client.set_url("/hello").unwrap();
    client.set_method(Method::Get);
    client.perform().await.unwrap();
    assert_eq!(seen.take_body(), b"hello");
    assert_eq!(server.connections(), 1);
    assert_eq!(client.connects(), 1);
    let connected = seen.take_events().iter().filter(|e| **e == EventId::OnConnected).count();
    assert_eq!(connected, 1);
}

#[tokio::test]
async fn events_arrive_in_esp_idf_order() {
    use EventId::*;
    let server = hyper();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(
        seen.take_events(),
        [OnConnected, HeadersSent, OnStatusCode, OnHeader, OnHeadersComplete, OnData, OnFinish]
    );
    // Reused: no new OnConnected.
    client.perform().await.unwrap();
    assert_eq!(seen.take_events(), [HeadersSent, OnStatusCode, OnHeader, OnHeadersComplete, OnData, OnFinish]);
    // A server that closes: Disconnected after OnFinish, and a new connection next time.
    client.set_url("/close").unwrap();
    client.perform().await.unwrap();
    assert_eq!(
        seen.take_events(),
        [HeadersSent, OnStatusCode, OnHeader, OnHeadersComplete, OnData, OnFinish, Disconnected]
    );
    assert_eq!(client.state(), State::Init);
    client.perform().await.unwrap();
    assert_eq!(
        seen.take_events(),
        [OnConnected, HeadersSent, OnStatusCode, OnHeader, OnHeadersComplete, OnData, OnFinish, Disconnected]
    );
    assert_eq!(seen.take_body(), b"hellohellobyebye");
    assert_eq!(server.connections(), 2);
    // close() on an open connection says Disconnected once.
    client.set_url("/hello").unwrap();
    client.perform().await.unwrap();
    seen.take_events();
    client.close().await.unwrap();
    assert_eq!(seen.take_events(), [Disconnected]);
    assert_eq!(client.state(), State::Init);
}

#[tokio::test]
async fn head_then_get_on_the_same_connection() {
    let server = hyper();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), method: Method::Head, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(client.body_kind(), BodyKind::None);
    assert!(seen.take_body().is_empty());
    client.set_method(Method::Get);
    client.perform().await.unwrap();
    assert_eq!(seen.take_body(), b"hello");
    assert_eq!(server.connections(), 1);
}

#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn https_is_refused_without_tls() {
    let config = ClientConfig { url: Some("https://127.0.0.1:1/"), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let err = client.perform().await.unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::TlsUnavailable)), "{err}");
    assert_eq!(client.state(), State::Init);
    // The client is usable afterwards.
    let server = hyper();
    client.set_url(&server.url("/hello")).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn a_failed_tls_handshake_leaves_the_client_usable() {
    // hyper speaks plain HTTP: the ClientHello gets no TLS answer.
    let server = hyper();
    let url = server.url("/hello").replacen("http:", "https:", 1);
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let err = client.perform().await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert_eq!(client.state(), State::Init);
    // The client is usable afterwards.
    client.set_url(&server.url("/hello")).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
}

#[tokio::test]
async fn connect_refused_is_a_connect_error() {
    // A port that was just free: nobody listens on it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}/");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    let started = std::time::Instant::now();
    let err = client.perform().await.unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::Connect)), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "refused at once, not timed out");
    assert!(seen.take_events().contains(&EventId::Error));
    assert_eq!(client.connects(), 0);
}

#[tokio::test]
async fn futures_are_send_for_a_send_handler() {
    let server = hyper();
    let url = server.url("/hello");
    let seen = Seen::default();
    let handler = seen.handler();
    // On a spawned task (which needs Send), with the config moved in.
    let task = tokio::spawn(async move {
        let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
        let mut client = Client::with_handler(&config, handler).unwrap();
        client.perform().await.unwrap();
        client.status_code().unwrap().as_u16()
    });
    assert_eq!(task.await.unwrap(), 200);
    assert_eq!(seen.take_body(), b"hello");
}

/// Dropping a client with an open keep-alive connection closes it and reports
/// `Disconnected`, as `esp_http_client_cleanup` does.
#[tokio::test]
async fn dropping_a_connected_client_reports_disconnected() {
    let server = hyper();
    let url = server.url("/hello");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.state(), State::Connected);
    seen.take_events();
    drop(client);
    assert_eq!(seen.take_events(), [EventId::Disconnected]);
}

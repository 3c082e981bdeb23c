//! The async client against httpbin (gunicorn, threaded worker): redirects, Basic and Digest
//! authentication and a chunked upload, against a real third-party server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::sync::{Arc, Mutex};

use tern_proto::Method;
use tern_proto::client::auth::AuthType;
use tern_proto::client::{ClientConfig, ClientError, Event, EventId, EventKind};
use tern_testkit::HttpBin;
use tern_tokio::client::{Client, Error};

/// What the handler saw: the body of the last response, and every event id.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<(Vec<u8>, Vec<EventId>)>>);

impl Seen {
    fn handler(&self) -> impl FnMut(&Event<'_>) + Send + use<> {
        let seen = self.0.clone();
        move |event: &Event<'_>| {
            let mut seen = seen.lock().unwrap();
            match event.kind {
                // Each hop's body starts afresh: keep only the last response's.
                EventKind::OnHeadersComplete => seen.0.clear(),
                EventKind::OnData(data) => seen.0.extend_from_slice(data),
                _ => {}
            }
            seen.1.push(event.kind.id());
        }
    }
    fn text(&self) -> String {
        String::from_utf8(std::mem::take(&mut self.0.lock().unwrap().0)).unwrap()
    }
    fn count(&self, id: EventId) -> usize {
        self.0.lock().unwrap().1.iter().filter(|e| **e == id).count()
    }
}

/// httpbin blocks while it starts; keep that off the test's runtime thread.
async fn httpbin() -> HttpBin {
    tokio::task::spawn_blocking(HttpBin::start).await.unwrap()
}

#[tokio::test]
async fn redirects_are_followed_on_one_connection() {
    let bin = httpbin().await;
    for path in ["/redirect/3", "/relative-redirect/2", "/absolute-redirect/2"] {
        let url = bin.url(path);
        let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
        let seen = Seen::default();
        let mut client = Client::with_handler(&config, seen.handler()).unwrap();
        client.perform().await.unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), 200, "{path}");
        assert!(client.url_str().ends_with("/get"), "{path} ended at {}", client.url_str());
        assert!(seen.text().contains("\"url\""), "{path}");
        assert_eq!(client.connects(), 1, "{path}: same-origin redirects reuse the connection");
        let hops = path.rsplit('/').next().unwrap().parse::<usize>().unwrap();
        assert_eq!(seen.count(EventId::OnFinish), hops + 1, "{path}: one OnFinish per hop");
    }
}

#[tokio::test]
async fn too_many_redirects_fail_and_see_other_turns_post_into_get() {
    let bin = httpbin().await;
    let url = bin.url("/redirect/3");
    let config = ClientConfig { url: Some(&url), max_redirection_count: 2, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let err = client.perform().await.unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::TooManyRedirects { max: 2 })), "{err}");

    let url = bin.url("/redirect-to?url=/anything&status_code=303");
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.set_post_field(Some(b"a=1")).unwrap();
    client.perform().await.unwrap();
    let echoed = seen.text();
    assert!(echoed.contains("\"method\": \"GET\""), "{echoed}");
    assert!(!echoed.contains("\"a\": \"1\""), "the body is dropped: {echoed}");
}

#[tokio::test]
async fn basic_auth_preemptive_challenged_and_wrong() {
    let bin = httpbin().await;
    let url = bin.url("/basic-auth/user/passwd");
    let config = ClientConfig {
        url: Some(&url),
        username: Some("user"),
        password: Some("passwd"),
        auth_type: AuthType::Basic,
        ..ClientConfig::default()
    };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert!(seen.text().contains("\"authenticated\": true"));
    assert_eq!(seen.count(EventId::HeadersSent), 1, "pre-emptive: one request");

    // Challenged: no credentials until the 401 asks for them.
    let config = ClientConfig { auth_type: AuthType::None, ..config };
    let seen = Seen::default();
    let mut client = Client::with_handler(&config, seen.handler()).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert!(seen.text().contains("\"authenticated\": true"));
    assert_eq!(seen.count(EventId::HeadersSent), 2, "challenged: the 401, then the answer");

    // A wrong password: the 401 is the answer, without a loop.
    let config = ClientConfig { password: Some("nope"), ..config };
    let mut client = Client::new(&config).unwrap();
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 401);
}

#[tokio::test]
async fn digest_auth_md5_and_sha256_reuse_the_nonce() {
    let bin = httpbin().await;
    for algorithm in ["MD5", "SHA-256", "MD5-sess"] {
        let url = bin.url(&format!("/digest-auth/auth/user/passwd/{algorithm}"));
        let config = ClientConfig {
            url: Some(&url),
            username: Some("user"),
            password: Some("passwd"),
            ..ClientConfig::default()
        };
        let seen = Seen::default();
        let mut client = Client::with_handler(&config, seen.handler()).unwrap();
        client.perform().await.unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), 200, "{algorithm}");
        assert!(seen.text().contains("\"authenticated\": true"), "{algorithm}");
        assert_eq!(seen.count(EventId::HeadersSent), 2, "{algorithm}: the 401, then the answer");
        // The next request answers the kept nonce at once (nc 2): no new challenge.
        client.perform().await.unwrap();
        assert_eq!(client.status_code().unwrap().as_u16(), 200, "{algorithm} second request");
        assert_eq!(seen.count(EventId::HeadersSent), 3, "{algorithm}: one more request");
    }
}

#[tokio::test]
async fn chunked_upload_is_echoed() {
    let bin = httpbin().await;
    let url = bin.url("/post");
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.set_header("Content-Type", "text/plain").unwrap();
    client.open(None).await.unwrap();
    for part in ["hello ", "chunked ", "world"] {
        client.write(part.as_bytes()).await.unwrap();
    }
    client.fetch_headers().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    let body = client.read_to_end(64 * 1024).await.unwrap();
    let echoed = String::from_utf8_lossy(&body);
    assert!(echoed.contains("\"data\": \"hello chunked world\""), "{echoed}");
}

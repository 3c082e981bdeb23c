//! tern-std against httpbin (gunicorn, threaded worker): redirects, Basic and Digest, chunked
//! both ways, ranges and HEAD, against a real third-party server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::sync::{Arc, Mutex};

use tern_proto::Method;
use tern_proto::body::BodyKind;
use tern_proto::client::auth::AuthType;
use tern_proto::client::{ClientConfig, ClientError, Event, EventKind};
use tern_std::{Client, Error};
use tern_testkit::HttpBin;

/// The body of the last response, as the handler collected it.
type Body = Arc<Mutex<Vec<u8>>>;

/// A client whose handler collects the body of the final response.
fn client<'a>(config: &ClientConfig<'a>) -> (Client<'a, impl FnMut(&Event<'_>) + use<'a>>, Body) {
    let body = Arc::new(Mutex::new(Vec::new()));
    let sink = body.clone();
    let handler = move |event: &Event<'_>| match event.kind {
        // Each hop's body starts afresh: keep only the last response's.
        EventKind::OnHeadersComplete => sink.lock().unwrap().clear(),
        EventKind::OnData(data) => sink.lock().unwrap().extend_from_slice(data),
        _ => {}
    };
    (Client::with_handler(config, handler).unwrap(), body)
}

fn text(body: &Body) -> String {
    String::from_utf8(std::mem::take(&mut *body.lock().unwrap())).unwrap()
}

#[test]
fn relative_and_absolute_redirects_are_followed() {
    let bin = HttpBin::start();
    for path in ["/redirect/3", "/relative-redirect/3", "/absolute-redirect/3"] {
        let url = bin.url(path);
        let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
        let (mut c, body) = client(&config);
        c.perform().unwrap();
        assert_eq!(c.status_code().unwrap().as_u16(), 200, "{path}");
        assert!(c.url_str().ends_with("/get"), "{path} ended at {}", c.url_str());
        assert!(text(&body).contains("\"url\""), "{path}");
        assert_eq!(c.connects(), 1, "{path}: same-origin redirects reuse the connection");
    }
}

#[test]
fn max_redirection_count_stops_the_chain() {
    let bin = HttpBin::start();
    let url = bin.url("/redirect/3");
    let config = ClientConfig { url: Some(&url), max_redirection_count: 2, ..ClientConfig::default() };
    let (mut c, _) = client(&config);
    let err = c.perform().unwrap_err();
    assert!(matches!(err, Error::Client(ClientError::TooManyRedirects { max: 2 })), "{err}");
    assert_eq!(err.client_error().unwrap().esp_err(), 0x7001);
}

#[test]
fn disabled_redirects_are_left_to_the_application() {
    let bin = HttpBin::start();
    let url = bin.url("/redirect/1");
    let config = ClientConfig { url: Some(&url), disable_auto_redirect: true, ..ClientConfig::default() };
    let (mut c, _) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 302);
    c.set_redirection().unwrap();
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 200);
    assert!(c.url_str().ends_with("/get"));
}

#[test]
fn see_other_turns_post_into_get_and_307_keeps_it() {
    let bin = HttpBin::start();
    for (status, method) in [(303, "GET"), (302, "GET"), (307, "POST"), (308, "POST")] {
        let url = bin.url(&format!("/redirect-to?url=/anything&status_code={status}"));
        let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
        let (mut c, body) = client(&config);
        c.set_post_field(Some(b"a=1")).unwrap();
        c.perform().unwrap();
        let echoed = text(&body);
        assert!(echoed.contains(&format!("\"method\": \"{method}\"")), "{status}: {echoed}");
        let form_sent = echoed.contains("\"a\": \"1\"");
        assert_eq!(form_sent, method == "POST", "{status}: body kept only for POST: {echoed}");
    }
}

#[test]
fn basic_auth_preemptive_and_challenged() {
    let bin = HttpBin::start();
    let url = bin.url("/basic-auth/user/passwd");
    // Pre-emptive: one request.
    let config = ClientConfig {
        url: Some(&url),
        username: Some("user"),
        password: Some("passwd"),
        auth_type: AuthType::Basic,
        ..ClientConfig::default()
    };
    let (mut c, body) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 200);
    assert!(text(&body).contains("\"authenticated\": true"));
    // Challenged: no credentials until the 401 asks for them.
    let config = ClientConfig { auth_type: AuthType::None, ..config };
    let (mut c, body) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 200);
    assert!(text(&body).contains("\"authenticated\": true"));
    // Userinfo in the URL, percent-decoded.
    let url = bin.url("/basic-auth/us%40er/p%3Ass").replace("http://", "http://us%40er:p%3Ass@");
    let config = ClientConfig { url: Some(&url), auth_type: AuthType::Basic, ..ClientConfig::default() };
    let (mut c, _) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 200);
}

#[test]
fn basic_auth_with_wrong_password_ends_with_401_and_no_loop() {
    let bin = HttpBin::start();
    let url = bin.url("/basic-auth/user/passwd");
    let config =
        ClientConfig { url: Some(&url), username: Some("user"), password: Some("nope"), ..ClientConfig::default() };
    let (mut c, _) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 401);
}

#[test]
fn no_credentials_means_401_without_retry() {
    let bin = HttpBin::start();
    let url = bin.url("/basic-auth/user/passwd");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let (mut c, _) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 401);
}

#[test]
fn digest_auth_md5_and_sha256() {
    let bin = HttpBin::start();
    for (qop, algorithm) in [("auth", "MD5"), ("auth", "SHA-256"), ("auth", "MD5-sess"), ("auth", "SHA-256-sess")] {
        let url = bin.url(&format!("/digest-auth/{qop}/user/passwd/{algorithm}"));
        let config = ClientConfig {
            url: Some(&url),
            username: Some("user"),
            password: Some("passwd"),
            ..ClientConfig::default()
        };
        let (mut c, body) = client(&config);
        c.perform().unwrap();
        assert_eq!(c.status_code().unwrap().as_u16(), 200, "{algorithm}");
        assert!(text(&body).contains("\"authenticated\": true"), "{algorithm}");
        // The nonce is reused on the next request, with nc 2: no new challenge needed.
        c.perform().unwrap();
        assert_eq!(c.status_code().unwrap().as_u16(), 200, "{algorithm} second request");
    }
}

#[test]
fn chunked_responses_and_chunked_uploads() {
    let bin = HttpBin::start();
    let url = bin.url("/stream/20");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let (mut c, body) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.body_kind(), BodyKind::Chunked);
    assert_eq!(text(&body).lines().count(), 20);

    let url = bin.url("/stream-bytes/50000?chunk_size=1000&seed=7");
    c.set_url(&url).unwrap();
    c.perform().unwrap();
    assert_eq!(body.lock().unwrap().len(), 50000);

    // Upload chunked through the streaming flow; httpbin echoes it in "data".
    let url = bin.url("/post");
    let config = ClientConfig { url: Some(&url), method: Method::Post, ..ClientConfig::default() };
    let mut c = Client::new(&config).unwrap();
    c.set_header("Content-Type", "text/plain").unwrap();
    c.open(None).unwrap();
    for part in ["hello ", "chunked ", "world"] {
        c.write(part.as_bytes()).unwrap();
    }
    c.fetch_headers().unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read_response(&mut buf).unwrap();
    let echoed = String::from_utf8_lossy(&buf[..n]);
    assert!(echoed.contains("\"data\": \"hello chunked world\""), "{echoed}");
}

#[test]
fn range_request_gets_partial_content() {
    let bin = HttpBin::start();
    let url = bin.url("/range/100");
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let (mut c, body) = client(&config);
    c.set_header("Range", "bytes=10-19").unwrap();
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 206);
    assert_eq!(text(&body), "klmnopqrst");
    assert_eq!(c.content_length(), Some(10));
}

#[test]
fn head_gives_headers_only() {
    let bin = HttpBin::start();
    let url = bin.url("/get");
    let config = ClientConfig { url: Some(&url), method: Method::Head, ..ClientConfig::default() };
    let (mut c, body) = client(&config);
    c.perform().unwrap();
    assert_eq!(c.status_code().unwrap().as_u16(), 200);
    assert!(c.content_length().is_some_and(|n| n > 0));
    assert!(text(&body).is_empty());
    // And the connection carries a GET afterwards.
    c.set_method(Method::Get);
    c.perform().unwrap();
    assert!(text(&body).contains("\"url\""));
    assert_eq!(c.connects(), 1);
}

//! Redirects: RFC 3986 resolution of `Location`, method rewriting per RFC 9110 section 15.4,
//! origin changes (credentials dropped, new connection), downgrade refusal, counters and the
//! manual flow of `disable_auto_redirect`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Ev, Gate, Peer, client, client_for, data_of, perform, status};
use tern_proto::client::auth::AuthType;
use tern_proto::client::url::Scheme;
use tern_proto::client::{ClientConfig, ClientError, EventId};
use tern_proto::{Method, StatusCode};

fn redirect(code: u16, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn relative_locations_resolve_per_rfc3986_on_the_same_connection() {
    let (mut client, _log) = client_for("http://example.test/a/b/c?q=1");
    let hops = [
        redirect(302, "../d?x=2"),                          // -> /a/d?x=2
        redirect(302, "e"),                                 // -> /a/e
        redirect(302, "?only"),                             // -> /a/e?only
        redirect(302, "//example.test/abs"),                // network-path reference, same origin
        redirect(302, "http://EXAMPLE.test:80/x/./y/../z"), // same origin, dot segments removed
    ];
    let mut responses: Vec<&[u8]> = hops.iter().map(|h| h.as_slice()).collect();
    responses.push(OK);
    let mut peer = Peer::new([Conn::answers(&responses)]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    let lines: Vec<String> = peer.requests(0).iter().map(|r| r.line().to_owned()).collect();
    assert_eq!(
        lines,
        [
            "GET /a/b/c?q=1 HTTP/1.1",
            "GET /a/d?x=2 HTTP/1.1",
            "GET /a/e HTTP/1.1",
            "GET /a/e?only HTTP/1.1",
            "GET /abs HTTP/1.1",
            "GET /x/z HTTP/1.1",
        ]
    );
    assert_eq!(peer.connects, 1);
    assert_eq!(status(&client), 200);
    assert_eq!(client.url_str(), "http://EXAMPLE.test:80/x/z");
    assert_eq!(peer.requests(0)[5].header("Host"), Some("EXAMPLE.test"));
}

#[test]
fn cross_origin_redirect_drops_credentials_and_authorization_and_reconnects() {
    let config = ClientConfig {
        url: Some("http://user:pass@example.test/start"),
        auth_type: AuthType::Basic,
        ..ClientConfig::default()
    };
    let (mut client, _log) = support::client(&config);
    client.set_header("X-Keep", "1").unwrap();
    let mut peer = Peer::new([Conn::answer(&redirect(302, "http://other.test:8080/landing")), Conn::answer(OK)]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    let first = &peer.requests(0)[0];
    assert_eq!(first.header("Authorization"), Some("Basic dXNlcjpwYXNz"));
    let second = &peer.requests(1)[0];
    assert_eq!(second.line(), "GET /landing HTTP/1.1");
    assert_eq!(second.header("Authorization"), None);
    assert_eq!(second.header("Host"), Some("other.test:8080"));
    assert_eq!(second.header("X-Keep"), Some("1"));
    assert_eq!(peer.endpoints[1], (Scheme::Http, "other.test".to_owned(), 8080));
    assert_eq!(peer.connects, 2);
    assert_eq!(peer.closes, 1, "the first connection was closed");
    assert_eq!(client.username(), None);
}

#[test]
fn cross_origin_redirect_drops_a_caller_set_authorization_header() {
    let (mut client, _log) = client_for("http://example.test/start");
    client.set_header("Authorization", "Bearer secret-token").unwrap();
    let mut peer = Peer::new([Conn::answer(&redirect(307, "http://evil.test/")), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].header("Authorization"), Some("Bearer secret-token"));
    assert_eq!(peer.requests(1)[0].header("Authorization"), None);
    assert_eq!(client.get_header("Authorization"), None);
}

#[test]
fn port_change_is_a_new_origin() {
    let config = ClientConfig {
        url: Some("http://example.test/"),
        username: Some("u"),
        password: Some("p"),
        auth_type: AuthType::Basic,
        ..ClientConfig::default()
    };
    let (mut client, _log) = support::client(&config);
    let mut peer = Peer::new([Conn::answer(&redirect(301, "http://example.test:81/")), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.connects, 2);
    assert_eq!(peer.requests(1)[0].header("Host"), Some("example.test:81"));
    assert_eq!(peer.requests(1)[0].header("Authorization"), None);
}

#[test]
fn same_origin_redirect_keeps_credentials() {
    let config = ClientConfig {
        url: Some("http://example.test/"),
        username: Some("u"),
        password: Some("p"),
        auth_type: AuthType::Basic,
        ..ClientConfig::default()
    };
    let (mut client, _log) = support::client(&config);
    let mut peer = Peer::new([Conn::answers(&[&redirect(302, "/next"), OK])]);
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[1].header("Authorization"), Some("Basic dTpw"));
}

fn post_client(url: &'static str) -> (support::TestClient, support::Log) {
    let config = ClientConfig { url: Some(url), method: Method::Post, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    client.set_post_field(Some(b"a=1&b=2")).unwrap();
    (client, log)
}

#[test]
fn see_other_turns_post_into_get_without_body_or_content_type() {
    let (mut client, _log) = post_client("http://example.test/form");
    let mut peer = Peer::new([Conn::answers(&[&redirect(303, "/result"), OK])]);
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[0].line(), "POST /form HTTP/1.1");
    assert_eq!(reqs[0].body, b"a=1&b=2");
    assert_eq!(reqs[1].line(), "GET /result HTTP/1.1");
    assert_eq!(reqs[1].header("Content-Type"), None);
    assert_eq!(reqs[1].header("Content-Length"), None);
    assert_eq!(reqs[1].header("Transfer-Encoding"), None);
    assert!(reqs[1].body.is_empty());
    assert_eq!(reqs.len(), 2, "nothing else was sent: {:?}", peer.request(0));
    // The settings stay: the next perform is the configured POST again.
    assert_eq!(client.method(), Method::Post);
    assert_eq!(client.post_field(), Some(&b"a=1&b=2"[..]));
}

#[test]
fn see_other_turns_put_into_get_but_keeps_head() {
    let config = ClientConfig { url: Some("http://example.test/x"), method: Method::Put, ..ClientConfig::default() };
    let (mut client, _log) = support::client(&config);
    client.set_post_field(Some(b"data")).unwrap();
    let mut peer = Peer::new([Conn::answers(&[&redirect(303, "/y"), OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[1].line(), "GET /y HTTP/1.1");

    let config = ClientConfig { url: Some("http://example.test/x"), method: Method::Head, ..ClientConfig::default() };
    let (mut client, _log) = support::client(&config);
    let mut peer =
        Peer::new([Conn::answers(&[&redirect(303, "/y"), b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[1].line(), "HEAD /y HTTP/1.1");
    assert_eq!(client.content_length(), Some(100));
}

#[test]
fn moved_and_found_turn_post_into_get() {
    for code in [301, 302] {
        let (mut client, _log) = post_client("http://example.test/form");
        let mut peer = Peer::new([Conn::answers(&[&redirect(code, "/elsewhere"), OK])]);
        perform(&mut peer, &mut client).unwrap();
        let reqs = peer.requests(0);
        assert_eq!(reqs[1].line(), "GET /elsewhere HTTP/1.1", "{code}");
        assert_eq!(reqs[1].header("Content-Type"), None, "{code}");
        assert!(reqs[1].body.is_empty());
    }
}

#[test]
fn moved_keeps_put_with_its_body() {
    let config = ClientConfig { url: Some("http://example.test/x"), method: Method::Put, ..ClientConfig::default() };
    let (mut client, _log) = support::client(&config);
    client.set_post_field(Some(b"data")).unwrap();
    let mut peer = Peer::new([Conn::answers(&[&redirect(301, "/y"), OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[1].line(), "PUT /y HTTP/1.1");
    assert_eq!(peer.requests(0)[1].body, b"data");
}

#[test]
fn temporary_and_permanent_redirects_keep_post_and_body() {
    for code in [307, 308] {
        let (mut client, _log) = post_client("http://example.test/form");
        let mut peer = Peer::new([Conn::answers(&[&redirect(code, "/again"), OK])]);
        perform(&mut peer, &mut client).unwrap();
        let reqs = peer.requests(0);
        assert_eq!(reqs[1].line(), "POST /again HTTP/1.1", "{code}");
        assert_eq!(reqs[1].body, b"a=1&b=2");
        assert_eq!(reqs[1].header("Content-Type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(reqs[1].header("Content-Length"), Some("7"));
    }
}

#[test]
fn https_to_http_is_refused() {
    let (mut client, log) = client_for("https://secure.test/");
    let mut peer = Peer::new([Conn::answer(&redirect(302, "http://secure.test/plain"))]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::RedirectDowngrade));
    assert_eq!(peer.endpoints, [(Scheme::Https, "secure.test".to_owned(), 443)]);
    assert_eq!(peer.connects, 1);
    assert!(log.take().iter().any(|(_, _, e)| *e == Ev::Error(ClientError::RedirectDowngrade)));
    assert_eq!(ClientError::RedirectDowngrade.esp_err(), 0x700D);
    // The URL is unchanged.
    assert_eq!(client.url_str(), "https://secure.test/");
}

#[test]
fn http_to_https_is_followed_on_a_new_tls_connection() {
    let (mut client, _log) = client_for("http://site.test/");
    let mut peer = Peer::new([Conn::answer(&redirect(301, "https://site.test/")), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(
        peer.endpoints,
        [(Scheme::Http, "site.test".to_owned(), 80), (Scheme::Https, "site.test".to_owned(), 443)]
    );
    assert_eq!(status(&client), 200);
}

#[test]
fn disabled_auto_redirect_hands_the_redirect_to_the_application() {
    let config =
        ClientConfig { url: Some("http://example.test/old"), disable_auto_redirect: true, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let mut peer = Peer::new([Conn::answers(&[&redirect(302, "new?x=1"), OK])]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 302);
    let events = log.take();
    assert!(events.iter().any(|(id, _, e)| *id == EventId::Redirect && *e == Ev::Redirect(302)));
    assert_eq!(peer.requests(0).len(), 1);
    // The application follows it.
    client.set_redirection().unwrap();
    assert_eq!(client.url_str(), "http://example.test/new?x=1");
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 200);
    assert_eq!(peer.requests(0)[1].line(), "GET /new?x=1 HTTP/1.1");
    assert_eq!(peer.connects, 1);
    // Nothing to follow after a 200.
    assert!(matches!(client.set_redirection(), Err(ClientError::InvalidState { .. })));
}

#[test]
fn manual_see_other_after_post_follows_as_get() {
    let config = ClientConfig {
        url: Some("http://example.test/form"),
        method: Method::Post,
        disable_auto_redirect: true,
        ..ClientConfig::default()
    };
    let (mut client, _log) = support::client(&config);
    client.set_post_field(Some(b"a=1")).unwrap();
    let mut peer = Peer::new([Conn::answers(&[&redirect(303, "/done"), OK, OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 303);
    client.set_redirection().unwrap();
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[1].line(), "GET /done HTTP/1.1", "{}", peer.request(0));
    assert!(reqs[1].body.is_empty());
    assert_eq!(reqs[1].header("Content-Type"), None);
    // Only that request: the next perform is the configured POST again, to the new URL.
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[2].line(), "POST /done HTTP/1.1");
    assert_eq!(reqs[2].body, b"a=1");
}

#[test]
fn manual_redirect_refuses_a_downgrade() {
    let config =
        ClientConfig { url: Some("https://secure.test/"), disable_auto_redirect: true, ..ClientConfig::default() };
    let (mut client, _log) = support::client(&config);
    let mut peer = Peer::new([Conn::answer(&redirect(302, "http://secure.test/plain"))]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 302);
    assert_eq!(client.set_redirection(), Err(ClientError::RedirectDowngrade));
    assert_eq!(client.url_str(), "https://secure.test/");
}

#[test]
fn max_redirection_count_two_fails_on_the_third_redirect() {
    let config =
        ClientConfig { url: Some("http://example.test/0"), max_redirection_count: 2, ..ClientConfig::default() };
    let (mut client, _log) = support::client(&config);
    let hops = [redirect(302, "/1"), redirect(302, "/2"), redirect(302, "/3")];
    let mut peer = Peer::new([Conn::answers(&[&hops[0], &hops[1], &hops[2], OK])]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::TooManyRedirects { max: 2 }));
    assert_eq!(peer.requests(0).len(), 3);
    assert_eq!(ClientError::TooManyRedirects { max: 2 }.esp_err(), 0x7001);

    // Two redirects are fine, and the count starts again with each perform.
    let (mut client, _log) = support::client(&config);
    let mut peer = Peer::new([Conn::answers(&[&hops[0], &hops[1], OK, &hops[2], &hops[0], OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
}

#[test]
fn redirect_without_location_fails() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")]);
    let err = perform(&mut peer, &mut client).unwrap_err();
    assert_eq!(err, ClientError::RedirectWithoutLocation(StatusCode::new(302).unwrap()));
    assert_eq!(err.esp_err(), 0x102);
}

#[test]
fn multiple_choices_and_not_modified_are_not_followed() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 300 Multiple Choices\r\nLocation: /a\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 304 Not Modified\r\nLocation: /b\r\n\r\n",
        OK,
    ])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 300);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 304);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let lines: Vec<String> = peer.requests(0).iter().map(|r| r.line().to_owned()).collect();
    assert_eq!(lines, ["GET / HTTP/1.1"; 3]);
}

#[test]
fn cross_origin_redirect_drains_a_slow_body_before_switching() {
    let (mut client, log) = client_for("http://a.test/");
    let first = Conn::default()
        .reply(Gate::Requests(1), b"HTTP/1.1 302 Found\r\nLocation: http://b.test/\r\nContent-Length: 6\r\n\r\nab")
        .reply(Gate::At(3000), b"cdef");
    let mut peer = Peer::new([first, Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(data_of(&log.take()), b"abcdefok");
    assert_eq!(peer.connects, 2);
}

#[test]
fn redirect_through_a_closing_response_reconnects_to_the_same_host() {
    let (mut client, _log) = client_for("http://example.test/a");
    let mut peer = Peer::new([
        Conn::answer_and_close(b"HTTP/1.1 302 Found\r\nLocation: /b\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        Conn::answer(OK),
    ]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.connects, 2);
    assert_eq!(peer.requests(1)[0].line(), "GET /b HTTP/1.1");
}

#[test]
fn unusable_location_fails() {
    let (mut client, _log) = client_for("http://example.test/");
    let mut peer = Peer::new([Conn::answer(&redirect(302, "ftp://example.test/file"))]);
    assert!(matches!(perform(&mut peer, &mut client), Err(ClientError::BadLocation(_))));
}

#[test]
fn a_close_delimited_redirect_body_is_drained_then_followed_on_a_new_connection() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer =
        Peer::new([Conn::answer_and_close(b"HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\nmoved to /b"), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(data_of(&log.take()), b"moved to /bok");
    assert_eq!(peer.requests(1)[0].line(), "GET /b HTTP/1.1");
}

#[test]
fn the_fragment_of_a_location_is_not_sent() {
    let (mut client, _log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::answers(&[&redirect(302, "/b?q=1#section"), OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[1].line(), "GET /b?q=1 HTTP/1.1");
}

#[test]
fn a_redirect_in_a_chunked_response_is_drained_and_followed() {
    let (mut client, log) = client_for("http://example.test/a");
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 301 Moved\r\nLocation: /b\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ngone\r\n0\r\n\r\n",
        OK,
    ])])
    .with_io_size(3);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(data_of(&log.take()), b"goneok");
    assert_eq!(peer.connects, 1);
}

#[test]
fn set_url_after_set_redirection_cancels_the_redirect_method_change() {
    let config = ClientConfig {
        url: Some("http://example.test/form"),
        method: Method::Post,
        disable_auto_redirect: true,
        ..ClientConfig::default()
    };
    let (mut client, _log) = support::client(&config);
    client.set_post_field(Some(b"a=1")).unwrap();
    let mut peer = Peer::new([Conn::answers(&[&redirect(303, "/done"), OK])]);
    perform(&mut peer, &mut client).unwrap();
    client.set_redirection().unwrap();
    client.set_url("/other").unwrap();
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[1].line(), "POST /other HTTP/1.1");
    assert_eq!(reqs[1].body, b"a=1");
}

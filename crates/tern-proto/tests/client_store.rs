//! The client's store (URL, credentials, headers in the caller's memory): what happens when
//! it is full.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Peer, client, perform};
use tern_proto::client::{ClientConfig, ClientError};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn small_store() -> ClientConfig<'static> {
    ClientConfig { url: Some("http://example.test/"), store_size: 100, ..ClientConfig::default() }
}

#[test]
fn a_url_whose_credentials_do_not_fit_changes_nothing() {
    let (mut client, _log) = client(&small_store());
    let long_user = format!("http://{}:pw@example.test/abc", "u".repeat(30));
    assert!(matches!(client.set_url(&long_user), Err(ClientError::StoreFull { .. })));
    assert_eq!(client.url_str(), "http://example.test/");
    assert_eq!(client.username(), None);
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.request(0), "GET / HTTP/1.1\r\nUser-Agent: tern/0.1.0\r\nHost: example.test\r\n\r\n");
}

#[test]
fn a_cross_origin_url_that_does_not_fit_keeps_the_old_one_and_its_credentials() {
    let config = ClientConfig { username: Some("user"), password: Some("pass"), ..small_store() };
    let (mut client, _log) = client(&config);
    let far = format!("http://{}.test/", "h".repeat(40));
    assert!(matches!(client.set_url(&far), Err(ClientError::StoreFull { .. })));
    assert_eq!(client.url_str(), "http://example.test/");
    assert_eq!(client.username(), Some(&b"user"[..]));
    assert_eq!(client.get_header("Host"), Some(&b"example.test"[..]));
}

#[test]
fn a_header_that_does_not_fit_is_refused() {
    let (mut client, _log) = client(&small_store());
    assert!(matches!(client.set_header("X-Big", &"v".repeat(60)), Err(ClientError::StoreFull { .. })));
    assert_eq!(client.get_header("X-Big"), None);
    client.set_header("X-Small", "1").unwrap();
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].header("X-Small"), Some("1"));
}

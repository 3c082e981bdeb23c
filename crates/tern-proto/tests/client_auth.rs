//! Authentication through the engine: 401 without credentials, Basic (challenge-driven,
//! pre-emptive, from percent-decoded userinfo) and Digest (MD5, SHA-256, -sess, nonce-count
//! reuse, stale nonces), each answer checked by recomputing it as the server would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::collections::HashMap;

use md5::{Digest, Md5};
use sha2::Sha256;
use support::{Conn, Done, Peer, Req, client, client_for, perform, status};
use tern_proto::Method;
use tern_proto::client::ClientConfig;
use tern_proto::client::auth::AuthType;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn unauthorized(challenge: &str) -> Vec<u8> {
    format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 6\r\n\r\ndenied")
        .into_bytes()
}

fn with_credentials(url: &'static str) -> ClientConfig<'static> {
    ClientConfig {
        url: Some(url),
        username: Some("Mufasa"),
        password: Some("Circle of Life"),
        ..ClientConfig::default()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(algorithm: &str, data: &str) -> String {
    if algorithm.to_ascii_uppercase().starts_with("SHA-256") {
        hex(&Sha256::digest(data.as_bytes()))
    } else {
        hex(&Md5::digest(data.as_bytes()))
    }
}

/// The parameters of a `Digest ...` Authorization value.
fn digest_params(value: &str) -> HashMap<String, String> {
    let rest = value.strip_prefix("Digest ").expect("a Digest answer");
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return out;
        }
        let mut v = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.push(chars.next().unwrap()),
                    '"' => break,
                    c => v.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                v.push(c);
                chars.next();
            }
        }
        out.insert(name.trim().to_owned(), v.trim().to_owned());
    }
}

/// Checks a Digest answer as the server would, for `password` and `method`; returns its
/// parameters.
fn verify_digest(req: &Req, method: &str, password: &str) -> HashMap<String, String> {
    let p = digest_params(req.header("Authorization").expect("an Authorization header"));
    let algorithm = p.get("algorithm").cloned().unwrap_or_else(|| "MD5".to_owned());
    let mut ha1 = hash(&algorithm, &format!("{}:{}:{}", p["username"], p["realm"], password));
    if algorithm.to_ascii_lowercase().ends_with("-sess") {
        ha1 = hash(&algorithm, &format!("{ha1}:{}:{}", p["nonce"], p["cnonce"]));
    }
    let ha2 = hash(&algorithm, &format!("{method}:{}", p["uri"]));
    let expected = match p.get("qop") {
        Some(qop) => hash(&algorithm, &format!("{ha1}:{}:{}:{}:{qop}:{ha2}", p["nonce"], p["nc"], p["cnonce"])),
        None => hash(&algorithm, &format!("{ha1}:{}:{ha2}", p["nonce"])),
    };
    assert_eq!(p["response"], expected, "digest response for {p:?}");
    p
}

#[test]
fn unauthorized_without_credentials_finishes_with_401_and_no_retry() {
    let (mut client, _log) = client_for("http://example.test/secret");
    let mut peer = Peer::new([Conn::answers(&[&unauthorized("Basic realm=\"x\""), OK])]);
    assert_eq!(perform(&mut peer, &mut client).unwrap(), Done::Finished);
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 1);
    assert!(client.is_complete_data_received());
    // The same client goes on.
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.connects, 1);
}

#[test]
fn unauthorized_without_a_challenge_finishes_with_401() {
    let (mut client, _log) = client(&with_credentials("http://example.test/"));
    let mut peer = Peer::new([Conn::answers(&[b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 1);
}

#[test]
fn unauthorized_with_an_unknown_scheme_finishes_with_401() {
    let (mut client, _log) = client(&with_credentials("http://example.test/"));
    let mut peer = Peer::new([Conn::answers(&[&unauthorized("Bearer realm=\"api\""), OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 1);
}

#[test]
fn basic_challenge_is_answered_then_sent_pre_emptively() {
    let (mut client, _log) = client(&with_credentials("http://example.test/basic"));
    let mut peer = Peer::new([Conn::answers(&[&unauthorized("Basic realm=\"users\""), OK, OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let reqs = peer.requests(0);
    assert_eq!(reqs[0].header("Authorization"), None);
    assert_eq!(reqs[1].header("Authorization"), Some("Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl"));
    // Now known to be Basic: the next request carries it from the start.
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].header("Authorization"), Some("Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl"));
    assert_eq!(peer.connects, 1);
}

#[test]
fn pre_emptive_basic_with_auth_type_basic() {
    let config = ClientConfig { auth_type: AuthType::Basic, ..with_credentials("http://example.test/") };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(peer.requests(0)[0].header("Authorization"), Some("Basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl"));
}

#[test]
fn refused_basic_credentials_are_not_retried() {
    let config = ClientConfig { auth_type: AuthType::Basic, ..with_credentials("http://example.test/") };
    let (mut client, _log) = client(&config);
    let challenge = unauthorized("Basic realm=\"x\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, &challenge, &challenge])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 1);
}

#[test]
fn userinfo_credentials_are_percent_decoded() {
    let config = ClientConfig {
        url: Some("http://us%40er:p%3Ass%20w@example.test/"),
        auth_type: AuthType::Basic,
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    // base64("us@er:p:ss w")
    assert_eq!(peer.requests(0)[0].header("Authorization"), Some("Basic dXNAZXI6cDpzcyB3"));
    assert_eq!(client.username(), Some(&b"us@er"[..]));
    // The userinfo never reaches the request.
    assert_eq!(peer.requests(0)[0].line(), "GET / HTTP/1.1");
    assert_eq!(peer.requests(0)[0].header("Host"), Some("example.test"));
}

#[test]
fn max_authorization_retries_minus_one_never_retries() {
    let config = ClientConfig { max_authorization_retries: -1, ..with_credentials("http://example.test/") };
    let (mut client, _log) = client(&config);
    let mut peer = Peer::new([Conn::answers(&[&unauthorized("Basic realm=\"x\""), OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 1);
}

#[test]
fn digest_md5_with_qop_auth() {
    let (mut client, _log) = client(&with_credentials("http://example.test/dir/index.html?a=b"));
    let challenge = unauthorized(
        "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
    );
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let reqs = peer.requests(0);
    let p = verify_digest(&reqs[1], "GET", "Circle of Life");
    assert_eq!(p["username"], "Mufasa");
    assert_eq!(p["realm"], "testrealm@host.com");
    assert_eq!(p["uri"], "/dir/index.html?a=b");
    assert_eq!(p["qop"], "auth", "one qop, never the offered list");
    assert_eq!(p["nc"], "00000001");
    assert_eq!(p["opaque"], "5ccc069c403ebaf9f0171e9517f40e41");
    assert_eq!(p["cnonce"].len(), 16);
}

#[test]
fn digest_sha256_with_a_quoted_algorithm() {
    let (mut client, _log) = client(&with_credentials("http://example.test/api"));
    let challenge = unauthorized("Digest realm=\"api\", qop=\"auth\", algorithm=\"SHA-256\", nonce=\"n1\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    let p = verify_digest(&peer.requests(0)[1], "GET", "Circle of Life");
    assert_eq!(p["algorithm"], "SHA-256");
    assert_eq!(p["response"].len(), 64);
}

#[test]
fn digest_prefers_sha256_over_md5_among_challenges() {
    let (mut client, _log) = client(&with_credentials("http://example.test/api"));
    let resp = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"api\", qop=\"auth\", algorithm=MD5, nonce=\"n1\"\r\nWWW-Authenticate: Digest realm=\"api\", qop=\"auth\", algorithm=SHA-256, nonce=\"n1\"\r\nWWW-Authenticate: Basic realm=\"api\"\r\nContent-Length: 0\r\n\r\n";
    let mut peer = Peer::new([Conn::answers(&[resp, OK])]);
    perform(&mut peer, &mut client).unwrap();
    let p = verify_digest(&peer.requests(0)[1], "GET", "Circle of Life");
    assert_eq!(p["algorithm"], "SHA-256");
}

#[test]
fn digest_sess_algorithms() {
    for algorithm in ["MD5-sess", "SHA-256-sess"] {
        let (mut client, _log) = client(&with_credentials("http://example.test/s"));
        let challenge =
            unauthorized(&format!("Digest realm=\"r\", qop=\"auth\", algorithm={algorithm}, nonce=\"abc\""));
        let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(status(&client), 200, "{algorithm}");
        let p = verify_digest(&peer.requests(0)[1], "GET", "Circle of Life");
        assert_eq!(p["algorithm"], algorithm);
    }
}

#[test]
fn digest_without_qop_uses_the_rfc2069_form() {
    let (mut client, _log) = client(&with_credentials("http://example.test/old"));
    let challenge = unauthorized("Digest realm=\"r\", nonce=\"abc\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    let p = verify_digest(&peer.requests(0)[1], "GET", "Circle of Life");
    assert!(!p.contains_key("qop"));
    assert!(!p.contains_key("nc"));
}

#[test]
fn digest_nonce_is_reused_with_a_growing_nonce_count() {
    let (mut client, _log) = client(&with_credentials("http://example.test/r"));
    let challenge = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"reused\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK, OK, OK])]);
    for _ in 0..3 {
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(status(&client), 200);
    }
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 4, "one challenge, then pre-emptive answers");
    let mut cnonces = Vec::new();
    for (req, nc) in reqs[1..].iter().zip(["00000001", "00000002", "00000003"]) {
        let p = verify_digest(req, "GET", "Circle of Life");
        assert_eq!(p["nonce"], "reused");
        assert_eq!(p["nc"], nc);
        cnonces.push(p["cnonce"].clone());
    }
    cnonces.dedup();
    assert_eq!(cnonces.len(), 3, "a fresh cnonce per request");
}

#[test]
fn digest_stale_nonce_is_retried_without_asking_again() {
    let (mut client, _log) = client(&with_credentials("http://example.test/r"));
    let first = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"old\"");
    let stale = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"new\", stale=true");
    let mut peer = Peer::new([Conn::answers(&[&first, OK, &stale, OK])]);
    perform(&mut peer, &mut client).unwrap();
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 4);
    let p = verify_digest(&reqs[2], "GET", "Circle of Life");
    assert_eq!((p["nonce"].as_str(), p["nc"].as_str()), ("old", "00000002"));
    let p = verify_digest(&reqs[3], "GET", "Circle of Life");
    assert_eq!((p["nonce"].as_str(), p["nc"].as_str()), ("new", "00000001"));
}

#[test]
fn digest_wrong_password_stops_after_one_answer() {
    let (mut client, _log) = client(&with_credentials("http://example.test/r"));
    let challenge = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"n\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, &challenge, &challenge, &challenge])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 2);
}

#[test]
fn digest_post_hashes_the_method_and_keeps_the_body() {
    let config = ClientConfig { method: Method::Post, ..with_credentials("http://example.test/submit") };
    let (mut client, _log) = client(&config);
    client.set_post_field(Some(b"x=1")).unwrap();
    let challenge = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"n\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    verify_digest(&reqs[1], "POST", "Circle of Life");
    assert_eq!(reqs[1].body, b"x=1");
}

#[test]
fn auth_type_digest_waits_for_the_challenge() {
    let config = ClientConfig { auth_type: AuthType::Digest, ..with_credentials("http://example.test/") };
    let (mut client, _log) = client(&config);
    let challenge = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"n\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[0].header("Authorization"), None);
    verify_digest(&reqs[1], "GET", "Circle of Life");
}

#[test]
fn challenge_on_a_closing_response_is_answered_on_a_new_connection() {
    let (mut client, _log) = client(&with_credentials("http://example.test/"));
    let challenge =
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let mut peer = Peer::new([Conn::answer_and_close(challenge), Conn::answer(OK)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    assert_eq!(peer.connects, 2);
    assert!(peer.requests(1)[0].header("Authorization").is_some());
}

#[test]
fn redirect_then_challenge_then_success() {
    let (mut client, _log) = client(&with_credentials("http://example.test/a"));
    let mut peer = Peer::new([Conn::answers(&[
        b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
        &unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"n\""),
        OK,
    ])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 200);
    let reqs = peer.requests(0);
    assert_eq!(reqs.len(), 3);
    let p = verify_digest(&reqs[2], "GET", "Circle of Life");
    assert_eq!(p["uri"], "/b");
}

#[test]
fn new_username_starts_a_new_digest_exchange() {
    let (mut client, _log) = client(&with_credentials("http://example.test/"));
    let challenge = unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"n\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK, &challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    client.set_username(Some("Simba")).unwrap();
    client.set_password(Some("Hakuna")).unwrap();
    perform(&mut peer, &mut client).unwrap();
    let reqs = peer.requests(0);
    assert_eq!(reqs[2].header("Authorization"), None);
    let p = verify_digest(&reqs[3], "GET", "Hakuna");
    assert_eq!((p["username"].as_str(), p["nc"].as_str()), ("Simba", "00000001"));
}

#[test]
fn a_challenge_offering_only_auth_int_is_not_answered() {
    let (mut client, _log) = client(&with_credentials("http://example.test/"));
    let challenge = unauthorized("Digest realm=\"r\", qop=\"auth-int\", nonce=\"n\"");
    let mut peer = Peer::new([Conn::answers(&[&challenge, OK])]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 1);
}

#[test]
fn endless_stale_nonces_stop_at_max_authorization_retries() {
    let config = ClientConfig { max_authorization_retries: 3, ..with_credentials("http://example.test/") };
    let (mut client, _log) = client(&config);
    let stale: Vec<Vec<u8>> = (0..10)
        .map(|i| unauthorized(&format!("Digest realm=\"r\", qop=\"auth\", nonce=\"n{i}\", stale=true")))
        .collect();
    let refs: Vec<&[u8]> = stale.iter().map(|r| r.as_slice()).collect();
    let mut peer = Peer::new([Conn::answers(&refs)]);
    perform(&mut peer, &mut client).unwrap();
    assert_eq!(status(&client), 401);
    assert_eq!(peer.requests(0).len(), 4, "the first request and three answers");
}

#[test]
fn unusable_credentials_are_refused_before_connecting() {
    use tern_proto::client::ClientError;
    use tern_proto::client::auth::AuthError;
    for (user, error) in [("us\u{1}er", AuthError::InvalidCredentials), ("us:er", AuthError::ColonInUsername)] {
        let config = ClientConfig {
            url: Some("http://example.test/p"),
            username: Some(user),
            password: Some("secret"),
            auth_type: AuthType::Basic,
            buffer_size_tx: 64,
            ..ClientConfig::default()
        };
        let (mut client, _log) = client(&config);
        let mut peer = Peer::new([Conn::answer(OK)]);
        assert_eq!(client.perform(peer.now), Err(ClientError::Auth(error)));
        assert_eq!(peer.connects, 0);
        // Fixing the credentials makes the client usable.
        client.set_username(Some("user")).unwrap();
        perform(&mut peer, &mut client).unwrap();
        assert_eq!(status(&client), 200);
    }
}

#[test]
fn unusable_credentials_found_on_a_challenge_end_the_perform_without_sending() {
    use tern_proto::client::ClientError;
    use tern_proto::client::auth::AuthError;
    let config = ClientConfig {
        url: Some("http://example.test/p"),
        username: Some("bad\u{7f}user"),
        password: Some("x"),
        buffer_size_tx: 256,
        ..ClientConfig::default()
    };
    let (mut client, _log) = client(&config);
    // A head of several pages: nothing of the retry may go out.
    for i in 0..5 {
        client.set_header(&format!("X-Pad-{i}"), &"p".repeat(60)).unwrap();
    }
    let mut peer = Peer::new([Conn::answers(&[&unauthorized("Digest realm=\"r\", qop=\"auth\", nonce=\"n\""), OK])]);
    assert_eq!(perform(&mut peer, &mut client), Err(ClientError::Auth(AuthError::InvalidCredentials)));
    let sent = peer.request(0);
    assert_eq!(sent.matches("GET /p HTTP/1.1").count(), 1, "nothing of a second request: {sent:?}");
}

#[test]
fn who_is_at_fault_for_auth_errors() {
    use tern_proto::client::ClientError;
    use tern_proto::client::auth::AuthError;
    // A malformed challenge is the server's fault.
    let (mut client, _log) = client(&with_credentials("http://example.test/"));
    let mut peer = Peer::new([Conn::answer(&unauthorized("Digest realm=\"unterminated"))]);
    let err = perform(&mut peer, &mut client).unwrap_err();
    assert!(matches!(err, ClientError::Auth(AuthError::MalformedChallenge { .. })), "{err:?}");
    assert!(err.is_remote() && !err.is_local());
    // Credentials that cannot be sent are the caller's.
    let err = ClientError::Auth(AuthError::ColonInUsername);
    assert!(err.is_local() && !err.is_remote());
}

//! The test PKI checked by OpenSSL: the good certificates verify, each broken one fails for
//! its one reason, and the openssl and nginx peers serve TLS with them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::path::Path;
use std::process::{Command, Output};

use tern_testkit::pki::{Leaf, Pki};
use tern_testkit::{Nginx, OpensslServer, nginx, s_client};

/// `openssl verify -CAfile CA EXTRA... CERT`.
fn verify(pki: &Pki, cert: &Path, extra: &[&str]) -> Output {
    Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(pki.ca_path())
        .args(extra)
        .arg(cert)
        .output()
        .expect("run openssl verify")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn assert_verifies(pki: &Pki, cert: &Path, extra: &[&str]) {
    let out = verify(pki, cert, extra);
    assert!(out.status.success(), "{} should verify:\n{}", cert.display(), text(&out));
}

fn assert_refused(pki: &Pki, cert: &Path, extra: &[&str], reason: &str) {
    let out = verify(pki, cert, extra);
    assert!(!out.status.success(), "{} should not verify:\n{}", cert.display(), text(&out));
    assert!(text(&out).contains(reason), "{} should fail with {reason:?}:\n{}", cert.display(), text(&out));
}

#[test]
fn server_and_client_leaves_verify_with_their_purposes() {
    let pki = Pki::new();
    assert_verifies(&pki, &pki.server().cert_path, &["-purpose", "sslserver", "-verify_hostname", "localhost"]);
    assert_verifies(&pki, &pki.server().cert_path, &["-verify_ip", "127.0.0.1"]);
    assert_verifies(&pki, &pki.server().cert_path, &["-verify_ip", "::1"]);
    assert_verifies(&pki, &pki.client().cert_path, &["-purpose", "sslclient"]);
    assert_refused(&pki, &pki.client().cert_path, &["-purpose", "sslserver"], "unsuitable certificate purpose");
    assert_refused(&pki, &pki.server().cert_path, &["-purpose", "sslclient"], "unsuitable certificate purpose");
}

#[test]
fn files_and_memory_agree() {
    let pki = Pki::new();
    assert!(pki.ca_path().starts_with(pki.dir()));
    assert_eq!(std::fs::read_to_string(pki.ca_path()).unwrap(), pki.ca_pem());
    assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(pki.ca_der()[0], 0x30, "DER starts with a SEQUENCE");
    for files in [pki.server(), pki.client()] {
        assert_eq!(std::fs::read_to_string(&files.cert_path).unwrap(), files.cert_pem);
        assert_eq!(std::fs::read_to_string(&files.key_path).unwrap(), files.key_pem);
        assert!(files.key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8");
        assert_eq!(files.cert_pem.matches("BEGIN CERTIFICATE").count(), 1, "the leaf only");
    }
    let dir = pki.dir().to_path_buf();
    drop(pki);
    assert!(!dir.exists(), "the directory is removed on drop");
}

#[test]
fn issue_writes_a_leaf_named_after_it() {
    let pki = Pki::new();
    let leaf = Leaf { dns: vec!["tern.test".to_owned()], ..Leaf::server("custom") };
    let files = pki.issue(&leaf);
    assert_eq!(files.cert_path, pki.dir().join("custom.pem"));
    assert_eq!(files.key_path, pki.dir().join("custom-key.pem"));
    assert_verifies(&pki, &files.cert_path, &["-verify_hostname", "tern.test"]);
}

#[test]
fn expired_is_refused() {
    let pki = Pki::new();
    assert_refused(&pki, &pki.expired_server().cert_path, &[], "certificate has expired");
}

#[test]
fn not_yet_valid_is_refused() {
    let pki = Pki::new();
    assert_refused(&pki, &pki.not_yet_valid_server().cert_path, &[], "not yet valid");
}

#[test]
fn other_ca_is_refused() {
    let pki = Pki::new();
    assert_refused(&pki, &pki.other_ca_server().cert_path, &[], "unable to get local issuer certificate");
}

#[test]
fn bad_signature_is_refused() {
    let pki = Pki::new();
    let bad = pki.bad_signature_server();
    assert_refused(&pki, &bad.cert_path, &[], "signature failure");
    // Still a well-formed certificate: openssl parses it.
    let parsed = Command::new("openssl").arg("x509").arg("-noout").arg("-in").arg(&bad.cert_path).output().unwrap();
    assert!(parsed.status.success(), "{}", text(&parsed));
}

#[test]
fn wrong_name_verifies_but_not_for_localhost() {
    let pki = Pki::new();
    let wrong = pki.wrong_name_server();
    assert_verifies(&pki, &wrong.cert_path, &[]);
    assert_verifies(&pki, &wrong.cert_path, &["-verify_hostname", "other.example"]);
    assert_refused(&pki, &wrong.cert_path, &["-verify_hostname", "localhost"], "hostname mismatch");
}

#[test]
fn s_client_gets_an_http_response_from_s_server() {
    let pki = Pki::new();
    let server = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www"]);
    let out = s_client(
        server.port(),
        pki.ca_path(),
        "localhost",
        b"GET / HTTP/1.0\r\n\r\n",
        &["-verify_hostname", "localhost"],
    );
    assert!(out.status.success(), "{}\ns_server:\n{}", text(&out), server.log());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("HTTP/1.0 200 ok\r\n"), "{}", text(&out));
}

#[test]
fn s_client_refuses_an_untrusted_server() {
    let pki = Pki::new();
    let other = pki.other_ca_server();
    let server = OpensslServer::start(&other.cert_path, &other.key_path, &["-www"]);
    let out = s_client(server.port(), pki.ca_path(), "localhost", b"GET / HTTP/1.0\r\n\r\n", &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("unable to get local issuer certificate"), "{}", text(&out));
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl").args(["-sS", "--max-time", "10"]).args(args).output().expect("run curl")
}

#[test]
fn curl_gets_hello_from_nginx_over_tls() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let ca = pki.ca_path().to_str().unwrap();
    let url = format!("https://localhost:{}/", nginx.port());
    // Two URLs on one connection: keep-alive works over TLS.
    let out = curl(&["--cacert", ca, &url, &url, "-w", "%{num_connects}\n"]);
    assert!(out.status.success(), "{}\nnginx:\n{}", text(&out), nginx.error_log());
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}1\n{}0\n", nginx::HELLO, nginx::HELLO));
    // Without the CA, curl refuses the server.
    let out = curl(&[&url]);
    assert_eq!(out.status.code(), Some(60), "{}", text(&out));
}

#[test]
fn curl_gets_hello_from_plain_nginx() {
    let nginx = Nginx::start_plain();
    let out = curl(&["-i", &format!("http://127.0.0.1:{}/", nginx.port())]);
    let response = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("Content-Length: 17\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nhello from nginx\n"), "{response}");
}

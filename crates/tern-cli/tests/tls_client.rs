//! `tern https://...` next to curl, against nginx and `openssl s_server` with a CA made at
//! test time: the same body and the same exit code for each certificate refusal, `-k`,
//! mutual TLS with `--cert`/`--key`, and `--tlsv1.3` / `--tls-max`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;

use common::{assert_same, tern};
use tern_testkit::{Nginx, OpensslServer, Pki, nginx::HELLO};

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn cacert_against_nginx_and_openssl_s_server() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let url = format!("https://localhost:{}/", nginx.port());
    let run = assert_same(&["-sS", "--cacert", path(pki.ca_path()), &url, &url]);
    assert_eq!(run.text(), HELLO.repeat(2));
    assert_eq!(run.code, 0);

    let s_server = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www"]);
    let url = format!("https://localhost:{}/", s_server.port());
    let run = tern(&["-sS", "--cacert", path(pki.ca_path()), &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.text().contains("Protocol  : TLSv1.3"), "{}", run.text());
}

#[test]
fn refusals_exit_like_curl_and_k_accepts() {
    let pki = Pki::new();
    let cases = [
        (pki.expired_server(), "it has expired"),
        (pki.other_ca_server(), "unknown issuer"),
        (pki.wrong_name_server(), "not valid for the name \"localhost\""),
    ];
    for (cert, reason) in cases {
        let nginx = Nginx::start_tls(&cert.cert_path, &cert.key_path);
        let url = format!("https://localhost:{}/", nginx.port());
        let run = assert_same(&["-sS", "--cacert", path(pki.ca_path()), &url]);
        assert_eq!(run.code, 60, "{}", run.stderr);
        assert!(run.stderr.contains("SSL certificate problem: ") && run.stderr.contains(reason), "{}", run.stderr);
        let run = assert_same(&["-sS", "-k", &url]);
        assert_eq!(run.text(), HELLO);
    }
    // A flipped signature byte: 60 with the reason. (curl on OpenSSL 3 stops earlier, at
    // decoding the certificate, with 35.)
    let bad = pki.bad_signature_server();
    let nginx = Nginx::start_tls(&bad.cert_path, &bad.key_path);
    let url = format!("https://localhost:{}/", nginx.port());
    let run = tern(&["-sS", "--cacert", path(pki.ca_path()), &url]);
    assert_eq!(run.code, 60, "{}", run.stderr);
    assert!(run.stderr.contains("bad signature"), "{}", run.stderr);

    // A CA file that holds no certificate: curl's 77.
    let bogus = common::temp_path("bogus-ca.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let run = tern(&["-sS", "--cacert", path(&bogus), "https://localhost:1/"]);
    assert_eq!(run.code, 77, "{}", run.stderr);
    let _ = std::fs::remove_file(bogus);
}

#[test]
fn mutual_tls_with_cert_and_key() {
    let pki = Pki::new();
    let ca = path(pki.ca_path());
    let s_server =
        OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www", "-Verify", "1", "-CAfile", ca]);
    let url = format!("https://localhost:{}/", s_server.port());
    let run = tern(&[
        "-sS",
        "--cacert",
        ca,
        "--cert",
        path(&pki.client().cert_path),
        "--key",
        path(&pki.client().key_path),
        &url,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.text().contains("tern test client"), "the server saw our certificate: {}", run.text());
    // A certificate without its key is a local error (curl's 58).
    let run = tern(&["-sS", "--cacert", ca, "--cert", path(&pki.client().cert_path), &url]);
    assert_eq!(run.code, 58, "{}", run.stderr);
}

#[test]
fn tls_version_flags() {
    let pki = Pki::new();
    let ca = path(pki.ca_path());
    let tls12_only = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www", "-tls1_2"]);
    let url = format!("https://localhost:{}/", tls12_only.port());
    let run = tern(&["-sS", "--cacert", ca, "--tlsv1.2", &url]);
    assert!(run.text().contains("Protocol  : TLSv1.2"), "{}", run.stderr);
    let run = assert_same(&["-sS", "--cacert", ca, "--tlsv1.3", &url]);
    assert_eq!(run.code, 35);
    let any = OpensslServer::start(&pki.server().cert_path, &pki.server().key_path, &["-www"]);
    let url = format!("https://localhost:{}/", any.port());
    let run = tern(&["-sS", "--cacert", ca, "--tls-max", "1.2", &url]);
    assert!(run.text().contains("Protocol  : TLSv1.2"), "{}", run.stderr);
    let run = tern(&["-sS", "--cacert", ca, "--tlsv1.3", &url]);
    assert!(run.text().contains("Protocol  : TLSv1.3"), "{}", run.stderr);
}

#[test]
fn write_out_times_the_handshake_like_curl() {
    let pki = Pki::new();
    let nginx = Nginx::start_tls(&pki.server().cert_path, &pki.server().key_path);
    let url = format!("https://localhost:{}/", nginx.port());
    let format = "%{time_appconnect} %{time_total}";
    for run in [
        tern(&["-s", "-o", "/dev/null", "--cacert", path(pki.ca_path()), "-w", format, &url]),
        common::curl(&["-s", "-o", "/dev/null", "--cacert", path(pki.ca_path()), "-w", format, &url]),
    ] {
        let text = run.text();
        let (appconnect, total) = text.split_once(' ').unwrap();
        // Seconds with six decimals, as curl prints them.
        assert!(appconnect.len() >= 8 && appconnect.as_bytes()[appconnect.len() - 7] == b'.', "{text}");
        let (appconnect, total): (f64, f64) = (appconnect.parse().unwrap(), total.parse().unwrap());
        assert!(appconnect > 0.0 && appconnect <= total && total < 5.0, "{text}");
    }
    // Plain http has no handshake: 0.000000, as curl says.
    let plain = Nginx::start_plain();
    let url = format!("http://127.0.0.1:{}/", plain.port());
    let run = assert_same(&["-s", "-o", "/dev/null", "-w", "%{time_appconnect}", &url]);
    assert_eq!(run.text(), "0.000000");
}

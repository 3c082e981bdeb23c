//! `tern serve --tls CERT KEY`: the file server over HTTPS, with curl `--cacert` and tern's own
//! client as the clients, and a refused handshake that leaves the server serving.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{curl, tern};
use tern_testkit::Pki;

/// A running `tern serve --tls`, killed when dropped.
struct Served {
    child: Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(pki: &Pki, dir: &std::path::Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["serve", "--port", "0", "--tls"])
        .arg(&pki.server().cert_path)
        .arg(&pki.server().key_path)
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line
        .trim_end()
        .rsplit_once("https://127.0.0.1:")
        .and_then(|(_, rest)| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    Served { child, port }
}

#[test]
fn curl_and_tern_fetch_and_upload_over_https() {
    let pki = Pki::new();
    let dir = pki.dir().join("served");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), b"hello over tls\n").unwrap();
    let served = serve(&pki, &dir);
    let base = format!("https://localhost:{}", served.port);
    let ca = pki.ca_path().to_str().unwrap();

    let run = curl(&["-sS", "--cacert", ca, &format!("{base}/hello.txt")]);
    assert_eq!((run.code, run.text().as_str()), (0, "hello over tls\n"), "{}", run.stderr);
    let run = tern(&["-sS", "--cacert", ca, &format!("{base}/hello.txt")]);
    assert_eq!((run.code, run.text().as_str()), (0, "hello over tls\n"), "{}", run.stderr);
    let run = curl(&["-sS", "--cacert", ca, &format!("{base}/")]);
    assert!(run.text().contains("hello.txt"), "the listing: {}", run.text());

    // An upload through tern's client, read back through curl.
    let body: String = (0..20_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let run = tern(&["-sS", "--cacert", ca, "--data-binary", &body, &format!("{base}/upload/big.txt")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("big.txt")).unwrap(), body);
    let run = curl(&["-sS", "--cacert", ca, &format!("{base}/big.txt")]);
    assert_eq!(run.text(), body);

    // A client that does not trust the certificate is refused, and the server serves on.
    let run = curl(&["-sS", &format!("{base}/hello.txt")]);
    assert_eq!(run.code, 60, "{}", run.stderr);
    let run = curl(&["-sS", "--cacert", ca, &format!("{base}/hello.txt")]);
    assert_eq!(run.text(), "hello over tls\n");
}

#[test]
fn unusable_certificate_files_stop_it_with_a_reason() {
    let pki = Pki::new();
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["serve", "--port", "0", "--tls"])
        .arg(&pki.server().cert_path)
        .arg(pki.ca_path()) // a certificate where the key should be
        .arg(pki.dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot use") && stderr.contains("private key"), "{stderr}");
}

//! `tern`'s own behaviour where it is not a byte-for-byte comparison with curl: `-v` traces,
//! https without TLS, unreadable `@file` data, option errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;

use common::{assert_same, closed_port, curl, tern};
use tern_testkit::HttpBin;

/// The `prefix` lines of a `-v` trace, sorted, without the ones that vary (Date) or that curl
/// and tern word differently.
fn trace_lines(stderr: &str, prefix: &str) -> Vec<String> {
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.starts_with(prefix) && !l.starts_with(&format!("{prefix}Date:")))
        .map(|l| l.trim_end().to_owned())
        .collect();
    lines.sort();
    lines
}

#[test]
fn verbose_shows_the_same_heads_as_curl() {
    let bin = HttpBin::start();
    let url = bin.url("/redirect/1");
    let args = ["-s", "-v", "-L", "-A", "ua/1", "-o", "/dev/null", &url];
    let (t, c) = (tern(&args), curl(&args));
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert_eq!(trace_lines(&t.stderr, "> "), trace_lines(&c.stderr, "> "));
    assert_eq!(trace_lines(&t.stderr, "< "), trace_lines(&c.stderr, "< "));
    assert!(t.stderr.contains("> GET /redirect/1 HTTP/1.1\n"), "{}", t.stderr);
    assert!(t.stderr.contains("< HTTP/1.1 302 FOUND\n"), "{}", t.stderr);
    assert!(t.stderr.contains("* Connected to 127.0.0.1 port "), "{}", t.stderr);
    assert!(t.stderr.contains("* Issue another request to this URL: '"), "{}", t.stderr);
    // Heads never reach stdout without -i.
    assert_eq!(t.stdout, b"");
}

#[test]
fn https_failures_before_any_handshake_exit_like_curl() {
    let port = closed_port().to_string();
    let url = format!("https://127.0.0.1:{port}/");
    let run = assert_same(&["-sS", "-k", "-w", "%{http_code}", &url]);
    assert_eq!(run.code, 7);
    assert_eq!(run.text(), "000");
    // tern reads its certificate files before connecting: 77 (curl reads them at the
    // handshake, so against a closed port it says 7 first).
    let run = tern(&["-s", "--cacert", "/nonexistent/ca.pem", &url]);
    assert_eq!(run.code, 77);
}

#[test]
fn unreadable_data_file_is_a_read_error() {
    // curl 7.88 warns and sends an empty body; tern refuses, with curl's read-error code.
    let run = tern(&["-sS", "-d", "@/nonexistent/tern-data", "http://127.0.0.1:9/"]);
    assert_eq!(run.code, 26);
    assert!(run.stderr.starts_with("tern: (26) "), "{}", run.stderr);
}

#[test]
fn silent_hides_errors_unless_show_error() {
    let url = "http://nonexistent.invalid/";
    assert_eq!(tern(&["-s", url]).stderr, "");
    assert_eq!(tern(&["-sS", url]).stderr, "tern: (6) Could not resolve host: nonexistent.invalid\n");
    assert_eq!(tern(&[url]).stderr, "tern: (6) Could not resolve host: nonexistent.invalid\n");
}

#[test]
fn option_errors_exit_with_2() {
    assert_eq!(tern(&[]).code, 2);
    assert_eq!(tern(&["--no-such-option", "http://h/"]).code, 2);
    assert_eq!(tern(&["-m", "-1", "http://h/"]).code, 2);
    assert_eq!(tern(&["--help"]).code, 0);
}

#[test]
fn a_closed_stdout_is_a_write_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let bin = HttpBin::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["-s", &bin.url("/bytes/100000?seed=2")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    assert_eq!(child.wait().unwrap().code(), Some(23), "curl's 'failure writing output'");
}

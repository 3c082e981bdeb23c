//! Runs `tern` (the binary cargo built) and `curl` with the same arguments, for the tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::process::Command;

/// What a run printed and how it exited.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

fn run(program: &str, args: &[&str]) -> Run {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (curl must be installed for these tests): {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The tern binary.
pub fn tern(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_tern"), args)
}

/// curl.
pub fn curl(args: &[&str]) -> Run {
    run("curl", args)
}

/// Runs both; asserts the same exit code and the same stdout bytes; returns tern's run.
pub fn assert_same(args: &[&str]) -> Run {
    let (t, c) = (tern(args), curl(args));
    assert_eq!(t.code, c.code, "exit code for {args:?}\ntern stderr: {}\ncurl stderr: {}", t.stderr, c.stderr);
    assert!(t.stdout == c.stdout, "stdout for {args:?}\n--- tern\n{}\n--- curl\n{}", t.text(), c.text());
    t
}

/// Response heads without the lines that vary between two requests (Date).
pub fn without_date(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).split_inclusive('\n').filter(|l| !l.starts_with("Date:")).collect()
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A fresh path in the temporary directory.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tern-cli-{}-{name}", std::process::id()))
}

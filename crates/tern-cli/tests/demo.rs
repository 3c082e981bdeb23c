//! `tern demo`: every step passes, quickly, and the event log shows what each step claims.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::process::Command;
use std::time::{Duration, Instant};

/// The steps, in order, as their summary lines name them.
const STEPS: [&str; 10] = [
    "GET",
    "POST echo",
    "chunked upload",
    "chunked download",
    "redirect",
    "Basic auth",
    "Digest auth",
    "Digest auth, wrong password",
    "keep-alive",
    "WebSocket echo",
];

/// Runs `tern demo ARGS`; its stdout, after checking it exited with 0 in under 5 s.
fn demo(args: &[&str]) -> String {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tern")).arg("demo").args(args).output().unwrap();
    let elapsed = start.elapsed();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tern demo failed: {:?}\n{stdout}\n{stderr}", out.status);
    assert!(elapsed < Duration::from_secs(5), "tern demo took {elapsed:?}");
    stdout
}

/// The lines of one step: from its `step N/10: name` line to its summary line.
fn section<'a>(log: &'a str, name: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.iter().position(|l| l.ends_with(&format!("/10: {name}"))).unwrap_or_else(|| panic!("{name}"));
    let end = start + lines[start..].iter().position(|l| l.starts_with(&format!("✓ {name}: "))).unwrap();
    lines[start..=end].to_vec()
}

fn count(lines: &[&str], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

/// The client's status codes in a step, in order.
fn statuses(lines: &[&str]) -> Vec<u16> {
    lines
        .iter()
        .filter_map(|l| l.split_once("HTTP_EVENT_ON_STATUS_CODE, status=").map(|(_, s)| s.parse().unwrap()))
        .collect()
}

/// Body bytes the client's ON_DATA events delivered in a step.
fn data_len(lines: &[&str]) -> usize {
    lines
        .iter()
        .filter_map(|l| l.split_once("HTTP_EVENT_ON_DATA, len=").map(|(_, n)| n.parse::<usize>().unwrap()))
        .sum()
}

#[test]
fn every_step_passes_and_the_log_shows_it() {
    let log = demo(&[]);
    for name in STEPS {
        assert_eq!(log.lines().filter(|l| l.starts_with(&format!("✓ {name}: "))).count(), 1, "{name}:\n{log}");
    }
    assert!(!log.contains('✗'), "{log}");
    assert!(log.lines().any(|l| l.starts_with("tern demo: 10/10 steps passed in ")), "{log}");
    // ESP-IDF's log format: level, milliseconds, tag.
    assert!(log.lines().any(|l| l.starts_with("I (") && l.contains(") HTTP_CLIENT: HTTP_EVENT_ON_CONNECTED")));
    // Every HTTP step ends with its client's cleanup.
    for name in &STEPS[..9] {
        assert_eq!(count(&section(&log, name), "HTTP_EVENT_DISCONNECTED"), 1, "{name}");
    }

    let get = section(&log, "GET");
    assert_eq!(statuses(&get), [200]);
    assert_eq!(count(&get, "httpd: GET /hello -> 200"), 1);
    assert_eq!(data_len(&get), 12);

    let redirect = section(&log, "redirect");
    assert_eq!(statuses(&redirect), [302, 200]);
    assert_eq!(count(&redirect, "key=Location, value=/hello"), 1);

    let download = section(&log, "chunked download");
    assert_eq!(count(&download, "key=Transfer-Encoding, value=chunked"), 1);
    assert_eq!(data_len(&download), "tern sends this in chunks".len());

    assert_eq!(count(&section(&log, "chunked upload"), "httpd: POST /upload -> 200 (chunked body, 37 bytes)"), 1);

    // Both auth steps: a 401 with a challenge, then a 200 the server granted.
    let basic = section(&log, "Basic auth");
    assert_eq!(statuses(&basic), [401, 200]);
    assert_eq!(count(&basic, r#"key=WWW-Authenticate, value=Basic realm="tern demo""#), 1);
    assert_eq!(count(&basic, "httpd: GET /basic -> 401 (no credentials)"), 1);
    assert_eq!(count(&basic, "httpd: GET /basic -> 200 (Basic, user tern)"), 1);
    let digest = section(&log, "Digest auth");
    assert_eq!(statuses(&digest), [401, 200, 200]);
    assert_eq!(count(&digest, r#"key=WWW-Authenticate, value=Digest realm="tern demo", qop="auth""#), 1);
    assert_eq!(count(&digest, "httpd: GET /digest -> 401 (no credentials)"), 1);
    assert_eq!(count(&digest, "httpd: GET /digest -> 200 (Digest MD5 qop=auth verified, user tern)"), 2);
    let wrong = section(&log, "Digest auth, wrong password");
    assert_eq!(statuses(&wrong), [401, 401]);
    assert_eq!(count(&wrong, "refused: response hash does not match the password"), 1);

    // Keep-alive: three requests, one connection.
    let keep_alive = section(&log, "keep-alive");
    assert_eq!(statuses(&keep_alive), [200, 200, 200]);
    assert_eq!(count(&keep_alive, "HTTP_EVENT_ON_CONNECTED"), 1, "{keep_alive:#?}");
    assert_eq!(count(&keep_alive, "HTTP_EVENT_HEADERS_SENT"), 3);
    assert_eq!(count(&keep_alive, "HTTP_EVENT_DISCONNECTED"), 1);
    assert!(keep_alive.last().unwrap().contains("ON_CONNECTED ×1, server sessions opened: 1"));

    let ws = section(&log, "WebSocket echo");
    assert_eq!(count(&ws, "httpd: GET /ws -> 101"), 1);
    assert_eq!(count(&ws, "WEBSOCKET_EVENT_CONNECTED"), 1);
    assert_eq!(count(&ws, r#"WEBSOCKET_EVENT_DATA, opcode=1, len=20: "hello over WebSocket""#), 1);
    assert_eq!(count(&ws, "WEBSOCKET_EVENT_CLOSED, code=1000"), 1);
}

#[test]
fn quiet_prints_only_the_summary() {
    let log = demo(&["--quiet"]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), STEPS.len() + 1, "{log}");
    for (line, name) in lines.iter().zip(STEPS) {
        assert!(line.starts_with(&format!("✓ {name}: ")), "{line}");
    }
    assert!(lines[STEPS.len()].starts_with("tern demo: 10/10 steps passed"));
}

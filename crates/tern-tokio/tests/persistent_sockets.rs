//! The `persistent_sockets` example over real loopback sockets, driven by Python's
//! http.client, curl and raw TCP: the per-session integer, `/login` and `/logout`, and each
//! session context created and freed exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's `pub` items are for the tests
#[path = "../examples/persistent_sockets.rs"]
mod persistent_sockets;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use persistent_sockets::ctx_counts;
use support::{Raw, blocking, curl, eventually, get, py_sequence, with_body};
use tern_tokio::server::Server;
use tokio::sync::{Mutex, MutexGuard};

/// The context counters are global to the test binary: tests that create contexts run one at
/// a time, so each can tell its own creations and frees apart.
static SERIAL: Mutex<()> = Mutex::const_new(());

async fn start() -> (Server, SocketAddr, MutexGuard<'static, ()>) {
    let serial = SERIAL.lock().await;
    let config = support::on_loopback(persistent_sockets::config(0));
    let server = persistent_sockets::start(config).await.unwrap();
    let addr = server.local_addr();
    (server, addr, serial)
}

fn bodies(results: &[support::PyResult]) -> Vec<&str> {
    results.iter().map(|r| r.body.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn adder_keeps_its_value_for_the_session() {
    let (server, addr, _serial) = start().await;
    let (first, second) = blocking(move || {
        let first = py_sequence(
            addr,
            &[
                "GET /adder",
                "PUT /adder 40",
                "GET /adder",
                "POST /adder 5",
                "POST /adder -3",
                "POST /adder 12abc",
                "GET /adder",
            ],
        );
        let second = py_sequence(addr, &["GET /adder", "POST /adder 7", "GET /adder"]);
        (first, second)
    })
    .await;
    // GET on a new session: 0; PUT sets (and answers 1); POST adds, atoi-style.
    assert_eq!(bodies(&first), ["0", "1", "40", "45", "42", "54", "54"]);
    assert!(first.iter().all(|r| r.status == 200 && r.local_port == first[0].local_port), "{first:?}");
    // Another connection, another session: its own value.
    assert_eq!(bodies(&second), ["0", "7", "7"]);
    assert_ne!(second[0].local_port, first[0].local_port);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_and_logout_set_and_clear_the_session_context() {
    let (server, addr, _serial) = start().await;
    let before = ctx_counts();
    let results = blocking(move || {
        py_sequence(
            addr,
            &[
                "GET /login",
                "GET /logout",
                "GET /logout",
                "PUT /adder 9",
                "GET /login",
                "GET /adder",
                "GET /logout",
                "GET /adder",
            ],
        )
    })
    .await;
    let seen: Vec<(u16, &str)> = results.iter().map(|r| (r.status, r.body.as_str())).collect();
    assert_eq!(
        seen,
        [
            (200, "1"), // a context holding 1
            (200, "1"), // dropped
            (200, "1"), // nothing to drop
            (200, "1"), // a new context, set to 9
            (200, "1"), // login keeps an existing context
            (200, "9"), // still 9
            (200, "1"), // dropped
            (200, "0"), // a new context again
        ]
    );
    assert!(results.iter().all(|r| r.local_port == results[0].local_port), "{results:?}");
    server.stop().await;
    let after = ctx_counts();
    // Three contexts: created by /login, PUT /adder and the last GET; freed by the two
    // logouts and the session's close.
    assert_eq!((after.0 - before.0, after.1 - before.1), (3, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_context_is_freed_once_when_its_session_closes() {
    let (server, addr, _serial) = start().await;
    let handle = server.handle();
    let before = ctx_counts();
    // Two sessions with a context, one without.
    let (mut a, mut b, mut c) = blocking(move || {
        let mut a = Raw::connect(addr);
        let mut b = Raw::connect(addr);
        let mut c = Raw::connect(addr);
        assert_eq!(a.exchange(with_body("POST", "/adder", "3")).text(), "3");
        assert_eq!(a.exchange(with_body("POST", "/adder", "4")).text(), "7");
        assert_eq!(b.exchange(get("/adder")).text(), "0");
        assert_eq!(c.exchange(get("/logout")).text(), "1");
        (a, b, c)
    })
    .await;
    assert_eq!(ctx_counts().0 - before.0, 2);
    assert_eq!(ctx_counts().1, before.1);
    // a leaves: its context is freed, and only its.
    a.shutdown_write();
    assert!(eventually(Duration::from_secs(3), || ctx_counts().1 - before.1 == 1).await);
    assert!(eventually(Duration::from_secs(3), || handle.client_list().len() == 2).await);
    (b, c) = blocking(move || {
        assert_eq!(b.exchange(with_body("POST", "/adder", "1")).text(), "1");
        assert_eq!(c.exchange(get("/adder")).text(), "0");
        (b, c)
    })
    .await;
    assert_eq!(ctx_counts().0 - before.0, 3);
    // Stopping the server closes b and c and frees their contexts.
    server.stop().await;
    blocking(move || {
        b.assert_closed();
        c.assert_closed();
        a.assert_closed();
    })
    .await;
    let after = ctx_counts();
    assert_eq!((after.0 - before.0, after.1 - before.1), (3, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_keeps_one_session_across_requests() {
    let (server, addr, _serial) = start().await;
    let before = ctx_counts();
    let ran = blocking(move || {
        let url = format!("http://{addr}/adder");
        curl(&["-v", "-d", "5", &url, "-:", "-d", "7", &url, "-:", &url])
    })
    .await;
    assert_eq!(ran.stdout_text(), "51212");
    assert!(ran.stderr.contains("Re-using"), "{}", ran.stderr);
    server.stop().await;
    let after = ctx_counts();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn adder_without_a_body_closes_the_session() {
    let (server, addr, _serial) = start().await;
    blocking(move || {
        let mut raw = Raw::connect(addr);
        raw.send(with_body("POST", "/adder", ""));
        // The handler fails (nothing to read): no answer, and the session closes.
        assert!(raw.read_to_end().is_empty());
        // An unknown route is ESP-IDF's 404.
        let mut raw = Raw::connect(addr);
        let resp = raw.exchange(get("/nothing"));
        assert_eq!((resp.status, resp.text().as_str()), (404, "Nothing matches the given URI"));
        raw.assert_closed();
    })
    .await;
    server.stop().await;
}

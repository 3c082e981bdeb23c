//! The server's life around its handlers, over real loopback sockets: stop, the open and
//! close hooks, session contexts, clients that vanish, the idle timeout, and a handler that
//! panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Raw, blocking, eventually, get, with_body};
use tern_proto::Method;
use tern_tokio::server::{Config, Request, Server, ServerHandle, SessionId, UriHandler};

/// A session context that counts its drops (its free hook).
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A server with a few handlers and hooks that record what happened.
struct Harness {
    server: Server,
    addr: SocketAddr,
    /// The sessions the close hook ran for, in order.
    closed: Arc<Mutex<Vec<SessionId>>>,
    /// Contexts dropped.
    drops: Arc<AtomicUsize>,
    /// While set, the open hook refuses connections.
    refuse: Arc<AtomicBool>,
}

impl Harness {
    async fn start(tweak: impl FnOnce(&mut Config)) -> Harness {
        let closed = Arc::new(Mutex::new(Vec::new()));
        let drops = Arc::new(AtomicUsize::new(0));
        let refuse = Arc::new(AtomicBool::new(false));
        let mut config = support::on_loopback(Config::default());
        let on_close = closed.clone();
        config.close_fn = Some(Arc::new(move |id| on_close.lock().unwrap().push(id)));
        let refusing = refuse.clone();
        config.open_fn = Some(Arc::new(move |_, _| !refusing.load(Ordering::SeqCst)));
        tweak(&mut config);
        let server = Server::start(config).await.unwrap();
        let hello = |mut req: Request| async move { req.send(b"Hello World!").await };
        server.register_uri_handler(UriHandler::new("/hello", Method::Get, hello)).unwrap();
        server
            .register_uri_handler(UriHandler::new("/echo", Method::Post, |mut req: Request| async move {
                let body = req.recv_body(64 * 1024).await?;
                req.send(&body).await
            }))
            .unwrap();
        let counter = drops.clone();
        server
            .register_uri_handler(UriHandler::new("/ctx", Method::Get, move |mut req: Request| {
                let counter = counter.clone();
                async move {
                    let uses = req.with_sess_ctx_or_insert(
                        || (Tracked(counter), 0u32),
                        |(_, uses)| {
                            *uses += 1;
                            *uses
                        },
                    );
                    req.send(uses.unwrap_or(0).to_string().as_bytes()).await
                }
            }))
            .unwrap();
        // Answers the head, then never ends: only the server's stop ends it.
        server
            .register_uri_handler(UriHandler::new("/hang", Method::Get, |mut req: Request| async move {
                req.send_chunk(b"waiting").await?;
                std::future::pending::<()>().await;
                Ok(())
            }))
            .unwrap();
        server
            .register_uri_handler(UriHandler::new("/panic", Method::Get, |_req: Request| async move {
                panic!("a handler that panics (expected by the test)");
            }))
            .unwrap();
        let addr = server.local_addr();
        Harness { server, addr, closed, drops, refuse }
    }

    fn closed(&self) -> Vec<SessionId> {
        self.closed.lock().unwrap().clone()
    }

    fn handle(&self) -> ServerHandle {
        self.server.handle()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_closes_every_session_once_and_drops_each_context_once() {
    let h = Harness::start(|_| {}).await;
    let addr = h.addr;
    let clients = blocking(move || {
        let mut with_ctx: Vec<Raw> = (0..3).map(|_| Raw::connect(addr)).collect();
        for raw in &mut with_ctx {
            assert_eq!(raw.exchange(get("/ctx")).text(), "1");
        }
        assert_eq!(with_ctx[0].exchange(get("/ctx")).text(), "2");
        // A session with no context, and one whose handler never ends.
        let mut plain = Raw::connect(addr);
        assert_eq!(plain.exchange(get("/hello")).text(), "Hello World!");
        let mut hanging = Raw::connect(addr);
        hanging.send(get("/hang"));
        let head = hanging.head();
        assert_eq!(head.status, 200);
        assert_eq!(hanging.chunk().unwrap(), b"waiting");
        with_ctx.push(plain);
        with_ctx.push(hanging);
        with_ctx
    })
    .await;
    let handle = h.handle();
    assert_eq!(handle.client_list().len(), 5);
    let open: HashSet<SessionId> = handle.client_list().into_iter().collect();
    assert!(h.closed().is_empty());
    assert_eq!(h.drops.load(Ordering::SeqCst), 0);

    let (closed, drops) = (h.closed.clone(), h.drops.clone());
    tokio::time::timeout(Duration::from_secs(5), h.server.stop()).await.expect("stop() did not return");
    assert!(!handle.is_running());
    // The close hook ran once for each session, and only for them.
    let closed = closed.lock().unwrap().clone();
    assert_eq!(closed.len(), 5, "{closed:?}");
    assert_eq!(closed.iter().copied().collect::<HashSet<_>>(), open);
    // Each of the three contexts was dropped once.
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    // Every client sees its connection end.
    blocking(move || {
        for mut raw in clients {
            assert!(raw.read_to_end().is_empty());
        }
    })
    .await;
    // Nothing more is accepted.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_hook_returning_false_closes_the_connection_unserved() {
    let h = Harness::start(|_| {}).await;
    let addr = h.addr;
    h.refuse.store(true, Ordering::SeqCst);
    blocking(move || {
        let mut refused = Raw::connect(addr);
        refused.send(get("/hello"));
        assert!(refused.read_to_end().is_empty(), "a refused connection was answered");
    })
    .await;
    h.refuse.store(false, Ordering::SeqCst);
    blocking(move || {
        let mut served = Raw::connect(addr);
        assert_eq!(served.exchange(get("/hello")).text(), "Hello World!");
    })
    .await;
    h.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_vanish_mid_request_disturb_nothing() {
    let h = Harness::start(|_| {}).await;
    let addr = h.addr;
    let handle = h.handle();
    let steady = blocking(move || {
        let mut steady = Raw::connect(addr);
        assert_eq!(steady.exchange(get("/ctx")).text(), "1");
        // Half a head, then gone.
        let mut half_head = Raw::connect(addr);
        half_head.send("GET /hello HTTP/1.1\r\nHo");
        drop(half_head);
        // Half a body, then gone.
        let mut half_body = Raw::connect(addr);
        half_body.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
        drop(half_body);
        // Half a body, then a reset.
        let reset = Raw::connect(addr);
        let mut stream = reset.stream;
        std::io::Write::write_all(&mut stream, b"POST /echo HTTP/1.1\r\nContent-Length: 50\r\n\r\nabc").unwrap();
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
        drop(stream);
        // Meanwhile the steady client is served as usual, on the same session.
        assert_eq!(steady.exchange(with_body("POST", "/echo", "still here")).text(), "still here");
        assert_eq!(steady.exchange(get("/ctx")).text(), "2");
        steady
    })
    .await;
    // The vanished sessions are closed and their slots freed; the steady one stays.
    assert!(eventually(Duration::from_secs(3), || handle.client_list().len() == 1).await, "{:?}", handle.client_list());
    assert!(eventually(Duration::from_secs(3), || h.closed().len() == 3).await, "{:?}", h.closed());
    let steady = blocking(move || {
        let mut steady = steady;
        assert_eq!(steady.exchange(get("/ctx")).text(), "3");
        let mut after = Raw::connect(addr);
        assert_eq!(after.exchange(get("/hello")).text(), "Hello World!");
        steady
    })
    .await;
    // Only the steady session had a context, and it is still alive.
    assert_eq!(h.drops.load(Ordering::SeqCst), 0);
    drop(steady);
    h.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_idle_timeout_closes_an_idle_keep_alive_session() {
    let h = Harness::start(|config| config.connection.idle_timeout_ms = Some(300)).await;
    let addr = h.addr;
    let handle = h.handle();
    blocking(move || {
        let mut used = Raw::connect(addr);
        let mut silent = Raw::connect(addr);
        assert_eq!(used.exchange(get("/hello")).text(), "Hello World!");
        let idle_from = Instant::now();
        // Both close on their own, the one that never sent a byte too.
        used.assert_closed();
        assert!(idle_from.elapsed() >= Duration::from_millis(250), "closed after {:?}", idle_from.elapsed());
        silent.assert_closed();
    })
    .await;
    assert!(eventually(Duration::from_secs(2), || handle.client_list().is_empty()).await);
    assert_eq!(h.closed().len(), 2);
    // A session that keeps sending requests within the timeout stays open.
    blocking(move || {
        let mut busy = Raw::connect(addr);
        for _ in 0..4 {
            assert_eq!(busy.exchange(get("/hello")).text(), "Hello World!");
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await;
    h.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_that_panics_closes_only_its_session_and_frees_the_slot() {
    let h = Harness::start(|config| config.max_open_sockets = 2).await;
    let addr = h.addr;
    let handle = h.handle();
    let bystander = blocking(move || {
        let mut bystander = Raw::connect(addr);
        assert_eq!(bystander.exchange(get("/ctx")).text(), "1");
        let mut panicking = Raw::connect(addr);
        panicking.send(get("/panic"));
        assert!(panicking.read_to_end().is_empty(), "the panicking handler's session answered");
        bystander
    })
    .await;
    assert!(eventually(Duration::from_secs(2), || handle.client_list().len() == 1).await);
    assert_eq!(h.closed().len(), 1);
    blocking(move || {
        let mut bystander = bystander;
        // The other session goes on, and the freed slot serves a new connection (with two
        // slots, it would wait otherwise).
        assert_eq!(bystander.exchange(get("/ctx")).text(), "2");
        let mut next = Raw::connect(addr);
        assert_eq!(next.exchange(get("/hello")).text(), "Hello World!");
        assert_eq!(next.exchange(get("/ctx")).text(), "1");
    })
    .await;
    h.server.stop().await;
}

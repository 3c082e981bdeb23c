//! Heap allocations per request on the tokio server, on a warm keep-alive connection. The
//! client is a plain thread writing a canned request and reading the known reply, so every
//! allocation counted is the server's (or tokio's on its behalf).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::io::{Read, Write};
use std::net::TcpStream;

use tern_proto::Method;
use tern_tokio::server::{Config, Request, Server, UriHandler};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nHello World!";

fn exchange(stream: &mut TcpStream, buf: &mut [u8]) {
    stream.write_all(REQUEST).unwrap();
    let mut got = 0;
    while got < RESPONSE.len() {
        let n = stream.read(&mut buf[got..RESPONSE.len()]).unwrap();
        assert!(n > 0, "the server closed the connection");
        got += n;
    }
    assert_eq!(&buf[..got], RESPONSE);
}

#[test]
fn warm_keep_alive_requests_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = runtime.block_on(async {
        let config = Config { bind: [127, 0, 0, 1].into(), server_port: 0, ..Config::default() };
        let server = Server::start(config).await.unwrap();
        server
            .register_uri_handler(UriHandler::new("/hello", Method::Get, |mut req: Request| async move {
                req.send(b"Hello World!").await
            }))
            .unwrap();
        server
    });
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    let mut buf = [0u8; 256];
    for _ in 0..20 {
        exchange(&mut stream, &mut buf); // connect, spawn the session, warm every buffer up
    }
    const REQUESTS: u64 = 500;
    let before = dhat::HeapStats::get();
    for _ in 0..REQUESTS {
        exchange(&mut stream, &mut buf);
    }
    let after = dhat::HeapStats::get();
    let allocations = after.total_blocks - before.total_blocks;
    println!("server allocations per warm keep-alive request: {:.2}", allocations as f64 / REQUESTS as f64);
    // The handler's future is held inline (HandlerFuture), so nothing at all.
    assert_eq!(allocations, 0, "{allocations} allocations in {REQUESTS} requests");
    drop(stream);
    runtime.block_on(server.stop());
}

//! Heap allocations per request on a warm keep-alive connection: the goal is zero, for the
//! blocking client and for its non-blocking mode. The server is a plain thread that answers
//! from a fixed buffer, so every allocation counted is the client's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::io::{Read, Write};
use std::net::TcpListener;

use tern_proto::client::{ClientConfig, Event, EventKind};
use tern_std::Client;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\nhello world\n";

/// Answers every request head with RESPONSE, without allocating per request.
fn serve(listener: TcpListener) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let mut filled = 0;
            while let Ok(n @ 1..) = stream.read(&mut buf[filled..]) {
                filled += n;
                while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    if stream.write_all(RESPONSE).is_err() {
                        return;
                    }
                    buf.copy_within(end + 4..filled, 0);
                    filled -= end + 4;
                }
            }
        }
    });
}

#[test]
fn warm_keep_alive_requests_do_not_allocate() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/status", listener.local_addr().unwrap());
    serve(listener);

    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut bytes = 0usize;
    let handler = |event: &Event<'_>| {
        if let EventKind::OnData(data) = event.kind {
            bytes += data.len();
        }
    };
    let mut client = Client::with_handler(&config, handler).unwrap();
    client.perform().unwrap(); // connect and warm up
    let before = dhat::HeapStats::get();
    const REQUESTS: usize = 200;
    for _ in 0..REQUESTS {
        client.perform().unwrap();
    }
    let after = dhat::HeapStats::get();
    assert_eq!(client.connects(), 1);
    drop(client);
    assert_eq!(bytes, 12 * (REQUESTS + 1));
    let allocations = after.total_blocks - before.total_blocks;
    assert_eq!(allocations, 0, "{allocations} allocations in {REQUESTS} warm keep-alive requests");
}

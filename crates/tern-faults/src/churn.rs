//! One million sessions opened and closed, in four ways, against one tern-tokio server.
//!
//! Connection `i` does, by `i % 4`:
//! 0. `GET /get` with `Connection: close`: the server answers and closes first;
//! 1. `GET /get` kept alive, then the client closes (FIN);
//! 2. connect and close at once, sending nothing;
//! 3. `GET /get`, then the client resets the connection (RST).
//!
//! 64 clients run at once. Their source addresses rotate over 127.0.0.2 to 127.0.0.251 so that
//! TIME_WAIT, on whichever side closed first, never runs one address out of ports. At the end
//! every session the open hook saw must have been closed once (the close hook) and freed once
//! (its context's free hook, counted per session), the open hook must have seen exactly one
//! session per connection, and the server's descriptors must be back where they were.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tern_proto::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::task::JoinSet;

use crate::harness::{self, GET_BODY, Harness, read_response};

/// Sessions: full size and quick.
const SESSIONS: usize = 1_000_000;
const SESSIONS_QUICK: usize = 20_000;
/// Clients at once.
const CLIENTS: usize = 64;
/// Source addresses 127.0.0.2 ..= 127.0.0.(1 + SOURCES).
const SOURCES: usize = 250;

pub(crate) async fn run(quick: bool) -> crate::Outcome {
    let total = if quick { SESSIONS_QUICK } else { SESSIONS };
    harness::raise_fd_limit(4 * CLIENTS as u64 + 512)?;
    let h = Harness::start(harness::config(2 * CLIENTS, ServerConfig::default()), total + 1024).await?;
    let fds_before = harness::open_fds()?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();

    let mut clients: JoinSet<Result<(), String>> = JoinSet::new();
    for _ in 0..CLIENTS {
        let (next, addr) = (next.clone(), h.addr);
        clients.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok(());
                }
                if i > 0 && i % 100_000 == 0 {
                    eprintln!("  {i} sessions");
                }
                session(addr, i).await.map_err(|e| format!("connection {i} (kind {}): {e}", i % 4))?;
            }
        });
    }
    for outcome in clients.join_all().await {
        outcome?;
    }
    let secs = start.elapsed().as_secs_f64();

    h.settle(total as u64, Duration::from_secs(30)).await?;
    let opened = h.counters.opened();
    if opened != total as u64 {
        return Err(format!("{total} connections, but the open hook saw {opened} sessions"));
    }
    let fds_after = harness::open_fds()?;
    if fds_after != fds_before {
        return Err(format!("server descriptors: {fds_before} before, {fds_after} after"));
    }
    harness::healthy(h.addr, Duration::from_secs(5)).await?;
    h.server.stop().await;
    Ok(format!(
        "{total} sessions in {secs:.1} s ({:.0}/s), a quarter each closed by the server, by a client FIN, \
         at once and by a client RST; open, close and free hooks each ran once per session; server fds back to {fds_after}",
        total as f64 / secs
    ))
}

/// Connection `i`, from source address `i % SOURCES`.
async fn session(addr: SocketAddr, i: usize) -> Result<(), String> {
    let source = Ipv4Addr::new(127, 0, 0, 2 + (i % SOURCES) as u8);
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).map_err(|e| format!("bind {source}: {e}"))?;
    let mut stream = socket.connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    match i % 4 {
        0 => {
            let close = b"GET /get HTTP/1.1\r\nHost: faults\r\nConnection: close\r\n\r\n";
            stream.write_all(close).await.map_err(|e| format!("write: {e}"))?;
            let mut buf = Vec::new();
            check(read_response(&mut stream, &mut buf).await?)?;
            let mut rest = [0u8; 64];
            let n = stream.read(&mut rest).await.map_err(|e| format!("read after the response: {e}"))?;
            if n != 0 || !buf.is_empty() {
                return Err("the server did not close after Connection: close".into());
            }
        }
        1 => harness::get_on(&mut stream).await?,
        2 => {}
        _ => {
            harness::get_on(&mut stream).await?;
            socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).map_err(|e| format!("linger: {e}"))?;
        }
    }
    Ok(())
}

fn check((status, body): (u16, Vec<u8>)) -> Result<(), String> {
    if status == 200 && body == GET_BODY { Ok(()) } else { Err(format!("GET /get answered {status}")) }
}

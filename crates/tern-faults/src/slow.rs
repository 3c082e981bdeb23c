//! Slow clients, one byte a second, against a server with 8 session slots and timeouts of
//! 2 s (`recv_wait_timeout`, `send_wait_timeout`) and the default `min_body_rate` (240 B/s).
//!
//! 1. **Slow clients take their slots and no more.** Five slow clients hold five slots: two
//!    send a request head a byte a second (slowloris), two send a body a byte a second after a
//!    quick head, one reads a 16 MiB response a byte a second through a 4 KiB receive buffer.
//!    Meanwhile a fast client makes request after request on fresh connections: every one must
//!    be answered, quickly. Every slow client must be timed out: the head trickle with 408 once
//!    `recv_wait_timeout` has passed since its first byte, the body trickle with
//!    `BodyTooSlow` in its handler, the slow reader by `send_wait_timeout` once its window
//!    stays shut. The server is then back to no session.
//! 2. **More slow clients than slots.** Eight slowloris clients take all eight slots; a fast
//!    client then waits in the listen backlog until the first of them is timed out, and no
//!    longer. With `lru_purge_enable`, the fast client is served at once instead: a session
//!    whose head is still arriving is the least recently used one, and is purged.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tern_proto::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::task::JoinSet;

use crate::harness::{self, Counters, Harness, get_request};

/// Session slots of the server.
const SLOTS: usize = 8;
/// The server's `recv_wait_timeout` and `send_wait_timeout`.
const TIMEOUT_MS: u32 = 2000;
/// How long any slow client may live: it gives up after this if the server did not end it.
const SLOW_LIMIT: Duration = Duration::from_secs(30);
/// The most a fast request may take while slow clients hold slots.
const FAST_LIMIT: Duration = Duration::from_millis(1000);

/// How a slow client ended.
#[derive(Debug)]
enum Ended {
    /// The server answered with this status (and closed), after this long.
    Answered(u16, Duration),
    /// The server closed or reset the connection without an answer, after this long.
    Closed(Duration),
    /// The server's handler gave up on the response (a slow reader), after this long.
    CutOff(Duration),
    /// The server never ended it.
    Never,
}

pub(crate) async fn run(quick: bool) -> crate::Outcome {
    let first = slots_and_no_more(quick).await?;
    let second = more_than_slots(false).await?;
    let third = more_than_slots(true).await?;
    Ok(format!("{first}; {second}; {third}"))
}

fn server_config(lru: bool) -> tern_tokio::server::Config {
    let connection =
        ServerConfig { recv_wait_timeout_ms: TIMEOUT_MS, send_wait_timeout_ms: TIMEOUT_MS, ..ServerConfig::default() };
    tern_tokio::server::Config { lru_purge_enable: lru, backlog_conn: 64, ..harness::config(SLOTS, connection) }
}

async fn slots_and_no_more(quick: bool) -> crate::Outcome {
    let h = Harness::start(server_config(false), 100_000).await?;
    let start = Instant::now();
    let mut slow = JoinSet::new();
    for kind in ["head", "head", "body", "body", "reader"] {
        let addr = h.addr;
        let counters = h.counters.clone();
        slow.spawn(async move { (kind, trickle(addr, kind, &counters).await) });
    }
    // The slow clients are in before the fast ones start.
    if !harness::wait_until(Duration::from_secs(2), || h.counters.open_now() == 5).await {
        return Err(format!("5 slow clients, {} sessions open", h.counters.open_now()));
    }

    let fast_for = Duration::from_millis(if quick { 1500 } else { 1900 });
    let mut fast = 0usize;
    let mut slowest_fast = Duration::ZERO;
    let mut most_open = 0;
    while start.elapsed() < fast_for {
        let t = Instant::now();
        tokio::time::timeout(FAST_LIMIT, harness::get_once(h.addr))
            .await
            .map_err(|_| format!("a fast request took over {FAST_LIMIT:?} while 5 of {SLOTS} slots were slow"))??;
        slowest_fast = slowest_fast.max(t.elapsed());
        most_open = most_open.max(h.counters.open_now());
        fast += 1;
    }
    if fast == 0 || most_open > SLOTS as u64 {
        return Err(format!("{fast} fast requests; at most {most_open} sessions open at once in {SLOTS} slots"));
    }

    let mut report = Vec::new();
    while let Some(joined) = slow.join_next().await {
        let (kind, ended) = joined.map_err(|e| format!("slow client: {e}"))?;
        let ended = ended?;
        let limit = Duration::from_millis(u64::from(TIMEOUT_MS) + 1500);
        match (kind, &ended) {
            ("head", Ended::Answered(408, after)) if *after <= limit => {}
            ("body", Ended::Answered(_, after) | Ended::Closed(after)) if *after <= limit => {}
            ("reader", Ended::CutOff(after)) if *after <= limit + Duration::from_secs(2) => {}
            _ => return Err(format!("slow {kind} client: {ended:?}")),
        }
        report.push(format!("{kind} {ended}"));
    }
    if !harness::wait_until(Duration::from_secs(10), || h.counters.open_now() == 0).await {
        return Err(format!("{} sessions still open after the slow clients", h.counters.open_now()));
    }
    let c = &h.counters;
    let too_slow = c.body_too_slow.load(Ordering::SeqCst);
    let big_errors = c.big_errors.load(Ordering::SeqCst);
    if too_slow != 2 || big_errors != 1 {
        return Err(format!(
            "handlers: {too_slow} body reads failed as BodyTooSlow (2 slow bodies), {big_errors} responses cut off (1 slow reader)"
        ));
    }
    h.settle(h.counters.opened(), Duration::from_secs(5)).await?;
    h.server.stop().await;
    Ok(format!(
        "5 slow clients in {SLOTS} slots: {fast} fast requests meanwhile, the slowest {:.0} ms; \
         slow clients ended: {}; both slow bodies failed in their handler as BodyTooSlow, the slow reader's response was cut off",
        slowest_fast.as_secs_f64() * 1000.0,
        report.join(", ")
    ))
}

async fn more_than_slots(lru: bool) -> crate::Outcome {
    let h = Harness::start(server_config(lru), 100_000).await?;
    let mut slow = JoinSet::new();
    for _ in 0..SLOTS {
        let addr = h.addr;
        let counters = h.counters.clone();
        slow.spawn(async move { trickle(addr, "head", &counters).await });
    }
    if !harness::wait_until(Duration::from_secs(2), || h.counters.open_now() == SLOTS as u64).await {
        return Err(format!("{SLOTS} slowloris clients, {} sessions open", h.counters.open_now()));
    }
    let t = Instant::now();
    let patience = Duration::from_millis(u64::from(TIMEOUT_MS) + 2000);
    tokio::time::timeout(patience, harness::get_once(h.addr))
        .await
        .map_err(|_| format!("with every slot slow (lru {lru}), a fast request waited over {patience:?}"))??;
    let waited = t.elapsed();
    if lru && waited > FAST_LIMIT {
        return Err(format!("with lru_purge_enable a fast request still waited {waited:?}"));
    }
    // Without the purge the slots are full: the fast request must have waited for a slowloris
    // client's timeout (which started at most a second before the request).
    let must_wait = Duration::from_millis(u64::from(TIMEOUT_MS) - 1000);
    if !lru && waited < must_wait {
        return Err(format!("{SLOTS} slots full of slow clients, yet a fast request was served in {waited:?}"));
    }
    for ended in slow.join_all().await {
        match ended? {
            Ended::Answered(408, _) | Ended::Closed(_) => {}
            other => return Err(format!("slowloris client: {other:?}")),
        }
    }
    h.settle(h.counters.opened(), Duration::from_secs(10)).await?;
    h.server.stop().await;
    let how = if lru { "purging the least recently used slow session" } else { "the first slow session to time out" };
    Ok(format!(
        "{SLOTS} slowloris clients in {SLOTS} slots: a fast request waited {:.0} ms ({how})",
        waited.as_secs_f64() * 1000.0
    ))
}

/// A slow client of `kind`: `head` sends a request head a byte a second; `body` sends a head
/// at once and then its 1000-byte body a byte a second; `reader` asks for `/big` and reads
/// it a byte a second. Ends when the server answers or closes, or after [`SLOW_LIMIT`]. (The
/// reader cannot see the close behind the megabytes still buffered for it: it ends when the
/// server's `/big` handler reports its response cut off.)
async fn trickle(addr: SocketAddr, kind: &str, counters: &Counters) -> Result<Ended, String> {
    let cut_before = counters.big_errors.load(Ordering::SeqCst);
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if kind == "reader" {
        socket.set_recv_buffer_size(4096).map_err(|e| format!("SO_RCVBUF: {e}"))?;
    }
    let s = socket.connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let (mut rx, mut tx) = s.into_split();
    let start = Instant::now();
    let (quick, slow): (Vec<u8>, Vec<u8>) = match kind {
        "head" => (Vec::new(), get_request("/get")),
        "body" => (b"POST /echo HTTP/1.1\r\nHost: faults\r\nContent-Length: 1000\r\n\r\n".to_vec(), vec![b'b'; 1000]),
        _ => (get_request("/big"), Vec::new()),
    };
    tx.write_all(&quick).await.map_err(|e| format!("write: {e}"))?;

    let mut got = Vec::new();
    let mut next = slow.iter();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        if start.elapsed() > SLOW_LIMIT {
            return Ok(Ended::Never);
        }
        let mut byte = [0u8; 1];
        tokio::select! {
            _ = tick.tick() => {
                if let Some(b) = next.next()
                    && tx.write_all(&[*b]).await.is_err()
                {
                    return Ok(Ended::Closed(start.elapsed()));
                }
                if kind == "reader" {
                    if counters.big_errors.load(Ordering::SeqCst) > cut_before {
                        return Ok(Ended::CutOff(start.elapsed()));
                    }
                    match rx.read(&mut byte).await {
                        Ok(0) | Err(_) => return Ok(Ended::Closed(start.elapsed())),
                        Ok(_) => {}
                    }
                }
            }
            read = rx.read(&mut byte), if kind != "reader" => match read {
                Ok(0) | Err(_) => {
                    return Ok(match status_of(&got) {
                        Some(status) => Ended::Answered(status, start.elapsed()),
                        None => Ended::Closed(start.elapsed()),
                    });
                }
                Ok(_) => got.push(byte[0]),
            },
        }
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Answered(status, after) => write!(f, "answered {status} after {} ms", after.as_millis()),
            Ended::Closed(after) => write!(f, "closed after {} ms", after.as_millis()),
            Ended::CutOff(after) => write!(f, "cut off after {} ms", after.as_millis()),
            Ended::Never => write!(f, "never ended"),
        }
    }
}

/// The status of a response that starts `bytes`.
fn status_of(bytes: &[u8]) -> Option<u16> {
    std::str::from_utf8(bytes.get(9..12)?).ok()?.parse().ok()
}

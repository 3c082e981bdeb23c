//! 10,000 keep-alive connections held open at once on one tern-tokio server.
//!
//! The clients run in a child process (`tern-faults keepalive-clients ADDR COUNT ROUNDS`), so
//! that neither process needs more than about 10,000 descriptors. The child opens every
//! connection (256 connects at a time) and makes one `GET /get` on each; then it reports,
//! and the parent checks that the server holds exactly that many sessions at once (by its
//! hooks and by `client_list`). The child then makes more rounds of requests, one per
//! connection per round, all connections at once, on the same connections: every response
//! must be right and no connection may have been closed. When the child exits, every session
//! must be closed and freed once, and the server's descriptors must be back where they were.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use tern_proto::server::ServerConfig;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::harness::{self, Harness};

/// The child's subcommand.
pub(crate) const CHILD_COMMAND: &str = "keepalive-clients";

/// Connections at once: full size and quick.
const CONNECTIONS: usize = 10_000;
const CONNECTIONS_QUICK: usize = 1_000;
/// Request rounds over all connections.
const ROUNDS: usize = 3;
/// Connects in flight at once.
const CONNECT_BATCH: usize = 256;

pub(crate) async fn run(quick: bool) -> crate::Outcome {
    let count = if quick { CONNECTIONS_QUICK } else { CONNECTIONS };
    harness::raise_fd_limit(count as u64 + 512)?;
    let connection = ServerConfig { idle_timeout_ms: Some(120_000), ..ServerConfig::default() };
    let config = tern_tokio::server::Config { backlog_conn: 4096, ..harness::config(count + 64, connection) };
    let h = Harness::start(config, count + 64).await?;
    let fds_before = harness::open_fds()?;

    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = Command::new(exe)
        .args([CHILD_COMMAND, &h.addr.to_string(), &count.to_string(), &ROUNDS.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the client process: {e}"))?;
    let (Some(mut to_child), Some(from_child)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("no pipes to the client process".into());
    };
    let mut lines = BufReader::new(from_child).lines();
    let fds_with_pipes = harness::open_fds()?;
    let start = Instant::now();

    let first = tokio::task::block_in_place(|| lines.next()).transpose().map_err(|e| e.to_string())?;
    let connected = first.unwrap_or_default();
    if connected != format!("connected {count}") {
        let _ = child.kill();
        return Err(format!("client process: {connected:?}"));
    }
    let connect_secs = start.elapsed().as_secs_f64();
    let open_now = h.counters.open_now();
    let listed = h.server.handle().client_list().len();
    let fds_at_peak = harness::open_fds()?;
    writeln!(to_child, "go").map_err(|e| format!("to the client process: {e}"))?;
    let last = tokio::task::block_in_place(|| lines.next()).transpose().map_err(|e| e.to_string())?;
    let status = tokio::task::block_in_place(|| child.wait()).map_err(|e| e.to_string())?;
    let total_secs = start.elapsed().as_secs_f64();
    // The pipes to the child are descriptors of ours too.
    drop((to_child, lines));
    let last = last.unwrap_or_default();
    if !status.success() || !last.starts_with("done") {
        return Err(format!("client process ended {status}: {last:?}"));
    }
    if open_now != count as u64 || listed != count {
        return Err(format!(
            "with {count} connections open the server held {open_now} sessions (client_list: {listed})"
        ));
    }

    h.settle(count as u64, Duration::from_secs(30)).await?;
    let closed = h.counters.closed();
    let fds_after = harness::open_fds()?;
    if fds_after != fds_before {
        return Err(format!("server descriptors: {fds_before} before, {fds_after} after"));
    }
    harness::healthy(h.addr, Duration::from_secs(5)).await?;
    h.server.stop().await;
    Ok(format!(
        "{count} connections open at once ({open_now} sessions, {} server fds at the peak), {} requests on them; \
         connected and first round in {connect_secs:.1} s, all in {total_secs:.1} s; {closed} sessions closed and freed once; \
         server fds back to {fds_after}",
        fds_at_peak - fds_with_pipes,
        count * ROUNDS,
    ))
}

/// The client process: `ADDR COUNT ROUNDS`. Prints `connected COUNT` once every connection
/// has had its first response, waits for a line on stdin, runs the other rounds and prints
/// `done REQUESTS`, or the first failure.
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    let outcome = (|| {
        let [addr, count, rounds] = args else {
            return Err(format!("usage: tern-faults {CHILD_COMMAND} ADDR COUNT ROUNDS"));
        };
        let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
        let count: usize = count.parse().map_err(|e| format!("{count}: {e}"))?;
        let rounds: usize = rounds.parse().map_err(|e| format!("{rounds}: {e}"))?;
        harness::raise_fd_limit(count as u64 + 256)?;
        let runtime =
            tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("runtime: {e}"))?;
        runtime.block_on(clients(addr, count, rounds))
    })();
    match outcome {
        Ok(requests) => {
            println!("done {requests}");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("failed: {reason}");
            ExitCode::FAILURE
        }
    }
}

async fn clients(addr: SocketAddr, count: usize, rounds: usize) -> Result<usize, String> {
    let mut streams = Vec::with_capacity(count);
    while streams.len() < count {
        let mut batch = JoinSet::new();
        for _ in streams.len()..count.min(streams.len() + CONNECT_BATCH) {
            batch.spawn(async move {
                let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
                request(stream).await
            });
        }
        for stream in batch.join_all().await {
            streams.push(stream?);
        }
    }
    println!("connected {count}");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("stdin: {e}"))?;

    for _ in 1..rounds {
        let mut round = JoinSet::new();
        for stream in streams.drain(..) {
            round.spawn(request(stream));
        }
        for stream in round.join_all().await {
            streams.push(stream?);
        }
    }
    Ok(count * rounds)
}

/// One `GET /get` on `stream`, which must stay open.
async fn request(mut stream: TcpStream) -> Result<TcpStream, String> {
    harness::get_on(&mut stream).await?;
    Ok(stream)
}

//! `cargo xtask bench server`: server requests per second with wrk, tern-tokio's
//! advanced_tests port (`GET /hello`) against a hyper 1.x hello server answering the same
//! bytes, in the same run.
//!
//! Both servers run on core 0 with one tokio worker thread each, and wrk on core 1 (taskset,
//! when there is one), keep-alive with
//! 50 connections; rounds alternate between the contenders so that a noisy neighbour hurts
//! both alike, and the figure reported is the median of the per-round ratios.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::cmd::{Cmd, Error, Result, root};

const ROUNDS: usize = 5;
const SECONDS: u32 = 5;
const TERN_PORT: u16 = 18_301;
const HYPER_PORT: u16 = 18_302;

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn has(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// `program args` pinned to `core` when taskset exists.
fn pinned(core: &str, program: &str, args: &[&str]) -> Command {
    if has("taskset") {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", core, program]).args(args);
        cmd
    } else {
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd
    }
}

fn start(program: &str, port: u16) -> Result<Server> {
    let port = port.to_string();
    let child = pinned("0", program, &["--port", &port])
        // One tokio worker each, on the one core they share.
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot start {program}: {e}")))?;
    let server = Server(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap_or(0))).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(Error::new(format!("{program} did not listen on port {port}")))
}

/// Requests per second from one wrk run.
fn wrk(port: u16) -> Result<f64> {
    let url = format!("http://127.0.0.1:{port}/hello");
    let duration = format!("{SECONDS}s");
    let output = pinned("1", "wrk", &["-t1", "-c50", "-d", &duration, &url])
        .output()
        .map_err(|e| Error::new(format!("cannot run wrk: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(Error::new(format!("wrk saw errors against port {port}:\n{text}")));
    }
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:")?.trim().parse().ok())
        .ok_or_else(|| Error::new(format!("no Requests/sec in wrk's output:\n{text}")))
}

/// Runs the server benchmark.
pub(crate) fn main() -> Result {
    if !has("wrk") {
        return Err(Error::new("wrk is missing: install it (Debian: apt-get install wrk)"));
    }
    Cmd::cargo()
        .args(["build", "--release", "-p", "tern-tokio", "--example", "advanced_tests"])
        .args(["-p", "tern-testkit", "--bin", "hyper_hello"])
        .run()?;
    let release = root().join("target").join("release");
    let tern_bin = release.join("examples").join("advanced_tests");
    let hyper_bin = release.join("hyper_hello");
    let _tern = start(&tern_bin.to_string_lossy(), TERN_PORT)?;
    let _hyper = start(&hyper_bin.to_string_lossy(), HYPER_PORT)?;
    let mut ratios = Vec::new();
    println!("{:>5}  {:>12}  {:>12}  {:>6}", "round", "tern req/s", "hyper req/s", "ratio");
    for round in 1..=ROUNDS {
        let (tern, hyper) = if round % 2 == 1 {
            let t = wrk(TERN_PORT)?;
            (t, wrk(HYPER_PORT)?)
        } else {
            let h = wrk(HYPER_PORT)?;
            (wrk(TERN_PORT)?, h)
        };
        let ratio = tern / hyper;
        ratios.push(ratio);
        println!("{round:>5}  {tern:>12.0}  {hyper:>12.0}  {ratio:>6.2}");
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(0.0);
    println!("server requests/s, tern-tokio / hyper (median of {ROUNDS} rounds): {median:.2}");
    Ok(())
}

//! Servers that vanish at every state of a response, closing (FIN) or resetting (RST): the
//! tern-tokio and tern-std clients fail with the precise error of that state, never hang,
//! never panic, never report a truncated body as a success, and the same client value then
//! completes a good request (issue 9, part 4).
//!
//! A scripted raw server (one loopback listener per state and way of vanishing) reads the
//! request head, writes a prefix of a response and vanishes: FIN is `shutdown(Write)` (the
//! server then reads until the client goes), RST is `SO_LINGER` 0 and a drop.
//!
//! | State | What the server wrote before it vanished | Expected, FIN / RST |
//! |---|---|---|
//! | `1` | nothing, not even reading the request | `ConnectionClosed(ReceiveHead)` / `Transport(Send or ReceiveHead)`, or `Connect` when the reset beats the connect's report |
//! | `2` | nothing, after reading the request | `ConnectionClosed(ReceiveHead)` / `Transport(ReceiveHead)` |
//! | `3` | `HTTP/1.1 20` | the same |
//! | `4` | a status line and half a header section | the same |
//! | `5` | a head with `Content-Length: 100`, no body | `IncompleteBody { received: 0 }` / `Transport(ReceiveBody)` |
//! | `6` | that head and 50 of the 100 bytes | `IncompleteBody { received: 50 }` / `Transport(ReceiveBody)` |
//! | `7` | a chunked head, inside a chunk's data | `IncompleteBody` (the data bytes sent) / `Transport(ReceiveBody)` |
//! | `8` | a chunked head, inside a chunk-size line | the same |
//! | `9` | a chunked head and a whole chunk, no last chunk | the same |
//! | `10` | a chunked head, a chunk, `0\r\n` and a trailer field, no end | the same |
//! | `11` | nothing: it stalls with the socket open (client timeout 1 s) | `Timeout(ReceiveHead)` |
//! | `11b` | a head and 50 of 100 body bytes, then stalls | `Timeout(ReceiveBody)` |
//! | `12` | a whole keep-alive response to a first `GET`, then closed the idle connection | `perform`: the next `GET` succeeds, retried once on a new connection (RFC 9112 §9.3.1; `docs/esp-idf-differences.md`); streamed: `ConnectionClosed(ReceiveHead)` / `Transport(Send)` |
//! | `12p` | the same, and the next request is a `POST` | no retry: `ConnectionClosed(ReceiveHead)` / `Transport(Send)` |
//! | `12m` | a whole keep-alive response, then `HTTP/1.1 20` to the next request on that connection | no retry (a response had begun): `ConnectionClosed(ReceiveHead)` / `Transport(ReceiveHead)` |
//! | `13` | nothing, after reading only the head of a 16 MiB `POST` | `ConnectionClosed(ReceiveHead)` (FIN: the body went out) / `Transport(Send)` |
//! | `14a` | a whole close-delimited body (control) | success, the whole body / `Transport(ReceiveBody)` |
//! | `14b` | a whole `Content-Length` response (control) | success, the whole body / success |
//!
//! Every case runs 20 times (3 with `--quick`) on four lanes at once: tern-tokio and tern-std
//! (on its own thread), each with `perform` (body through `OnData` events) and with the
//! streaming calls (`open`, `write`, `fetch_headers`, reads). Each run has 10 s before it
//! counts as a hang. A failure must be an engine error of the expected kind and stage, blame
//! the server or the network (never the caller), carry the body bytes that arrived (no more
//! `OnData` bytes than the server sent), be the one `Error` event, and leave the client
//! closed (`INIT`); a success must deliver every byte announced. After each run the same
//! client fetches `/ok/<n>` from a well-behaved server and must get `ok <n>`.
//!
//! The parts: [`script`] (the states, the ways of vanishing, the bytes each state writes),
//! [`servers`] (the scripted raw servers and the well-behaved one), [`clients`] (one request
//! on either adapter, in either flow), [`runner`] (runs within the hang limit, new clients
//! after a hang), [`judge`](mod@judge) (what each case must give, and the checks), [`report`] (the
//! table). This file runs the four lanes.

mod clients;
mod judge;
mod report;
mod runner;
mod script;
mod servers;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tern_proto::Method;

use clients::{Flow, NORMAL_TIMEOUT, Req};
use judge::judge;
use report::LaneReport;
use runner::{Kind, Plan, Runner};
use script::{CASES, Case, Script, upload};
use servers::{CaseServer, Servers};

/// Runs of each case per lane.
const REPEATS: usize = 20;
/// Runs of each case per lane with `--quick`.
const REPEATS_QUICK: usize = 3;
/// The client's per-operation timeout for the stalling servers.
const STALL_TIMEOUT: Duration = Duration::from_secs(1);

/// One run of `case` against its `server`: the requests, and whether to wait for the server
/// to close the first request's connection; the good request goes to `ok` with `nonce`.
fn plan_of(case: &Case, server: &CaseServer, ok: &str, nonce: u64) -> Plan {
    let timeout =
        if matches!(case.script, Script::Stall | Script::StallInBody) { STALL_TIMEOUT } else { NORMAL_TIMEOUT };
    let path = format!("{}/state/{}/{}", server.base, case.label, case.vanish.name());
    let mut fault = Req::get(path.clone(), timeout);
    match case.script {
        Script::UploadCut => {
            fault.method = Method::Post;
            fault.body = Some(upload());
        }
        Script::IdleClosePost => {
            fault.method = Method::Post;
            fault.body = Some(b"a=1");
        }
        _ => {}
    }
    let idle_close = matches!(case.script, Script::IdleClose | Script::IdleClosePost);
    Plan {
        prime: (idle_close || case.script == Script::ReusedMidStatus).then(|| Req::get(path, NORMAL_TIMEOUT)),
        wait_vanish: idle_close.then(|| server.vanished.clone()),
        fault,
        good: Req::get(format!("{ok}/ok/{nonce}"), NORMAL_TIMEOUT),
    }
}

/// One lane: every case, `repeats` times, on one client of `kind` (replaced after a hang)
/// in `flow`, against servers of its own.
async fn lane(kind: Kind, flow: Flow, repeats: usize) -> LaneReport {
    let name = format!(
        "{}/{}",
        if kind == Kind::Tokio { "tokio" } else { "std" },
        if flow == Flow::Perform { "perform" } else { "stream" }
    );
    let mut report = LaneReport { name, outcomes: Vec::new(), failures: Vec::new(), runs: 0 };
    let servers = match Servers::start().await {
        Ok(servers) => servers,
        Err(e) => {
            report.failures.push(format!("{}: no scripted servers: {e}", report.name));
            return report;
        }
    };
    let endpoints = &servers.endpoints;
    let mut runner = Runner::new(kind);
    let mut nonce = 0u64;
    for (case, server) in CASES.iter().zip(&endpoints.cases) {
        let mut outcomes = BTreeMap::new();
        for repeat in 0..repeats {
            nonce += 1;
            let plan = plan_of(case, server, &endpoints.ok, nonce);
            report.runs += 1;
            let verdict = match runner.execute(flow, plan).await {
                Ok(run) => judge(case, flow, nonce, &run),
                Err(e) => Err(e),
            };
            match verdict {
                Ok(outcome) => *outcomes.entry(outcome).or_insert(0) += 1,
                Err(why) => {
                    *outcomes.entry("FAILED".to_string()).or_insert(0) += 1;
                    report.failures.push(format!(
                        "state {} ({}), {}, {}, run {}: {why}",
                        case.label,
                        case.what,
                        case.vanish.name(),
                        report.name,
                        repeat + 1
                    ));
                    if why.starts_with("HANG") {
                        // One hang is enough to report; the next state gets a new client.
                        break;
                    }
                }
            }
        }
        report.outcomes.push(outcomes);
    }
    report
}

pub(crate) async fn run(quick: bool) -> crate::Outcome {
    let repeats = if quick { REPEATS_QUICK } else { REPEATS };
    let started = Instant::now();
    let (a, b, c, d) = tokio::join!(
        lane(Kind::Tokio, Flow::Perform, repeats),
        lane(Kind::Tokio, Flow::Stream, repeats),
        lane(Kind::Std, Flow::Perform, repeats),
        lane(Kind::Std, Flow::Stream, repeats),
    );
    report::summary(&[a, b, c, d], repeats, started)
}

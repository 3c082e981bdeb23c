//! Differential testing (issue 9): the hostile-input catalogue (`tern-proto/tests/hostile/`)
//! fed to two other HTTP/1.1 implementations, h11 (Python) and hyper 1.x, and their decisions
//! compared with tern's. Every case where tern decides differently from **both** must be listed
//! in `docs/conformance.md` with the reason, and every case listed there must still differ from
//! both; the agreement counts and the cases where the two peers disagree with each other are
//! checked against the document too, so it cannot go stale.
//!
//! ```sh
//! cargo xtask interop-setup   # once: the venv with h11 (and httpbin)
//! cargo test -p tern-tokio --test differential -- --nocapture
//! ```
//!
//! tern's verdict for a case is its `expect` line (the catalogue runners enforce it); h11's and
//! hyper's are computed live:
//!
//! - `server.txt`: h11 as `h11.Connection(h11.SERVER)` fed the input in 64 KiB reads
//!   (`tern-testkit/py/h11_verdicts.py`); hyper as an http1 server on loopback
//!   ([`HyperEcho`]), each input written to a fresh connection. Both handlers answer every
//!   complete request with `METHOD URI BODY`, as the catalogue's does, so pipelined requests keep
//!   being read. The WebSocket catalogue is skipped: neither peer parses WebSocket frames.
//! - `client.txt`: h11 as `h11.Connection(h11.CLIENT)` after sending `GET /` (or `HEAD` for
//!   `method: HEAD`), given the input and then the close; hyper's `client::conn::http1` against a
//!   scripted loopback server that answers the input and closes ([`hyper_fetch`]).
//!
//! The verdicts are coarse on purpose, so that only decisions are compared, not wording:
//!
//! | Verdict | tern (`expect`) | h11 | hyper |
//! |---|---|---|---|
//! | server: requests accepted | each `200 "METHOD URI BODY"`, split at the first two spaces (a `200` without a body, or with an empty one as for HEAD, matches any request) | each request up to `EndOfMessage` | each request whose whole body the handler read |
//! | then `done` | no error status: the session stayed open or closed cleanly (`keep`, `close`) | idle with nothing buffered, or wanting to close (HTTP/1.0, `Connection: close`, a CONNECT tunnel) | `serve_connection` returned `Ok` |
//! | then `rejected` | a 4xx/5xx status other than 408 | `RemoteProtocolError` | `serve_connection` failed other than on an incomplete message (hyper answers 400, 431, ... or closes), or reading a body failed other than at its end |
//! | then `incomplete` | 408 (the head or body stopped coming; a 100 before it is skipped) | waiting for more bytes (`NEED_DATA` with a partial head or body) | after the client shut down its writing side: hyper's `IncompleteMessage`, or a body read ending in `UnexpectedEof` |
//! | client: `ok STATUS "BODY"` | `ok` | the final `Response` and its data up to `EndOfMessage` | `send_request` and collecting the body succeeded |
//! | client: `error` | `error ...` | `RemoteProtocolError` | any error from `send_request` or the body |
//!
//! Interim 1xx responses are not verdicts anywhere. Keep-alive versus a clean close is not
//! compared (h11 closes every HTTP/1.0 connection), but a request that a peer never reads
//! because it closed first is missing from its list. hyper runs with its defaults but for
//! `half_close(true)` (see [`HyperEcho`]): the client's end of input is only a probe, sent once
//! the input is written, to learn whether hyper is waiting for more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../../tern-proto/tests/hostile/mod.rs"]
mod hostile;
mod support;

use std::collections::BTreeSet;
use std::fmt;
use std::time::Instant;

use hostile::{Case, ServerExpect, Token};
use support::parallel;
use tern_testkit::differential::{
    H11Client, H11Server, HyperEcho, HyperRun, PeerRequest, h11_client, h11_server, hyper_fetch,
};

/// Cases run at once against hyper, each on its own connection.
const WORKERS: usize = 12;

/// How a server's handling of a request stream ended, after the requests it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// No error: waiting for a next request, or closed cleanly.
    Done,
    /// Refused with an error status, or closed without an answer.
    Rejected,
    /// Waiting for the rest of a head or body (tern: 408 once `recv_wait_timeout` passed).
    Incomplete,
}

/// A request a server handed to its application; `None` when tern's `expect` does not say
/// which (a `200` without a body).
type Req = Option<PeerRequest>;

#[derive(Debug, Clone)]
struct ServerVerdict {
    requests: Vec<Req>,
    end: End,
}

impl PartialEq for ServerVerdict {
    fn eq(&self, other: &ServerVerdict) -> bool {
        self.end == other.end
            && self.requests.len() == other.requests.len()
            && self.requests.iter().zip(&other.requests).all(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
    }
}

impl fmt::Display for ServerVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let requests: Vec<String> = self
            .requests
            .iter()
            .map(|r| match r {
                None => "200 (unspecified request)".to_owned(),
                Some(r) => {
                    let mut s = format!("{} {}", hostile::escape_short(&r.method), hostile::escape_short(&r.target));
                    if !r.body.is_empty() {
                        s.push_str(&format!(" \"{}\"", hostile::escape_short(&r.body)));
                    }
                    s
                }
            })
            .collect();
        let end = match self.end {
            End::Done => "done",
            End::Rejected => "rejected",
            End::Incomplete => "incomplete",
        };
        if requests.is_empty() { write!(f, "{end}") } else { write!(f, "{}, then {end}", requests.join(", ")) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClientVerdict {
    Ok { status: u16, body: Vec<u8> },
    Error,
}

impl fmt::Display for ClientVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientVerdict::Ok { status, body } => write!(f, "ok {status} \"{}\"", hostile::escape_short(body)),
            ClientVerdict::Error => write!(f, "error"),
        }
    }
}

/// tern's verdict for a server case: its `expect` line.
fn tern_server(case: &Case) -> ServerVerdict {
    let expect = ServerExpect::parse(&case.expect).unwrap_or_else(|e| panic!("{}: bad expect: {e}", case.name));
    let mut requests = Vec::new();
    let mut end = End::Done;
    for (status, body) in &expect.responses {
        assert!(end == End::Done, "{}: a response after an error response", case.name);
        match status {
            100..=199 => {}
            200 => requests.push(body.as_deref().filter(|b| !b.is_empty()).map(|b| {
                // `METHOD URI BODY`: neither the method nor the target holds a space.
                let (method, rest) = split_space(b, &case.name);
                let (target, body) = split_space(rest, &case.name);
                PeerRequest { method: method.to_vec(), target: target.to_vec(), body: body.to_vec() }
            })),
            408 => end = End::Incomplete,
            400..=599 => end = End::Rejected,
            other => panic!("{}: no verdict for status {other}", case.name),
        }
    }
    ServerVerdict { requests, end }
}

fn split_space<'a>(bytes: &'a [u8], name: &str) -> (&'a [u8], &'a [u8]) {
    let at = bytes.iter().position(|&b| b == b' ').unwrap_or_else(|| panic!("{name}: a 200 body without a space"));
    (&bytes[..at], &bytes[at + 1..])
}

fn h11_server_verdict(run: &H11Server) -> ServerVerdict {
    let end = match run.end.as_str() {
        "idle" | "closed" => End::Done,
        "error" => End::Rejected,
        "need-data" => End::Incomplete,
        other => panic!("{}: h11_verdicts.py ended with {other}: {}", run.name, run.detail),
    };
    ServerVerdict { requests: run.requests.iter().cloned().map(Some).collect(), end }
}

fn hyper_server_verdict(run: &HyperRun) -> ServerVerdict {
    let mut requests = Vec::new();
    for served in &run.served {
        match &served.body_error {
            None => requests.push(Some(served.request.clone())),
            Some((eof, _)) => {
                return ServerVerdict { requests, end: if *eof { End::Incomplete } else { End::Rejected } };
            }
        }
    }
    let end = match &run.conn_error {
        None => End::Done,
        Some((true, _)) => End::Incomplete,
        Some((false, _)) => End::Rejected,
    };
    ServerVerdict { requests, end }
}

fn hyper_detail(run: &HyperRun) -> String {
    let mut out = format!("statuses {:?}", run.statuses);
    for s in &run.served {
        if let Some((_, e)) = &s.body_error {
            out.push_str(&format!("; body error: {e}"));
        }
    }
    if let Some((_, e)) = &run.conn_error {
        out.push_str(&format!("; connection: {e}"));
    }
    out
}

/// tern's verdict for a client case: its `expect` line.
fn tern_client(case: &Case) -> ClientVerdict {
    match case.expect.as_slice() {
        [Token::Word(ok), Token::Word(status), Token::Quoted(body)] if ok == "ok" => {
            ClientVerdict::Ok { status: status.parse().unwrap(), body: body.clone() }
        }
        [Token::Word(error), ..] if error == "error" => ClientVerdict::Error,
        _ => panic!("{}: bad expect {}", case.name, case.expect_text),
    }
}

fn h11_client_verdict(run: &H11Client) -> ClientVerdict {
    match (run.end.as_str(), run.status) {
        ("complete", Some(status)) => ClientVerdict::Ok { status, body: run.body.clone() },
        ("error", _) => ClientVerdict::Error,
        (other, _) => panic!("{}: h11_verdicts.py ended with {other}: {}", run.name, run.detail),
    }
}

fn hyper_client_verdict(result: &Result<(u16, Vec<u8>), String>) -> ClientVerdict {
    match result {
        Ok((status, body)) => ClientVerdict::Ok { status: *status, body: body.clone() },
        Err(_) => ClientVerdict::Error,
    }
}

/// One case's three verdicts, rendered, and the peers' details for the report.
struct Row {
    name: String,
    tern: String,
    h11: String,
    hyper: String,
    agrees_h11: bool,
    agrees_hyper: bool,
    peers_agree: bool,
    details: String,
}

impl Row {
    /// The row of `case` from the three verdicts.
    fn new<V: PartialEq + fmt::Display>(case: &Case, tern: &V, h11: &V, hyper: &V, details: String) -> Row {
        Row {
            name: case.name.clone(),
            agrees_h11: tern == h11,
            agrees_hyper: tern == hyper,
            peers_agree: h11 == hyper,
            tern: tern.to_string(),
            h11: h11.to_string(),
            hyper: hyper.to_string(),
            details,
        }
    }
}

fn server_rows(cases: &[Case]) -> Vec<Row> {
    let inputs: Vec<(&str, &[u8])> = cases.iter().map(|c| (c.name.as_str(), c.input.as_slice())).collect();
    let (h11, hyper) = std::thread::scope(|s| {
        let h11 = s.spawn(|| h11_server(&inputs));
        let peer = HyperEcho::start();
        let hyper = parallel(WORKERS, cases, |c| peer.exchange(&c.input));
        (h11.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), hyper)
    });
    cases
        .iter()
        .zip(h11.iter().zip(&hyper))
        .map(|(case, (h11_run, hyper_run))| {
            let (tern, h11, hyper) = (tern_server(case), h11_server_verdict(h11_run), hyper_server_verdict(hyper_run));
            let details = format!("h11: {} {}; hyper: {}", h11_run.end, h11_run.detail, hyper_detail(hyper_run));
            Row::new(case, &tern, &h11, &hyper, details)
        })
        .collect()
}

fn client_rows(cases: &[Case]) -> Vec<Row> {
    let method = |c: &Case| c.field("method").unwrap_or("GET").to_owned();
    let inputs: Vec<(&str, &[u8], String)> =
        cases.iter().map(|c| (c.name.as_str(), c.input.as_slice(), method(c))).collect();
    let inputs: Vec<(&str, &[u8], &str)> = inputs.iter().map(|(n, i, m)| (*n, *i, m.as_str())).collect();
    let (h11, hyper) = std::thread::scope(|s| {
        let h11 = s.spawn(|| h11_client(&inputs));
        let hyper = parallel(WORKERS, cases, |c| hyper_fetch(&c.input, &method(c)));
        (h11.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), hyper)
    });
    cases
        .iter()
        .zip(h11.iter().zip(&hyper))
        .map(|(case, (h11_run, hyper_run))| {
            let (tern, h11, hyper) = (tern_client(case), h11_client_verdict(h11_run), hyper_client_verdict(hyper_run));
            let hyper_detail = hyper_run.as_ref().err().map_or("ok", String::as_str);
            let details = format!("h11: {} {}; hyper: {hyper_detail}", h11_run.end, h11_run.detail);
            Row::new(case, &tern, &h11, &hyper, details)
        })
        .collect()
}

/// A verdict as a Markdown table cell: in backquotes, `|` escaped.
fn cell(verdict: &str) -> String {
    format!("`{}`", verdict.replace('|', "\\|"))
}

/// The cells of a Markdown table row (split on `|` not escaped), trimmed, with a cell's
/// enclosing backquotes and `\|` escapes undone.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .map(|c| {
            let c = c.trim();
            c.strip_prefix('`').and_then(|c| c.strip_suffix('`')).unwrap_or(c).to_owned()
        })
        .collect()
}

/// The table rows between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in the document, as
/// cells (the header and separator rows left out).
fn doc_table(doc: &str, name: &str) -> Vec<Vec<String>> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let from = doc.find(&begin).unwrap_or_else(|| panic!("docs/conformance.md has no {begin}")) + begin.len();
    let to = doc[from..].find(&end).unwrap_or_else(|| panic!("docs/conformance.md has no {end}")) + from;
    doc[from..to].lines().filter(|l| l.trim_start().starts_with('|')).skip(2).map(cells).collect()
}

/// Checks the table `name` of the document: one row per case that `selected` picks and no
/// other, each `| case | tern | h11 | hyper | note |` with the verdicts of this run and, when
/// `needs_note`, a note (the reason); `what` describes the selection in messages.
fn check_table(
    doc: &str,
    name: &str,
    what: &str,
    needs_note: bool,
    rows: &[&Row],
    problems: &mut Vec<String>,
    selected: impl Fn(&Row) -> bool,
) {
    let documented = doc_table(doc, name);
    for r in rows.iter().filter(|r| selected(r)) {
        let row_text = format!("| {} | {} | {} | {} |", cell(&r.name), cell(&r.tern), cell(&r.h11), cell(&r.hyper));
        match documented.iter().find(|d| d.first() == Some(&r.name)) {
            None => problems.push(format!(
                "{}: {what}, but table {name} of docs/conformance.md lacks it; add\n    {row_text} NOTE |",
                r.name
            )),
            Some(d) if d.len() != 5 || (needs_note && d[4].is_empty()) => problems.push(format!(
                "{}: its row in table {name} of docs/conformance.md needs 5 cells{}",
                r.name,
                if needs_note { ", the last the reason" } else { "" }
            )),
            Some(d) if d[1] != r.tern || d[2] != r.h11 || d[3] != r.hyper => problems.push(format!(
                "{}: table {name} of docs/conformance.md shows other verdicts; this run gives\n    {row_text} ... |",
                r.name
            )),
            Some(_) => {}
        }
    }
    for d in &documented {
        let case = d.first().cloned().unwrap_or_default();
        match rows.iter().find(|r| r.name == case) {
            None => {
                problems.push(format!("table {name} of docs/conformance.md lists `{case}`, which is no catalogue case"))
            }
            Some(r) if !selected(r) => {
                problems.push(format!(
                    "table {name} of docs/conformance.md lists `{case}`, which no longer fits ({what}): remove it"
                ));
            }
            Some(_) => {}
        }
    }
    let distinct: BTreeSet<&String> = documented.iter().filter_map(|d| d.first()).collect();
    if distinct.len() != documented.len() {
        problems.push(format!("table {name} of docs/conformance.md lists a case twice"));
    }
}

/// Agreement counts of one file: with both, with h11 only, with hyper only, with neither, and
/// how many cases the two peers decide differently.
fn counts(rows: &[Row]) -> [usize; 5] {
    let mut n = [0; 5];
    for r in rows {
        let i = match (r.agrees_h11, r.agrees_hyper) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        n[i] += 1;
        n[4] += usize::from(!r.peers_agree);
    }
    n
}

#[test]
fn tern_differs_from_both_peers_only_where_conformance_md_says_why() {
    let started = Instant::now();
    let server_cases = hostile::parse("server.txt", hostile::SERVER);
    let client_cases = hostile::parse("client.txt", hostile::CLIENT);
    let websocket_cases = hostile::parse("websocket.txt", hostile::WEBSOCKET);
    let files = [("server.txt", server_rows(&server_cases)), ("client.txt", client_rows(&client_cases))];
    let doc_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/conformance.md");
    let doc = std::fs::read_to_string(doc_path).unwrap_or_else(|e| panic!("{doc_path}: {e}"));
    let mut problems = Vec::new();

    // The summary.
    eprintln!(
        "\n| File | Cases | tern agrees with both | with h11 only | with hyper only | with neither | h11 and hyper disagree |"
    );
    eprintln!("|---|---|---|---|---|---|---|");
    let mut want_counts = Vec::new();
    for (file, rows) in &files {
        let n = counts(rows);
        let line = vec![
            (*file).to_owned(),
            rows.len().to_string(),
            n[0].to_string(),
            n[1].to_string(),
            n[2].to_string(),
            n[3].to_string(),
            n[4].to_string(),
        ];
        eprintln!("| {} |", line.join(" | "));
        want_counts.push(line);
    }
    eprintln!("| websocket.txt | {} | skipped: neither peer parses WebSocket frames |", websocket_cases.len());
    let doc_counts = doc_table(&doc, "counts");
    let doc_counts: Vec<Vec<String>> = doc_counts.into_iter().filter(|r| r.len() == 7).collect();
    if doc_counts != want_counts {
        problems.push(format!(
            "the counts table in docs/conformance.md is stale: it says {doc_counts:?}, the run gives {want_counts:?}"
        ));
    }

    // Every case where the verdicts differ, for the reader.
    for (file, rows) in &files {
        for r in rows.iter().filter(|r| !(r.agrees_h11 && r.agrees_hyper && r.peers_agree)) {
            eprintln!(
                "{file} {}: tern `{}`, h11 `{}`{}, hyper `{}`{}\n    {}",
                r.name,
                r.tern,
                r.h11,
                if r.agrees_h11 { " (same)" } else { "" },
                r.hyper,
                if r.agrees_hyper { " (same)" } else { "" },
                r.details
            );
        }
    }

    let all_rows: Vec<&Row> = files.iter().flat_map(|(_, rows)| rows).collect();
    let mut names = BTreeSet::new();
    for r in &all_rows {
        assert!(names.insert(r.name.as_str()), "case {} is in server.txt and client.txt", r.name);
    }
    // tern against both peers, and the peers against each other: exactly the documented rows,
    // with the verdicts as documented.
    check_table(&doc, "differs-from-both", "tern differs from both peers", true, &all_rows, &mut problems, |r| {
        !r.agrees_h11 && !r.agrees_hyper
    });
    check_table(&doc, "peers-disagree", "h11 and hyper disagree", false, &all_rows, &mut problems, |r| !r.peers_agree);

    eprintln!("differential run: {:.1} s", started.elapsed().as_secs_f64());
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

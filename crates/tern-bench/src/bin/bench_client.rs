//! `bench_client CLIENT URL REQUESTS`: one client making `REQUESTS` sequential GETs of `URL`
//! on one kept-alive connection, after one request that opens it. Every body must be the
//! 12-byte `Hello World!` the bench servers send. Prints the seconds the `REQUESTS` took.
//!
//! CLIENT is one of:
//! - `tern-std`: `tern_std::Client::perform`, blocking;
//! - `tern-tokio`: `tern_tokio::client::Client::perform` on a current-thread runtime;
//! - `ureq`: ureq 3's `Agent`, blocking;
//! - `reqwest`: reqwest's async `Client` on a current-thread runtime;
//! - `null`: a raw `TcpStream` writing a canned request and reading a reply whose length it
//!   learnt from the first one: the floor of the kernel and the server.
//!
//! `cargo xtask bench client` times the process for N and 2N requests (so start-up cancels
//! out) and runs it under valgrind's dhat the same way to count allocations per request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Instant;

use tern_proto::client::{ClientConfig, Event, EventKind};

/// The body every bench server sends.
const BODY: &[u8] = b"Hello World!";

type Outcome = Result<(), String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client, url, requests] = args.as_slice() else {
        eprintln!("usage: bench_client tern-std|tern-tokio|ureq|reqwest|null URL REQUESTS");
        return ExitCode::from(2);
    };
    let Ok(requests) = requests.parse::<usize>() else {
        eprintln!("REQUESTS must be a number, not {requests:?}");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let outcome = match client.as_str() {
        "tern-std" => tern_std_client(url, requests),
        "tern-tokio" => tern_tokio_client(url, requests),
        "ureq" => ureq_client(url, requests),
        "reqwest" => reqwest_client(url, requests),
        "null" => null_client(url, requests),
        other => Err(format!("unknown client {other:?}")),
    };
    match outcome {
        Ok(()) => {
            println!("{:.6}", start.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_client {client}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(body: &[u8]) -> Outcome {
    if body == BODY { Ok(()) } else { Err(format!("unexpected body {:?}", String::from_utf8_lossy(body))) }
}

/// tern-std's blocking client; the body is counted from `OnData` events, as a firmware
/// handler would consume it.
fn tern_std_client(url: &str, requests: usize) -> Outcome {
    let config = ClientConfig { url: Some(url), ..ClientConfig::default() };
    let mut received = 0usize;
    let mut client = tern_std::Client::with_handler(&config, |e: &Event<'_>| {
        if let EventKind::OnData(data) = e.kind {
            received += data.len();
        }
    })
    .map_err(|e| e.to_string())?;
    for _ in 0..=requests {
        client.perform().map_err(|e| e.to_string())?;
    }
    let connects = client.connects();
    drop(client);
    if connects != 1 {
        return Err(format!("{connects} connections instead of one"));
    }
    if received != BODY.len() * (requests + 1) {
        return Err(format!("{received} body bytes"));
    }
    Ok(())
}

/// tern-tokio's client on a current-thread runtime.
fn tern_tokio_client(url: &str, requests: usize) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let config = ClientConfig { url: Some(url), ..ClientConfig::default() };
        let mut received = 0usize;
        let mut client = tern_tokio::client::Client::with_handler(&config, |e: &Event<'_>| {
            if let EventKind::OnData(data) = e.kind {
                received += data.len();
            }
        })
        .map_err(|e| e.to_string())?;
        for _ in 0..=requests {
            client.perform().await.map_err(|e| e.to_string())?;
        }
        drop(client);
        if received != BODY.len() * (requests + 1) {
            return Err(format!("{received} body bytes"));
        }
        Ok(())
    })
}

/// ureq 3's blocking agent (its pool keeps the connection).
fn ureq_client(url: &str, requests: usize) -> Outcome {
    let agent = ureq::Agent::new_with_defaults();
    for _ in 0..=requests {
        let body =
            agent.get(url).call().map_err(|e| e.to_string())?.body_mut().read_to_vec().map_err(|e| e.to_string())?;
        check(&body)?;
    }
    Ok(())
}

/// reqwest's async client on a current-thread runtime (its pool keeps the connection).
fn reqwest_client(url: &str, requests: usize) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..=requests {
            let response = client.get(url).send().await.map_err(|e| e.to_string())?;
            check(&response.bytes().await.map_err(|e| e.to_string())?)?;
        }
        Ok(())
    })
}

/// A raw socket: the first exchange reads until the body's end to learn the reply's length
/// (the bench servers' replies do not change length), the rest read exactly that many bytes.
fn null_client(url: &str, requests: usize) -> Outcome {
    let rest = url.strip_prefix("http://").ok_or("the null client speaks http:// only")?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let mut stream = TcpStream::connect(authority).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while !reply.ends_with(BODY) {
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        reply.extend_from_slice(chunk.get(..n).ok_or("read past the buffer")?);
        if n == 0 || reply.len() > 4096 {
            return Err(format!("no `Hello World!` reply: {:?}", String::from_utf8_lossy(&reply)));
        }
    }
    let mut buf = vec![0u8; reply.len()];
    for _ in 0..requests {
        stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        stream.read_exact(&mut buf).map_err(|e| e.to_string())?;
    }
    check(buf.get(buf.len() - BODY.len()..).unwrap_or_default())
}

//! The async client against servers that stall, over real loopback sockets: the engine's
//! deadlines become tokio sleeps, a timeout closes the connection, and a dropped future
//! resumes where it stopped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tern_proto::client::{ClientConfig, ClientError, Event, EventId, Stage, State};
use tern_tokio::client::{Client, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a scripted server does on one connection, after reading a request head.
#[derive(Clone, Copy)]
enum Script {
    /// Say nothing, keep the connection open.
    Silent,
    /// Wait, then answer `200` with the connection's number as the body.
    AnswerAfter(Duration),
    /// Send the head and part of a 10-byte body, then stall.
    StallInBody,
    /// Send the head and then one body byte every `Duration`, for 10 bytes.
    Trickle(Duration),
}

/// A loopback server that runs `scripts[i]` on its i-th connection (the last one after
/// that); returns its address and its count of accepted connections.
async fn scripted(scripts: Vec<Script>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let i = counter.fetch_add(1, Ordering::SeqCst);
            let script = scripts[i.min(scripts.len() - 1)];
            tokio::spawn(serve(stream, i, script));
        }
    });
    (format!("http://{addr}/"), accepted)
}

async fn serve(mut stream: TcpStream, i: usize, script: Script) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    match script {
        Script::Silent => {}
        Script::AnswerAfter(delay) => {
            tokio::time::sleep(delay).await;
            let body = format!("conn{i}");
            let response = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            let _ = stream.write_all(response.as_bytes()).await;
        }
        Script::StallInBody => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").await;
        }
        Script::Trickle(every) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").await;
            for _ in 0..10 {
                tokio::time::sleep(every).await;
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
            }
        }
    }
    // Hold the connection open until the client goes away.
    let _ = stream.read(&mut buf).await;
}

/// Fails the test, rather than hanging it, when the client's own timeout never fires.
async fn within_5s<T>(operation: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), operation).await.expect("the client's timeout never fired")
}

fn timeout_stage(err: &Error) -> Option<Stage> {
    match err {
        Error::Client(ClientError::Timeout(stage)) => Some(*stage),
        _ => None,
    }
}

#[tokio::test]
async fn a_silent_server_times_out_waiting_for_the_head() {
    let (url, accepted) = scripted(vec![Script::Silent]).await;
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(300), ..ClientConfig::default() };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let handler = move |event: &Event<'_>| sink.lock().unwrap().push(event.kind.id());
    let mut client = Client::with_handler(&config, handler).unwrap();
    let started = Instant::now();
    let err = within_5s(client.perform()).await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(timeout_stage(&err), Some(Stage::ReceiveHead), "{err}");
    assert!(waited >= Duration::from_millis(300), "gave up early, after {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    use EventId::*;
    assert_eq!(*events.lock().unwrap(), [OnConnected, HeadersSent, Error, Disconnected]);
    assert_eq!(client.state(), State::Init);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn fetch_headers_times_out_too() {
    // The streaming flow starts its wait with no deadline running: the engine arms one as it
    // asks for bytes, and the adapter must see it.
    let (url, _) = scripted(vec![Script::Silent]).await;
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(200), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(0)).await.unwrap();
    let started = Instant::now();
    let err = within_5s(client.fetch_headers()).await.unwrap_err();
    assert_eq!(timeout_stage(&err), Some(Stage::ReceiveHead), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_body_that_stalls_times_out_in_read() {
    let (url, _) = scripted(vec![Script::StallInBody]).await;
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(200), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    client.open(Some(0)).await.unwrap();
    assert_eq!(client.fetch_headers().await.unwrap(), Some(10));
    let mut buf = [0u8; 64];
    let n = client.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"abc");
    let err = within_5s(client.read(&mut buf)).await.unwrap_err();
    assert_eq!(timeout_stage(&err), Some(Stage::ReceiveBody), "{err}");
    assert_eq!(client.state(), State::Init);
}

#[tokio::test]
async fn a_late_answer_does_not_leak_into_the_next_request() {
    // The first connection answers after the client gave up; the second answers at once.
    let (url, accepted) =
        scripted(vec![Script::AnswerAfter(Duration::from_millis(500)), Script::AnswerAfter(Duration::ZERO)]).await;
    let config = ClientConfig { url: Some(&url), timeout: Duration::from_millis(200), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let started = Instant::now();
    let err = within_5s(client.perform()).await.unwrap_err();
    assert_eq!(timeout_stage(&err), Some(Stage::ReceiveHead), "{err}");
    assert!(started.elapsed() < Duration::from_millis(450), "gave up on time, not when the answer came");
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.open(Some(0)).await.unwrap();
    client.fetch_headers().await.unwrap();
    assert_eq!(&client.read_to_end(64).await.unwrap()[..], b"conn1");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_whole_request_deadline_bounds_a_trickling_body() {
    // Each byte comes well within `timeout`, but the whole request takes longer than
    // `request_timeout`.
    let (url, _) = scripted(vec![Script::Trickle(Duration::from_millis(100))]).await;
    let config = ClientConfig {
        url: Some(&url),
        timeout: Duration::from_millis(1000),
        request_timeout: Some(Duration::from_millis(450)),
        ..ClientConfig::default()
    };
    let mut client = Client::new(&config).unwrap();
    let started = Instant::now();
    let err = within_5s(client.perform()).await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(timeout_stage(&err), Some(Stage::ReceiveBody), "{err}");
    assert!(waited >= Duration::from_millis(450) && waited < Duration::from_millis(900), "{waited:?}");
}

#[tokio::test]
async fn a_dropped_perform_resumes_on_the_next_call() {
    let (url, accepted) = scripted(vec![Script::AnswerAfter(Duration::from_millis(300))]).await;
    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut client = Client::new(&config).unwrap();
    let dropped = tokio::time::timeout(Duration::from_millis(50), client.perform()).await;
    assert!(dropped.is_err(), "the answer comes after 300 ms");
    assert_eq!(client.state(), State::ReqCompleteData);
    // The same operation again: it waits for the answer to the request already sent.
    client.perform().await.unwrap();
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(client.content_length(), Some(5));
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

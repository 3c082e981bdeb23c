//! The client's tour of the demo server: tern-std's blocking client, its events logged as
//! ESP-IDF's example logs them, one checked step after another.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tern_proto::Method;
use tern_proto::client::{ClientConfig, Event, EventHandler, EventKind};

use super::log::Log;
use super::server::{self, CHUNKS, HELLO, PASSWORD, USER};
use super::ws;

/// The log tag of the client's events, as ESP-IDF's `esp_http_client` example.
const TAG: &str = "HTTP_CLIENT";
/// The body `POST /echo` sends.
const ECHO_BODY: &[u8] = b"ping from tern's client";
/// The pieces the chunked upload writes, one `write` each.
const UPLOAD: [&[u8]; 3] = [b"first piece, ", b"second piece, ", b"last piece"];
/// The text the WebSocket step sends.
const WS_TEXT: &str = "hello over WebSocket";

/// What the steps need.
pub(crate) struct Tour {
    pub(crate) log: Arc<Log>,
    pub(crate) addr: SocketAddr,
    pub(crate) server: Arc<server::Shared>,
}

/// A step: its name and what it does, returning its summary or why it failed.
type Step = (&'static str, fn(&Tour) -> Result<String, String>);

const STEPS: [Step; 10] = [
    ("GET", get),
    ("POST echo", post_echo),
    ("chunked upload", chunked_upload),
    ("chunked download", chunked_download),
    ("redirect", redirect),
    ("Basic auth", basic_auth),
    ("Digest auth", digest_auth),
    ("Digest auth, wrong password", digest_wrong_password),
    ("keep-alive", keep_alive),
    ("WebSocket echo", websocket),
];

impl Tour {
    /// Runs every step; how many passed, of how many.
    pub(crate) fn run(&self) -> (usize, usize) {
        let mut passed = 0;
        for (i, (name, step)) in STEPS.iter().enumerate() {
            self.log.info("demo", format_args!("step {}/{}: {name}", i + 1, STEPS.len()));
            let result = step(self);
            if let Err(why) = &result {
                self.log.error("demo", format_args!("{name} failed: {why}"));
            }
            self.log.summary(name, &result);
            passed += usize::from(result.is_ok());
        }
        (passed, STEPS.len())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// What the client's events showed during a step.
#[derive(Debug, Default)]
struct Tally {
    connected: u32,
    /// The status of every response, redirects and challenges included.
    statuses: Vec<u16>,
    /// The body of the last response.
    body: Vec<u8>,
}

/// The client's event handler: logs every event and keeps the tally.
struct Recorder {
    log: Arc<Log>,
    tally: Rc<RefCell<Tally>>,
}

impl EventHandler for Recorder {
    fn on_event(&mut self, event: &Event<'_>) {
        // The steps read the tally only between calls into the client, so it is free here.
        let Ok(mut tally) = self.tally.try_borrow_mut() else { return };
        let log = &self.log;
        match event.kind {
            EventKind::Error(e) => log.error(TAG, format_args!("HTTP_EVENT_ERROR: {e}")),
            EventKind::OnConnected => {
                tally.connected += 1;
                log.info(TAG, "HTTP_EVENT_ON_CONNECTED");
            }
            EventKind::HeadersSent => log.info(TAG, "HTTP_EVENT_HEADERS_SENT"),
            EventKind::OnHeader { name, value } => {
                log.info(
                    TAG,
                    format_args!("HTTP_EVENT_ON_HEADER, key={name}, value={}", String::from_utf8_lossy(value)),
                );
            }
            EventKind::OnHeadersComplete => log.info(TAG, "HTTP_EVENT_ON_HEADERS_COMPLETE"),
            EventKind::OnStatusCode(status) => {
                tally.statuses.push(status.as_u16());
                tally.body.clear();
                log.info(TAG, format_args!("HTTP_EVENT_ON_STATUS_CODE, status={}", status.as_u16()));
            }
            EventKind::OnData(data) => {
                tally.body.extend_from_slice(data);
                log.info(TAG, format_args!("HTTP_EVENT_ON_DATA, len={}", data.len()));
            }
            EventKind::OnFinish => log.info(TAG, "HTTP_EVENT_ON_FINISH"),
            EventKind::Disconnected => log.info(TAG, "HTTP_EVENT_DISCONNECTED"),
            EventKind::Redirect { status } => {
                log.info(TAG, format_args!("HTTP_EVENT_REDIRECT, status={}", status.as_u16()));
            }
            other => log.info(TAG, format_args!("HTTP_EVENT_{:?}", other.id())),
        }
    }
}

type Client<'a> = tern_std::Client<'a, Recorder>;

/// A client for `url` whose events are logged and tallied.
fn client<'a>(tour: &Tour, url: &'a str) -> Result<(Client<'a>, Rc<RefCell<Tally>>), String> {
    let tally = Rc::new(RefCell::new(Tally::default()));
    let config = ClientConfig { url: Some(url), timeout: Duration::from_secs(3), ..ClientConfig::default() };
    let recorder = Recorder { log: tour.log.clone(), tally: tally.clone() };
    let client = tern_std::Client::with_handler(&config, recorder).map_err(|e| e.to_string())?;
    Ok((client, tally))
}

/// Fails unless the responses had exactly these statuses.
fn expect_statuses(tally: &Tally, expected: &[u16]) -> Result<(), String> {
    if tally.statuses == expected {
        Ok(())
    } else {
        Err(format!("expected statuses {expected:?}, got {:?}", tally.statuses))
    }
}

/// Fails unless `body` is `expected`.
fn expect_body(body: &[u8], expected: &[u8]) -> Result<(), String> {
    if body == expected { Ok(()) } else { Err(format!("expected body {:?}, got {:?}", text(expected), text(body))) }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn failed(e: tern_std::Error) -> String {
    format!("request failed: {e}")
}

/// Closes the connection when a step is done with it, as `esp_http_client_cleanup` does (a
/// dropped client closes its socket without an event), so that the log shows
/// `HTTP_EVENT_DISCONNECTED`.
fn cleanup(client: &mut Client<'_>) -> Result<(), String> {
    client.close().map_err(failed)
}

fn get(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/hello");
    let (mut client, tally) = client(tour, &url)?;
    client.perform().map_err(failed)?;
    cleanup(&mut client)?;
    let tally = tally.borrow();
    expect_statuses(&tally, &[200])?;
    expect_body(&tally.body, HELLO)?;
    Ok(format!("/hello -> 200 {:?}", text(&tally.body)))
}

fn post_echo(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/echo");
    let (mut client, tally) = client(tour, &url)?;
    client.set_method(Method::Post);
    client.set_post_field(Some(ECHO_BODY)).map_err(|e| e.to_string())?;
    client.perform().map_err(failed)?;
    cleanup(&mut client)?;
    let tally = tally.borrow();
    expect_statuses(&tally, &[200])?;
    expect_body(&tally.body, ECHO_BODY)?;
    Ok(format!("/echo -> 200, {} bytes echoed", tally.body.len()))
}

/// `open(None)` (a chunked body), a `write` per piece, `fetch_headers`, then `read` to the end.
fn chunked_upload(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/upload");
    let (mut client, _) = client(tour, &url)?;
    client.set_method(Method::Post);
    client.open(None).map_err(failed)?;
    for piece in UPLOAD {
        client.write(piece).map_err(failed)?;
    }
    client.fetch_headers().map_err(failed)?;
    let mut body = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match client.read(&mut buf).map_err(failed)? {
            0 => break,
            n => body.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    let status = client.status_code().map(|s| s.as_u16());
    if status != Some(200) {
        return Err(format!("expected status 200, got {status:?}"));
    }
    cleanup(&mut client)?;
    expect_body(&body, &UPLOAD.concat())?;
    Ok(format!("{} writes sent chunked, 200, {} bytes read back", UPLOAD.len(), body.len()))
}

fn chunked_download(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/chunks");
    let (mut client, tally) = client(tour, &url)?;
    client.perform().map_err(failed)?;
    let chunked = client.is_chunked_response();
    cleanup(&mut client)?;
    let tally = tally.borrow();
    expect_statuses(&tally, &[200])?;
    if !chunked {
        return Err("the response was not chunked".to_owned());
    }
    expect_body(&tally.body, &CHUNKS.concat())?;
    Ok(format!("200, chunked: {:?}", text(&tally.body)))
}

fn redirect(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/redirect");
    let (mut client, tally) = client(tour, &url)?;
    client.perform().map_err(failed)?;
    cleanup(&mut client)?;
    let tally = tally.borrow();
    expect_statuses(&tally, &[302, 200])?;
    expect_body(&tally.body, HELLO)?;
    if !client.url_str().ends_with("/hello") {
        return Err(format!("ended at {}, not /hello", client.url_str()));
    }
    Ok(format!("302 -> /hello followed -> 200 {:?}", text(&tally.body)))
}

/// Credentials are given but not sent until the server asks (`AuthType::None`): the engine
/// answers the challenge.
fn basic_auth(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/basic");
    let (mut client, tally) = client(tour, &url)?;
    client.set_username(Some(USER)).map_err(|e| e.to_string())?;
    client.set_password(Some(PASSWORD)).map_err(|e| e.to_string())?;
    client.perform().map_err(failed)?;
    cleanup(&mut client)?;
    let tally = tally.borrow();
    expect_statuses(&tally, &[401, 200])?;
    expect_body(&tally.body, format!("welcome, {USER}").as_bytes())?;
    Ok("401 challenge, then 200 with Basic credentials".to_owned())
}

/// A Digest challenge answered, then a second request that reuses the nonce with nc=2 and
/// needs no challenge.
fn digest_auth(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/digest");
    let (mut client, tally) = client(tour, &url)?;
    client.set_username(Some(USER)).map_err(|e| e.to_string())?;
    client.set_password(Some(PASSWORD)).map_err(|e| e.to_string())?;
    client.perform().map_err(failed)?;
    expect_statuses(&tally.borrow(), &[401, 200])?;
    expect_body(&tally.borrow().body, format!("welcome, {USER}").as_bytes())?;
    tally.borrow_mut().statuses.clear();
    client.perform().map_err(failed)?;
    cleanup(&mut client)?;
    expect_statuses(&tally.borrow(), &[200]).map_err(|e| format!("reusing the nonce: {e}"))?;
    Ok("401 challenge, then 200 verified by the server (MD5, qop=auth); nonce reused with nc=2: 200".to_owned())
}

fn digest_wrong_password(tour: &Tour) -> Result<String, String> {
    let url = tour.url("/digest");
    let (mut client, tally) = client(tour, &url)?;
    client.set_username(Some(USER)).map_err(|e| e.to_string())?;
    client.set_password(Some("not the password")).map_err(|e| e.to_string())?;
    client.perform().map_err(failed)?;
    cleanup(&mut client)?;
    expect_statuses(&tally.borrow(), &[401, 401])?;
    Ok("401 challenge, answer refused with 401".to_owned())
}

/// Three requests over one client: one connection, on both sides.
fn keep_alive(tour: &Tour) -> Result<String, String> {
    let opened_before = tour.server.sessions_opened.load(Ordering::SeqCst);
    let first = tour.url("/hello");
    let (mut client, tally) = client(tour, &first)?;
    let paths = ["/hello", "/chunks", "/hello"];
    for path in paths {
        client.set_url(&tour.url(path)).map_err(|e| e.to_string())?;
        client.perform().map_err(failed)?;
    }
    cleanup(&mut client)?;
    let tally = tally.borrow();
    expect_statuses(&tally, &[200; 3])?;
    let opened = tour.server.sessions_opened.load(Ordering::SeqCst).wrapping_sub(opened_before);
    if tally.connected != 1 || opened != 1 {
        return Err(format!(
            "ON_CONNECTED {} times, {opened} server sessions opened (expected 1 and 1)",
            tally.connected
        ));
    }
    Ok(format!("{} requests, ON_CONNECTED ×{}, server sessions opened: {opened}", paths.len(), tally.connected))
}

fn websocket(tour: &Tour) -> Result<String, String> {
    ws::echo(tour.addr, "/ws", WS_TEXT, &tour.log)
}

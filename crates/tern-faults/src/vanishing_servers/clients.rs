//! One request on a client of either adapter (tern-tokio or tern-std), in either flow
//! (`perform`, or the streaming calls), and what it gave: the result, the events the
//! [`Recorder`] saw, and the client's state afterwards ([`Reply`]). Runs of several requests,
//! and hangs, are [`super::runner`]'s.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, Event, EventHandler, EventKind, State};

/// The client's per-operation timeout, unless the case says otherwise (ESP-IDF's default).
pub(super) const NORMAL_TIMEOUT: Duration = Duration::from_secs(5);
/// The URL a client is created with; every request sets its own.
const PLACEHOLDER_URL: &str = "http://127.0.0.1/";

/// How the request is made and its body read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    /// `perform`; the body arrives as `OnData` events.
    Perform,
    /// `open`, `write`, `fetch_headers`, then reads until the end of the body.
    Stream,
}

/// What a client's events said during one request.
#[derive(Debug, Default)]
pub(super) struct Record {
    pub(super) data: Vec<u8>,
    pub(super) finished: u32,
    pub(super) errors: Vec<ClientError>,
}

/// The event handler: records `OnData`, `OnFinish` and `Error`.
#[derive(Clone, Default)]
pub(super) struct Recorder(Arc<Mutex<Record>>);

impl Recorder {
    pub(super) fn take(&self) -> Record {
        self.0.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default()
    }
}

impl EventHandler for Recorder {
    fn on_event(&mut self, event: &Event<'_>) {
        let Ok(mut record) = self.0.lock() else { return };
        match event.kind {
            EventKind::OnData(data) => record.data.extend_from_slice(data),
            EventKind::OnFinish => record.finished += 1,
            EventKind::Error(e) => record.errors.push(e),
            _ => {}
        }
    }
}

type Engine = tern_proto::client::Client<'static, Vec<u8>, Recorder>;
pub(super) type TokioClient = tern_tokio::client::Client<'static, Recorder>;
pub(super) type StdClient = tern_std::Client<'static, Recorder>;

/// The configuration every client is created with.
pub(super) fn client_config() -> ClientConfig<'static> {
    ClientConfig { url: Some(PLACEHOLDER_URL), timeout: NORMAL_TIMEOUT, ..ClientConfig::default() }
}

/// One request.
#[derive(Clone)]
pub(super) struct Req {
    pub(super) url: String,
    pub(super) method: Method<'static>,
    pub(super) body: Option<&'static [u8]>,
    pub(super) timeout: Duration,
}

impl Req {
    pub(super) fn get(url: String, timeout: Duration) -> Req {
        Req { url, method: Method::Get, body: None, timeout }
    }
}

/// Why a request failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The engine's error.
    Client(ClientError),
    /// Another error of the adapter (its `Debug`).
    Other(String),
}

/// What one request returned, and the client afterwards.
#[derive(Debug)]
pub(super) struct Reply {
    /// The body the streaming flow read; `None` for `perform`.
    pub(super) result: Result<Option<Vec<u8>>, Failure>,
    pub(super) events: Record,
    pub(super) state: State,
    pub(super) status: Option<u16>,
    pub(super) complete: bool,
    /// Connections the client opened for this request.
    pub(super) connects: u32,
}

/// Sets up the next request.
fn configure(engine: &mut Engine, req: &Req, flow: Flow) -> Result<(), ClientError> {
    engine.set_url(&req.url)?;
    engine.set_method(req.method);
    engine.set_post_field(if flow == Flow::Perform { req.body } else { None })?;
    engine.set_timeout(req.timeout);
    Ok(())
}

fn reply(engine: &Engine, rec: &Recorder, connects_before: u32, result: Result<Option<Vec<u8>>, Failure>) -> Reply {
    Reply {
        result,
        events: rec.take(),
        state: engine.state(),
        status: engine.status_code().map(|s| s.as_u16()),
        complete: engine.is_complete_data_received(),
        connects: engine.connects().wrapping_sub(connects_before),
    }
}

fn tokio_failure(e: tern_tokio::client::Error) -> Failure {
    match e.client_error() {
        Some(c) => Failure::Client(*c),
        None => Failure::Other(format!("{e:?}")),
    }
}

fn std_failure(e: tern_std::Error) -> Failure {
    match e.client_error() {
        Some(c) => Failure::Client(*c),
        None => Failure::Other(format!("{e:?}")),
    }
}

/// One request on a tern-tokio client.
pub(super) async fn tokio_request(client: &mut TokioClient, rec: &Recorder, flow: Flow, req: &Req) -> Reply {
    let _ = rec.take();
    let before = client.connects();
    let result = match configure(client, req, flow) {
        Err(e) => Err(Failure::Client(e)),
        Ok(()) => match flow {
            Flow::Perform => client.perform().await.map(|()| None).map_err(tokio_failure),
            Flow::Stream => tokio_stream(client, req).await.map(Some).map_err(tokio_failure),
        },
    };
    reply(client, rec, before, result)
}

async fn tokio_stream(client: &mut TokioClient, req: &Req) -> Result<Vec<u8>, tern_tokio::client::Error> {
    let body = req.body.unwrap_or_default();
    client.open(Some(body.len() as u64)).await?;
    if !body.is_empty() {
        client.write(body).await?;
    }
    client.fetch_headers().await?;
    Ok(client.read_to_end(1 << 20).await?.to_vec())
}

/// One request on a tern-std client.
pub(super) fn std_request(client: &mut StdClient, rec: &Recorder, flow: Flow, req: &Req) -> Reply {
    let _ = rec.take();
    let before = client.connects();
    let result = match configure(client, req, flow) {
        Err(e) => Err(Failure::Client(e)),
        Ok(()) => match flow {
            Flow::Perform => client.perform().map(|()| None).map_err(std_failure),
            Flow::Stream => std_stream(client, req).map(Some).map_err(std_failure),
        },
    };
    reply(client, rec, before, result)
}

fn std_stream(client: &mut StdClient, req: &Req) -> Result<Vec<u8>, tern_std::Error> {
    let body = req.body.unwrap_or_default();
    client.open(Some(body.len() as u64))?;
    if !body.is_empty() {
        client.write(body)?;
    }
    client.fetch_headers()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match client.read(&mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
}

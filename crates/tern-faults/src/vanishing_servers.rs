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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use socket2::SockRef;
use tern_proto::Method;
use tern_proto::client::{ClientConfig, ClientError, Event, EventHandler, EventKind, Stage, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Runs of each case per lane.
const REPEATS: usize = 20;
/// Runs of each case per lane with `--quick`.
const REPEATS_QUICK: usize = 3;
/// How long one run (its requests and the good request after them) may take before it is
/// reported as a hang.
const HANG_LIMIT: Duration = Duration::from_secs(10);
/// The client's per-operation timeout for the stalling servers.
const STALL_TIMEOUT: Duration = Duration::from_secs(1);
/// The client's per-operation timeout otherwise (ESP-IDF's default).
const NORMAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a server that closed gracefully (or stalls) waits for the client to go.
const LINGER_LIMIT: Duration = Duration::from_secs(30);
/// The request body of state 13: more than the loopback socket buffers hold, so the client
/// is still writing when the server resets.
const UPLOAD_LEN: usize = 16 << 20;
/// The body of the controls (state 14): more than the client's receive buffer.
const WHOLE_LEN: usize = 3000;
/// A response head announcing 100 body bytes.
const CL_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
/// A chunked response head.
const CHUNKED_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
/// The URL a client is created with; every request sets its own.
const PLACEHOLDER_URL: &str = "http://127.0.0.1/";

/// What a scripted server does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    AcceptClose,
    ReadClose,
    MidStatus,
    MidHeaders,
    HeadOnly,
    HalfBody,
    InChunkData,
    InChunkSize,
    BetweenChunks,
    InTrailer,
    Stall,
    StallInBody,
    IdleClose,
    IdleClosePost,
    ReusedMidStatus,
    UploadCut,
    CloseDelimited,
    WholeThenClose,
}

/// How the server vanishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vanish {
    /// `shutdown(Write)`: the client reads end of stream.
    Fin,
    /// `SO_LINGER` 0, then close: the client's next read or write fails with a reset.
    Rst,
    /// It does not: the socket stays open until the client goes.
    Stay,
}

impl Vanish {
    const fn name(self) -> &'static str {
        match self {
            Vanish::Fin => "FIN",
            Vanish::Rst => "RST",
            Vanish::Stay => "-",
        }
    }
}

/// One line of the matrix.
struct Case {
    label: &'static str,
    what: &'static str,
    script: Script,
    vanish: Vanish,
}

const fn case(label: &'static str, what: &'static str, script: Script, vanish: Vanish) -> Case {
    Case { label, what, script, vanish }
}

const CASES: &[Case] = &[
    case("1", "accepted, closed before reading", Script::AcceptClose, Vanish::Fin),
    case("1", "accepted, closed before reading", Script::AcceptClose, Vanish::Rst),
    case("2", "read the request, no answer", Script::ReadClose, Vanish::Fin),
    case("2", "read the request, no answer", Script::ReadClose, Vanish::Rst),
    case("3", "mid status line", Script::MidStatus, Vanish::Fin),
    case("3", "mid status line", Script::MidStatus, Vanish::Rst),
    case("4", "mid header section", Script::MidHeaders, Vanish::Fin),
    case("4", "mid header section", Script::MidHeaders, Vanish::Rst),
    case("5", "head (Content-Length: 100), no body", Script::HeadOnly, Vanish::Fin),
    case("5", "head (Content-Length: 100), no body", Script::HeadOnly, Vanish::Rst),
    case("6", "half of a Content-Length body", Script::HalfBody, Vanish::Fin),
    case("6", "half of a Content-Length body", Script::HalfBody, Vanish::Rst),
    case("7", "chunked: inside chunk data", Script::InChunkData, Vanish::Fin),
    case("7", "chunked: inside chunk data", Script::InChunkData, Vanish::Rst),
    case("8", "chunked: inside a chunk-size line", Script::InChunkSize, Vanish::Fin),
    case("8", "chunked: inside a chunk-size line", Script::InChunkSize, Vanish::Rst),
    case("9", "chunked: after a chunk, no last chunk", Script::BetweenChunks, Vanish::Fin),
    case("9", "chunked: after a chunk, no last chunk", Script::BetweenChunks, Vanish::Rst),
    case("10", "chunked: inside the trailer section", Script::InTrailer, Vanish::Fin),
    case("10", "chunked: inside the trailer section", Script::InTrailer, Vanish::Rst),
    case("11", "never answers (timeout 1 s)", Script::Stall, Vanish::Stay),
    case("11b", "stalls mid-body (timeout 1 s)", Script::StallInBody, Vanish::Stay),
    case("12", "closes the idle kept-alive conn; GET", Script::IdleClose, Vanish::Fin),
    case("12", "closes the idle kept-alive conn; GET", Script::IdleClose, Vanish::Rst),
    case("12p", "closes the idle kept-alive conn; POST", Script::IdleClosePost, Vanish::Fin),
    case("12p", "closes the idle kept-alive conn; POST", Script::IdleClosePost, Vanish::Rst),
    case("12m", "kept-alive: 2nd answer cut mid status", Script::ReusedMidStatus, Vanish::Fin),
    case("12m", "kept-alive: 2nd answer cut mid status", Script::ReusedMidStatus, Vanish::Rst),
    case("13", "closes during a 16 MiB request body", Script::UploadCut, Vanish::Fin),
    case("13", "closes during a 16 MiB request body", Script::UploadCut, Vanish::Rst),
    case("14a", "control: whole close-delimited body", Script::CloseDelimited, Vanish::Fin),
    case("14a", "control: whole close-delimited body", Script::CloseDelimited, Vanish::Rst),
    case("14b", "control: whole Content-Length response", Script::WholeThenClose, Vanish::Fin),
    case("14b", "control: whole Content-Length response", Script::WholeThenClose, Vanish::Rst),
];

/// The body of the controls.
fn whole_body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        b"the quick brown fox jumps over the lazy dog\n".iter().copied().cycle().take(WHOLE_LEN).collect()
    })
}

/// The request body of state 13.
fn upload() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| vec![b'u'; UPLOAD_LEN])
}

/// What the server writes on a connection (`conn` numbers them): one answer after each
/// request head it reads, then it vanishes.
fn answers(script: Script, conn: u64) -> Vec<Vec<u8>> {
    let idle = || format!("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nconn {:05}", conn % 100_000).into_bytes();
    match script {
        Script::AcceptClose => Vec::new(),
        Script::IdleClose | Script::IdleClosePost => vec![idle()],
        Script::ReusedMidStatus => vec![idle(), b"HTTP/1.1 20".to_vec()],
        other => vec![last_answer(other)],
    }
}

/// What the server writes after reading the request head, before it vanishes.
fn last_answer(script: Script) -> Vec<u8> {
    match script {
        Script::AcceptClose
        | Script::ReadClose
        | Script::Stall
        | Script::UploadCut
        | Script::IdleClose
        | Script::IdleClosePost
        | Script::ReusedMidStatus => Vec::new(),
        Script::MidStatus => b"HTTP/1.1 20".to_vec(),
        Script::MidHeaders => b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-A: b".to_vec(),
        Script::HeadOnly => CL_HEAD.to_vec(),
        Script::HalfBody | Script::StallInBody => [CL_HEAD, &[b'h'; 50]].concat(),
        Script::InChunkData => [CHUNKED_HEAD, b"a\r\nhello"].concat(),
        Script::InChunkSize => [CHUNKED_HEAD, b"5\r\nhello\r\n1"].concat(),
        Script::BetweenChunks => [CHUNKED_HEAD, b"5\r\nhello\r\n"].concat(),
        Script::InTrailer => [CHUNKED_HEAD, b"5\r\nhello\r\n0\r\nX-Trailer: yes\r\n"].concat(),
        Script::CloseDelimited => [b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", whole_body()].concat(),
        Script::WholeThenClose => {
            [format!("HTTP/1.1 200 OK\r\nContent-Length: {WHOLE_LEN}\r\n\r\n").as_bytes(), whole_body()].concat()
        }
    }
}

/// Decoded body bytes the server sent.
fn body_sent(script: Script) -> u64 {
    match script {
        Script::HalfBody | Script::StallInBody => 50,
        Script::InChunkData | Script::InChunkSize | Script::BetweenChunks | Script::InTrailer => 5,
        Script::CloseDelimited | Script::WholeThenClose => WHOLE_LEN as u64,
        _ => 0,
    }
}

/// An error the client may give.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// `ConnectionClosed` at this stage.
    Closed(Stage),
    /// `Transport` at this stage (the reset).
    Reset(Stage),
    /// `IncompleteBody`, with every body byte the server sent.
    Incomplete,
    /// `Timeout` at this stage.
    Timeout(Stage),
    /// `Connect`: the reset came before the adapter's connect had reported success.
    Connect,
}

impl Want {
    fn matches(self, error: &ClientError, sent: u64) -> bool {
        match (self, error) {
            (Want::Closed(s), ClientError::ConnectionClosed(t))
            | (Want::Reset(s), ClientError::Transport(t))
            | (Want::Timeout(s), ClientError::Timeout(t)) => s == *t,
            (Want::Incomplete, ClientError::IncompleteBody { received }) => *received == sent,
            (Want::Connect, ClientError::Connect) => true,
            _ => false,
        }
    }
}

/// What the client must do with a case.
enum Expect {
    /// Fail with one of these.
    Fail(&'static [Want]),
    /// Succeed with the whole control body.
    Whole,
    /// Succeed, on a second connection: the engine retried the request.
    Retried,
}

fn expectation(script: Script, vanish: Vanish, flow: Flow) -> Expect {
    use Stage::{ReceiveBody, ReceiveHead, Send};
    match (script, vanish) {
        (Script::Stall, _) => Expect::Fail(&[Want::Timeout(ReceiveHead)]),
        (Script::StallInBody, _) => Expect::Fail(&[Want::Timeout(ReceiveBody)]),
        (Script::WholeThenClose, _) | (Script::CloseDelimited, Vanish::Fin) => Expect::Whole,
        (Script::IdleClose, _) if flow == Flow::Perform => Expect::Retried,
        (Script::AcceptClose, Vanish::Rst) => {
            Expect::Fail(&[Want::Reset(Send), Want::Reset(ReceiveHead), Want::Connect])
        }
        (Script::IdleClose | Script::IdleClosePost | Script::UploadCut, Vanish::Rst) => {
            Expect::Fail(&[Want::Reset(Send)])
        }
        (Script::ReusedMidStatus, Vanish::Rst) => Expect::Fail(&[Want::Reset(ReceiveHead)]),
        (
            Script::AcceptClose
            | Script::ReadClose
            | Script::MidStatus
            | Script::MidHeaders
            | Script::IdleClose
            | Script::IdleClosePost
            | Script::ReusedMidStatus
            | Script::UploadCut,
            Vanish::Fin | Vanish::Stay,
        ) => Expect::Fail(&[Want::Closed(ReceiveHead)]),
        (Script::ReadClose | Script::MidStatus | Script::MidHeaders, Vanish::Rst) => {
            Expect::Fail(&[Want::Reset(ReceiveHead)])
        }
        (
            Script::HeadOnly | Script::HalfBody | Script::InChunkData | Script::InChunkSize | Script::BetweenChunks,
            Vanish::Fin | Vanish::Stay,
        )
        | (Script::InTrailer, Vanish::Fin | Vanish::Stay) => Expect::Fail(&[Want::Incomplete]),
        (
            Script::HeadOnly
            | Script::HalfBody
            | Script::InChunkData
            | Script::InChunkSize
            | Script::BetweenChunks
            | Script::InTrailer
            | Script::CloseDelimited,
            Vanish::Rst,
        ) => Expect::Fail(&[Want::Reset(ReceiveBody)]),
        (Script::CloseDelimited, Vanish::Stay) => Expect::Whole,
    }
}

// ----- the scripted servers -------------------------------------------------------------------

/// One scripted listener: its base URL and what it did.
struct CaseServer {
    base: String,
    /// Connections it vanished from (FIN sent, or reset).
    vanished: Arc<AtomicU64>,
}

/// A lane's servers: one per case, and the well-behaved one.
struct Endpoints {
    ok: String,
    cases: Vec<CaseServer>,
}

/// The servers of a lane, stopped when dropped.
struct Servers {
    endpoints: Arc<Endpoints>,
    _tasks: JoinSet<()>,
}

impl Servers {
    async fn start() -> Result<Servers, String> {
        let bind = || async { TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("bind: {e}")) };
        let base = |l: &TcpListener| l.local_addr().map(|a| format!("http://{a}")).map_err(|e| format!("address: {e}"));
        let mut tasks = JoinSet::new();
        let ok_listener = bind().await?;
        let ok = base(&ok_listener)?;
        tasks.spawn(listen(ok_listener, None));
        let mut cases = Vec::with_capacity(CASES.len());
        for case in CASES {
            let listener = bind().await?;
            let server = CaseServer { base: base(&listener)?, vanished: Arc::new(AtomicU64::new(0)) };
            tasks.spawn(listen(listener, Some((case.script, case.vanish, server.vanished.clone()))));
            cases.push(server);
        }
        Ok(Servers { endpoints: Arc::new(Endpoints { ok, cases }), _tasks: tasks })
    }
}

/// Accepts connections and runs the script on each (`None`: the well-behaved server). The
/// connections' tasks end with this one.
async fn listen(listener: TcpListener, script: Option<(Script, Vanish, Arc<AtomicU64>)>) {
    let mut connections = JoinSet::new();
    let mut accepted = 0u64;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        accepted += 1;
        let _ = stream.set_nodelay(true);
        match &script {
            None => connections.spawn(serve_ok(stream)),
            Some((script, vanish, vanished)) => {
                connections.spawn(serve_script(stream, *script, *vanish, accepted, vanished.clone()))
            }
        };
        while connections.try_join_next().is_some() {}
    }
}

/// Reads one request head (its bytes, up to the blank line); bytes after it stay in `pending`.
/// `None` at end of stream or on an error.
async fn read_head(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = pending.split_off(end + 4);
            return Some(std::mem::replace(pending, rest));
        }
        if pending.len() > 64 * 1024 {
            return None;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(buf.get(..n)?),
        }
    }
}

/// Reads and discards until the client goes (or `LINGER_LIMIT`).
async fn drain(stream: &mut TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let _ = tokio::time::timeout(LINGER_LIMIT, async {
        while let Ok(n) = stream.read(&mut buf).await
            && n > 0
        {}
    })
    .await;
}

/// Runs `script` on one connection, then vanishes.
async fn serve_script(mut stream: TcpStream, script: Script, vanish: Vanish, conn: u64, vanished: Arc<AtomicU64>) {
    let mut pending = Vec::new();
    for answer in answers(script, conn) {
        if read_head(&mut stream, &mut pending).await.is_none() {
            return;
        }
        if !answer.is_empty() && stream.write_all(&answer).await.is_err() {
            return;
        }
    }
    match vanish {
        Vanish::Fin => {
            let _ = stream.shutdown().await;
            vanished.fetch_add(1, Ordering::SeqCst);
            drain(&mut stream).await;
        }
        Vanish::Rst => {
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
            vanished.fetch_add(1, Ordering::SeqCst);
        }
        Vanish::Stay => drain(&mut stream).await,
    }
}

/// The well-behaved server: `GET /ok/<n>` answers `ok <n>`, on a kept-alive connection.
async fn serve_ok(mut stream: TcpStream) {
    let mut pending = Vec::new();
    while let Some(head) = read_head(&mut stream, &mut pending).await {
        let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
        let target = line.split(|b| *b == b' ').nth(1).unwrap_or_default();
        let body = match target.strip_prefix(b"/ok/") {
            Some(n) => [b"ok ", n].concat(),
            None => b"unexpected request".to_vec(),
        };
        let response =
            [format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(), &body].concat();
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

// ----- the clients ----------------------------------------------------------------------------

/// Which adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tokio,
    Std,
}

/// How the request is made and its body read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// `perform`; the body arrives as `OnData` events.
    Perform,
    /// `open`, `write`, `fetch_headers`, then reads until the end of the body.
    Stream,
}

/// What a client's events said during one request.
#[derive(Debug, Default)]
struct Record {
    data: Vec<u8>,
    finished: u32,
    errors: Vec<ClientError>,
}

/// The event handler: records `OnData`, `OnFinish` and `Error`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Record>>);

impl Recorder {
    fn take(&self) -> Record {
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
type TokioClient = tern_tokio::client::Client<'static, Recorder>;
type StdClient = tern_std::Client<'static, Recorder>;

fn client_config() -> ClientConfig<'static> {
    ClientConfig { url: Some(PLACEHOLDER_URL), timeout: NORMAL_TIMEOUT, ..ClientConfig::default() }
}

/// One request.
#[derive(Clone)]
struct Req {
    url: String,
    method: Method<'static>,
    body: Option<&'static [u8]>,
    timeout: Duration,
}

impl Req {
    fn get(url: String, timeout: Duration) -> Req {
        Req { url, method: Method::Get, body: None, timeout }
    }
}

/// What one run does: maybe a first request (and a wait for the server to close its
/// connection), the request the server vanishes on, then a good request.
struct Plan {
    prime: Option<Req>,
    /// After the first request, wait until this count of connections the server vanished
    /// from goes up.
    wait_vanish: Option<Arc<AtomicU64>>,
    fault: Req,
    good: Req,
}

/// Why a request failed.
#[derive(Debug)]
enum Failure {
    /// The engine's error.
    Client(ClientError),
    /// Another error of the adapter (its `Debug`).
    Other(String),
}

/// What one request returned, and the client afterwards.
#[derive(Debug)]
struct Reply {
    /// The body the streaming flow read; `None` for `perform`.
    result: Result<Option<Vec<u8>>, Failure>,
    events: Record,
    state: State,
    status: Option<u16>,
    complete: bool,
    /// Connections the client opened for this request.
    connects: u32,
}

/// One run's replies.
struct Run {
    prime: Option<Reply>,
    /// The server closed the first request's connection before the next request went out.
    vanished_in_time: bool,
    fault: Reply,
    good: Reply,
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

async fn tokio_request(client: &mut TokioClient, rec: &Recorder, flow: Flow, req: &Req) -> Reply {
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

fn std_request(client: &mut StdClient, rec: &Recorder, flow: Flow, req: &Req) -> Reply {
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

async fn tokio_execute(client: &mut TokioClient, rec: &Recorder, flow: Flow, plan: &Plan) -> Run {
    let before = plan.wait_vanish.as_ref().map(|v| v.load(Ordering::SeqCst));
    let mut prime = None;
    if let Some(req) = &plan.prime {
        prime = Some(tokio_request(client, rec, flow, req).await);
    }
    let mut vanished_in_time = true;
    if let (Some(vanished), Some(before)) = (&plan.wait_vanish, before) {
        vanished_in_time = false;
        for _ in 0..1000 {
            if vanished.load(Ordering::SeqCst) > before {
                vanished_in_time = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // The FIN or RST crosses loopback at once; a moment more makes it certain.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fault = tokio_request(client, rec, flow, &plan.fault).await;
    let good = tokio_request(client, rec, flow, &plan.good).await;
    Run { prime, vanished_in_time, fault, good }
}

fn std_execute(client: &mut StdClient, rec: &Recorder, flow: Flow, plan: &Plan) -> Run {
    let before = plan.wait_vanish.as_ref().map(|v| v.load(Ordering::SeqCst));
    let prime = plan.prime.as_ref().map(|req| std_request(client, rec, flow, req));
    let mut vanished_in_time = true;
    if let (Some(vanished), Some(before)) = (&plan.wait_vanish, before) {
        vanished_in_time = false;
        for _ in 0..1000 {
            if vanished.load(Ordering::SeqCst) > before {
                vanished_in_time = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let fault = std_request(client, rec, flow, &plan.fault);
    let good = std_request(client, rec, flow, &plan.good);
    Run { prime, vanished_in_time, fault, good }
}

/// A job for a tern-std client's thread.
struct Job {
    flow: Flow,
    plan: Plan,
    reply: oneshot::Sender<Result<Run, String>>,
}

/// A thread owning one tern-std client, running jobs in order. A hung thread is abandoned (it
/// is detached: it cannot hold up the process's exit); a new one takes its place.
fn std_worker() -> Result<mpsc::Sender<Job>, String> {
    let (jobs, incoming) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("vanishing-servers-std".into())
        .spawn(move || {
            let rec = Recorder::default();
            let mut client: Option<StdClient> = None;
            for job in incoming {
                if client.is_none() {
                    match StdClient::with_handler(&client_config(), rec.clone()) {
                        Ok(c) => client = Some(c),
                        Err(e) => {
                            let _ = job.reply.send(Err(format!("no tern-std client: {e:?}")));
                            continue;
                        }
                    }
                }
                if let Some(client) = client.as_mut() {
                    let _ = job.reply.send(Ok(std_execute(client, &rec, job.flow, &job.plan)));
                }
            }
        })
        .map_err(|e| format!("no thread for the tern-std client: {e}"))?;
    Ok(jobs)
}

/// Runs plans on one client of one kind, each within `HANG_LIMIT`, replacing the client after
/// a hang or a panic.
enum Runner {
    Tokio(Option<Box<(TokioClient, Recorder)>>),
    Std(Option<mpsc::Sender<Job>>),
}

impl Runner {
    async fn execute(&mut self, flow: Flow, plan: Plan) -> Result<Run, String> {
        match self {
            Runner::Tokio(slot) => {
                let (mut client, rec) = match slot.take() {
                    Some(pair) => *pair,
                    None => {
                        let rec = Recorder::default();
                        let client = TokioClient::with_handler(&client_config(), rec.clone())
                            .map_err(|e| format!("no tern-tokio client: {e:?}"))?;
                        (client, rec)
                    }
                };
                // A task of its own: a panic is caught, and a hang is cut off by a timer that
                // does not run in the hanging task.
                let task = tokio::spawn(async move {
                    let run = tokio_execute(&mut client, &rec, flow, &plan).await;
                    (client, rec, run)
                });
                let abort = task.abort_handle();
                match tokio::time::timeout(HANG_LIMIT, task).await {
                    Ok(Ok((client, rec, run))) => {
                        *slot = Some(Box::new((client, rec)));
                        Ok(run)
                    }
                    Ok(Err(e)) => Err(format!("PANIC in the tern-tokio client: {e}")),
                    Err(_) => {
                        abort.abort();
                        Err(format!("HANG: no result within {} s", HANG_LIMIT.as_secs()))
                    }
                }
            }
            Runner::Std(slot) => {
                let jobs = match slot.take() {
                    Some(jobs) => jobs,
                    None => std_worker()?,
                };
                let (reply, answer) = oneshot::channel();
                if jobs.send(Job { flow, plan, reply }).is_err() {
                    return Err("the tern-std client's thread is gone (a panic?)".into());
                }
                match tokio::time::timeout(HANG_LIMIT, answer).await {
                    Ok(Ok(result)) => {
                        *slot = Some(jobs);
                        result
                    }
                    Ok(Err(_)) => Err("PANIC: the tern-std client's thread ended without an answer".into()),
                    Err(_) => Err(format!("HANG: no result within {} s", HANG_LIMIT.as_secs())),
                }
            }
        }
    }
}

// ----- judging --------------------------------------------------------------------------------

/// Who an error blames.
fn blame(e: &ClientError) -> &'static str {
    if e.is_remote() {
        "server"
    } else if e.is_local() {
        "caller"
    } else {
        "network"
    }
}

/// The body a successful request delivered, after checking the success is whole: status 200,
/// `OnFinish` once, no `Error` event, `is_complete_data_received`, and the bytes read the
/// same as the `OnData` bytes.
fn delivered(reply: &Reply) -> Result<&[u8], String> {
    let read = match &reply.result {
        Err(Failure::Client(e)) => return Err(format!("{e:?} ({e})")),
        Err(Failure::Other(e)) => return Err(e.clone()),
        Ok(read) => read,
    };
    let events = &reply.events;
    if reply.status != Some(200) {
        return Err(format!("success with status {:?}", reply.status));
    }
    if events.finished != 1 || !reply.complete {
        return Err(format!(
            "success with {} OnFinish events and is_complete_data_received() = {} ({} body bytes)",
            events.finished,
            reply.complete,
            events.data.len()
        ));
    }
    if !events.errors.is_empty() {
        return Err(format!("success, yet Error events {:?}", events.errors));
    }
    if let Some(read) = read
        && *read != events.data
    {
        return Err(format!("{} bytes read, but {} bytes of OnData", read.len(), events.data.len()));
    }
    Ok(&events.data)
}

/// The fault request's outcome, as the table shows it, or why it is wrong.
fn judge_fault(case: &Case, flow: Flow, run: &Run) -> Result<String, String> {
    let reply = &run.fault;
    let sent = body_sent(case.script);
    match expectation(case.script, case.vanish, flow) {
        Expect::Whole => {
            let body = delivered(reply).map_err(|e| format!("the control failed: {e}"))?;
            if body != whole_body() {
                return Err(format!("success with {} body bytes, {} were sent", body.len(), whole_body().len()));
            }
            Ok(format!("success, {} bytes", body.len()))
        }
        Expect::Retried => {
            let body = delivered(reply).map_err(|e| {
                format!(
                    "the GET on the connection the server had closed failed: {e} (tern documents one retry on a \
                     new connection for an idempotent request of which nothing of the response arrived)"
                )
            })?;
            let first = run.prime.as_ref().map(|p| p.events.data.as_slice()).unwrap_or_default();
            if body.len() != 10 || !body.starts_with(b"conn ") || body == first {
                return Err(format!(
                    "the retried GET answered {:?}, the first one {:?}: not a new connection's answer",
                    String::from_utf8_lossy(body),
                    String::from_utf8_lossy(first)
                ));
            }
            if reply.connects != 1 {
                return Err(format!("the retried GET opened {} connections, not 1", reply.connects));
            }
            Ok("success, retried on a new connection".into())
        }
        Expect::Fail(wants) => {
            let error = match &reply.result {
                Err(Failure::Client(e)) => *e,
                Err(Failure::Other(e)) => return Err(format!("failed with an error that is not the engine's: {e}")),
                Ok(_) => {
                    return Err(format!(
                        "SUCCESS reported (status {:?}, {} body bytes, {} sent by the server) for a response the \
                         server cut short",
                        reply.status,
                        reply.events.data.len(),
                        sent
                    ));
                }
            };
            if !wants.iter().any(|w| w.matches(&error, sent)) {
                return Err(format!(
                    "failed with {error:?} (\"{error}\"), expected one of {wants:?} ({sent} body bytes sent)"
                ));
            }
            let blamed = blame(&error);
            let right_party = match error {
                ClientError::ConnectionClosed(_) | ClientError::IncompleteBody { .. } => blamed == "server",
                _ => blamed != "caller",
            };
            if !right_party {
                return Err(format!("{error:?} blames the {blamed}"));
            }
            let delivered = reply.events.data.len() as u64;
            if delivered > sent {
                return Err(format!("{delivered} body bytes delivered as OnData, the server sent {sent}"));
            }
            if let ClientError::IncompleteBody { received } = error
                && received != delivered
            {
                return Err(format!("{error:?}, but {delivered} bytes were delivered as OnData"));
            }
            if reply.events.errors.as_slice() != [error] {
                return Err(format!("{error:?} returned, but the Error events were {:?}", reply.events.errors));
            }
            if case.script == Script::ReusedMidStatus && reply.connects != 0 {
                return Err(format!(
                    "{error:?} after {} new connections: a request whose response had begun was retried",
                    reply.connects
                ));
            }
            if reply.state != State::Init {
                return Err(format!("after {error:?} the client is in state {:?}, not INIT", reply.state));
            }
            Ok(format!("{error:?} [{blamed}]"))
        }
    }
}

/// The whole run: the first request (state 12), the fault, and the good request after it.
fn judge(case: &Case, flow: Flow, nonce: u64, run: &Run) -> Result<String, String> {
    if let Some(prime) = &run.prime {
        let body = delivered(prime).map_err(|e| format!("the first request on the connection failed: {e}"))?;
        if body.len() != 10 || !body.starts_with(b"conn ") {
            return Err(format!("the first request got {:?}", String::from_utf8_lossy(body)));
        }
        if !run.vanished_in_time {
            return Err("the scripted server did not close the idle connection within 2 s".into());
        }
    }
    let outcome = judge_fault(case, flow, run)?;
    let expected = format!("ok {nonce}");
    match delivered(&run.good) {
        Ok(body) if body == expected.as_bytes() => Ok(outcome),
        Ok(body) => {
            Err(format!("after {outcome}, the good request got {:?}, not {expected:?}", String::from_utf8_lossy(body)))
        }
        Err(e) => Err(format!("after {outcome}, the same client failed a good request: {e}")),
    }
}

// ----- the lanes ------------------------------------------------------------------------------

/// What one lane (one adapter, one flow) saw.
struct LaneReport {
    name: String,
    /// Per case: outcome → runs.
    outcomes: Vec<BTreeMap<String, usize>>,
    failures: Vec<String>,
    runs: usize,
}

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
    let mut runner = match kind {
        Kind::Tokio => Runner::Tokio(None),
        Kind::Std => Runner::Std(None),
    };
    let mut nonce = 0u64;
    for (case, server) in CASES.iter().zip(&endpoints.cases) {
        let mut outcomes = BTreeMap::new();
        for repeat in 0..repeats {
            nonce += 1;
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
            let plan = Plan {
                prime: (idle_close || case.script == Script::ReusedMidStatus).then(|| Req::get(path, NORMAL_TIMEOUT)),
                wait_vanish: idle_close.then(|| server.vanished.clone()),
                fault,
                good: Req::get(format!("{}/ok/{nonce}", endpoints.ok), NORMAL_TIMEOUT),
            };
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

/// One table cell: the outcomes and, when not all runs agree, their counts.
fn cell(outcomes: Option<&BTreeMap<String, usize>>) -> String {
    let Some(outcomes) = outcomes else { return "not run".into() };
    if outcomes.len() == 1 {
        return outcomes.keys().next().cloned().unwrap_or_default();
    }
    outcomes.iter().map(|(o, n)| format!("{o} x{n}")).collect::<Vec<_>>().join(", ")
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
    let lanes = [a, b, c, d];
    let runs: usize = lanes.iter().map(|l| l.runs).sum();
    let mut table = String::new();
    for (i, case) in CASES.iter().enumerate() {
        let cells: Vec<String> = lanes.iter().map(|l| cell(l.outcomes.get(i))).collect();
        let line = if cells.iter().all(|c| Some(c) == cells.first()) {
            format!("all: {}", cells.first().cloned().unwrap_or_default())
        } else {
            lanes.iter().zip(&cells).map(|(l, c)| format!("{}: {c}", l.name)).collect::<Vec<_>>().join(" | ")
        };
        table.push_str(&format!("\n  {:<4} {:<40} {:<3}  {line}", case.label, case.what, case.vanish.name()));
    }
    let failures: Vec<&String> = lanes.iter().flat_map(|l| &l.failures).collect();
    let summary = format!(
        "{runs} runs ({repeats} per state, way of vanishing, client and flow; lanes tokio/perform, \
         tokio/stream, std/perform, std/stream) in {:.1} s, each followed by a good request on the same \
         client; outcome [whom the error blames]:{table}",
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        return Ok(summary);
    }
    let shown: Vec<String> = failures.iter().take(30).map(|f| format!("\n  - {f}")).collect();
    Err(format!(
        "{} of {runs} runs failed:{}{}\n{summary}",
        failures.len(),
        shown.concat(),
        if failures.len() > 30 { "\n  ..." } else { "" }
    ))
}

//! The hostile-input catalogue (`tests/hostile/*.txt`, format in `tests/hostile/README.md`) run
//! against the engines in memory: each server case fed to the server connection engine in
//! several splits, each client case answered by a scripted server to the client engine, each
//! WebSocket case fed to the frame receiver and, for frames from a client, to the server engine
//! after a handshake. Every failing case is reported by name with what was expected and what
//! happened; cases marked `known:` are reported and must keep failing until their marker goes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod hostile;
mod server_support;
mod support;
mod ws_support;

use std::panic::{AssertUnwindSafe, catch_unwind};

use hostile::{Case, Report, ServerExpect, Token, escape};
use tern_proto::Method;
use tern_proto::client::ClientConfig;
use tern_proto::server::uri::UriMatch;
use tern_proto::server::{
    Dispatch, HandlerOutcome, HttpdErrCode, Response, Route, RouteSlot, Router, ServerConfig, ServerError,
};
use tern_proto::ws::{FrameInfo, Opcode, Role};

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic (a harness assertion, a malformed response) into a failure,
/// without printing it: the report shows it with the case.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(std::cell::Cell::get) {
                default(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    match result {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Server

/// What one served connection did: each response's status and body, and whether the server
/// closed on its own (before the idle timeout) rather than waiting for another request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServerOutcome {
    responses: Vec<(u16, Vec<u8>)>,
    close: bool,
    /// Rules every outcome must keep, broken.
    broken: Vec<String>,
}

impl ServerOutcome {
    fn show(&self) -> String {
        let mut s = hostile::show_server(&self.responses, self.close);
        for b in &self.broken {
            s.push_str(&format!(" [{b}]"));
        }
        s
    }
}

/// Serves `input` (the client then waits, never closing) with a handler that reads the whole
/// body and answers `METHOD URI BODY`; a body error is left to the engine to answer.
fn serve_case(input: &[u8], io: usize) -> ServerOutcome {
    use server_support::*;
    let config = ServerConfig::default();
    let idle = config.idle_timeout_ms.unwrap();
    let mut heads = Vec::new();
    let served = serve_with(config, Wire::open(input).io(io), |ctx| {
        let body = match ctx.read_all() {
            Ok(body) => body,
            // As ESP-IDF's examples (advanced_tests' /echo): a body that stops coming is 408.
            Err(ServerError::Timeout) => {
                ctx.send_err(HttpdErrCode::RequestTimeout, None).unwrap();
                return HandlerOutcome::Ok;
            }
            // Any other body error is the engine's to answer (400, 413).
            Err(_) => return HandlerOutcome::Ok,
        };
        let req = ctx.conn.request().unwrap();
        heads.push(req.method() == Method::Head);
        let mut text = format!("{} {} ", req.method().as_str(), req.uri()).into_bytes();
        text.extend(body);
        ctx.send(&Response { content_type: "text/plain", ..Response::default() }, &text).unwrap();
        HandlerOutcome::Ok
    });
    let parsed = responses_with(&served.raw, &heads);
    let close = served.now < u64::from(idle);
    let mut broken = Vec::new();
    if !served.closed {
        broken.push("the session never ended".into());
    }
    if let Some(last) = parsed.last() {
        let says_close = last.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if close && !says_close {
            broken.push("closed without Connection: close".into());
        }
        if !close && says_close {
            broken.push("Connection: close but kept".into());
        }
    }
    for r in &parsed[..parsed.len().saturating_sub(1)] {
        if r.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            broken.push(format!("a {} with Connection: close was followed by another response", r.status));
        }
    }
    ServerOutcome { responses: parsed.into_iter().map(|r| (r.status, r.body)).collect(), close, broken }
}

fn check_server(case: &Case) -> Result<(), String> {
    let expect = ServerExpect::parse(&case.expect).map_err(|e| format!("bad expect: {e}"))?;
    let whole = guarded(|| Ok(serve_case(&case.input, usize::MAX)))?;
    if !expect.matches(&whole.responses, whole.close) || !whole.broken.is_empty() {
        return Err(whole.show());
    }
    // Any split of the same bytes gives the same answer (unless the case says it may not).
    if case.field("split") == Some("whole") {
        return Ok(());
    }
    for io in [1, 2, 7, 64] {
        let split = guarded(|| Ok(serve_case(&case.input, io)))?;
        if split != whole {
            return Err(format!("{} when read {io} byte(s) at a time", split.show()));
        }
    }
    Ok(())
}

#[test]
fn server_catalogue() {
    let cases = hostile::parse("server.txt", hostile::SERVER);
    let mut report = Report::default();
    for case in &cases {
        report.record(case, check_server(case));
    }
    report.finish("server.txt");
}

// ---------------------------------------------------------------------------------------------
// Client

/// `ok STATUS "BODY"` or `error DEBUG`, from a client that sent `method` to a scripted server
/// answering `input` and then closing.
fn client_case(case: &Case, io: usize) -> String {
    use support::*;
    let method = match case.field("method") {
        None | Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        Some(other) => panic!("unknown method {other}"),
    };
    let config = ClientConfig { url: Some("http://example.test/"), method, ..ClientConfig::default() };
    let (mut client, log) = client(&config);
    let mut peer = Peer::new([Conn::answer(&case.input).then_close()]).with_io_size(io);
    match perform(&mut peer, &mut client) {
        Ok(_) => format!("ok {} \"{}\"", status(&client), escape(&data_of(&log.take()))),
        Err(e) => {
            let open = if peer.is_open() { " [the connection was left open]" } else { "" };
            format!("error {e:?}{open}")
        }
    }
}

fn check_client(case: &Case) -> Result<(), String> {
    let got = guarded(|| Ok(client_case(case, 0)))?;
    let matches = match case.expect.first().and_then(Token::word) {
        Some("ok") => {
            let [_, Token::Word(status), Token::Quoted(body)] = case.expect.as_slice() else {
                return Err("bad expect: ok STATUS \"BODY\"".into());
            };
            got == format!("ok {status} \"{}\"", escape(body))
        }
        Some("error") => got == case.expect_text,
        _ => return Err("bad expect: ok or error".into()),
    };
    if !matches {
        return Err(got);
    }
    for io in [1, 5] {
        let split = guarded(|| Ok(client_case(case, io)))?;
        if split != got {
            return Err(format!("{split} when read {io} byte(s) at a time"));
        }
    }
    Ok(())
}

#[test]
fn client_catalogue() {
    let cases = hostile::parse("client.txt", hostile::CLIENT);
    let mut report = Report::default();
    for case in &cases {
        report.record(case, check_client(case));
    }
    report.finish("client.txt");
}

// ---------------------------------------------------------------------------------------------
// WebSocket

/// The largest message the receiver takes: the server's default `ws_max_message_len`.
const WS_MAX: u64 = 65_536;

fn opcode_name(op: Opcode) -> &'static str {
    match op {
        Opcode::Continuation => "cont",
        Opcode::Text => "text",
        Opcode::Binary => "binary",
        Opcode::Close => "close",
        Opcode::Ping => "ping",
        Opcode::Pong => "pong",
    }
}

/// A frame as a catalogue writes it: `text:"hi"`, `text+:"Hel"` when more fragments follow.
fn show_frame(info: &FrameInfo, payload: &[u8]) -> String {
    format!("{}{}:\"{}\"", opcode_name(info.opcode), if info.fin { "" } else { "+" }, escape(payload))
}

/// The receiver's verdict on `pieces`: `ok FRAMES...` or `error DEBUG CODE`, and the complete
/// frames.
fn receive(role: Role, pieces: Vec<&[u8]>) -> (String, Frames) {
    use ws_support::Ev;
    let evs = ws_support::run(role, WS_MAX, pieces);
    let mut frames = Vec::new();
    let mut payload = Vec::new();
    for ev in evs {
        match ev {
            Ev::Frame(_) => payload.clear(),
            Ev::Data(d) => payload.extend(d),
            Ev::End(info) => frames.push((info, std::mem::take(&mut payload))),
            Ev::Closed => {}
            Ev::Error(e) => return (format!("error {e:?} {}", e.close_code().0), frames),
        }
    }
    let shown: Vec<String> = frames.iter().map(|(i, p)| show_frame(i, p)).collect();
    (format!("ok {}", shown.join(" ")).trim_end().to_owned(), frames)
}

/// Frames received whole, with their payloads.
type Frames = Vec<(FrameInfo, Vec<u8>)>;

type WsHandler = fn(&mut server_support::Ctx<'_>, FrameInfo) -> HandlerOutcome;

/// What the server engine did with `frames` after a good handshake: the data frames its
/// handler saw, the close code of the close frame it sent last (if any), and whether it closed.
fn serve_ws(frames: &[u8]) -> (Frames, Option<u16>, bool) {
    use server_support::*;
    let mut input = b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    input.extend_from_slice(frames);
    let handler: WsHandler = |_, _| HandlerOutcome::Ok; // the frames are read below
    let mut router: Router<&'static str, WsHandler, Vec<RouteSlot<&'static str, WsHandler>>> =
        Router::new(vec![None; 2], UriMatch::Exact);
    router.register(Route::new("/ws", Method::Get, handler).websocket(true)).unwrap();
    let mut conn = connection(config());
    let mut wire = Wire::new(&input);
    let mut seen = Vec::new();
    loop {
        match drive(&mut conn, &mut wire).unwrap() {
            Got::Request => match conn.route(&router) {
                Dispatch::WebSocket(_) => {}
                other => panic!("the handshake was not accepted: {other:?}"),
            },
            Got::Frame(info) => {
                let mut ctx = Ctx { conn: &mut conn, wire: &mut wire };
                let mut payload = Vec::new();
                loop {
                    let piece = ctx.read_some(usize::MAX).unwrap_or_default();
                    if piece.is_empty() {
                        break;
                    }
                    payload.extend(piece);
                }
                if info.opcode.is_data() {
                    seen.push((info, payload));
                }
                conn.finish(HandlerOutcome::Ok).unwrap();
            }
            Got::Error(code) => conn.reject(code).unwrap(),
            Got::Closed => break,
            other => panic!("{other:?}"),
        }
    }
    // The server's frames after its 101.
    let start = wire.output.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let (_, sent) = receive(Role::Client, vec![&wire.output[start..]]);
    let close = sent
        .last()
        .filter(|(i, _)| i.opcode == Opcode::Close)
        .map(|(_, p)| if p.len() >= 2 { u16::from_be_bytes([p[0], p[1]]) } else { 1005 });
    (seen, close, wire.closed)
}

/// An `expect` line in the form `receive` shows outcomes: payloads unescaped and escaped again,
/// so `ping:"{p*125}"` can be written for 125 `p`s.
fn normalize_ws(expect: &[Token]) -> Result<String, String> {
    let words: Result<Vec<String>, String> = expect
        .iter()
        .map(|t| {
            let w = t.word().ok_or("a bare quoted string")?;
            Ok(match w.split_once(":\"") {
                Some((frame, rest)) => {
                    let inner = rest.strip_suffix('"').ok_or("a frame payload must end with a quote")?;
                    format!("{frame}:\"{}\"", escape(&hostile::unescape(inner)?))
                }
                None => w.to_owned(),
            })
        })
        .collect();
    Ok(words?.join(" "))
}

fn check_ws(case: &Case) -> Result<(), String> {
    let role = match case.field("role") {
        None | Some("server") => Role::Server,
        Some("client") => Role::Client,
        Some(other) => return Err(format!("bad role {other}")),
    };
    let (got, frames) = guarded(|| Ok(receive(role, vec![&case.input])))?;
    if got != normalize_ws(&case.expect)? {
        return Err(got);
    }
    let bytewise = guarded(|| Ok(receive(role, case.input.chunks(1).collect()).0))?;
    if bytewise != got {
        return Err(format!("{bytewise} when fed one byte at a time"));
    }
    if role == Role::Client {
        return Ok(()); // the server engine receives from clients only
    }
    let (seen, close, closed) = guarded(|| Ok(serve_ws(&case.input)))?;
    let error_code = got.starts_with("error ").then(|| got.rsplit(' ').next().unwrap().parse::<u16>().unwrap());
    let data: Vec<_> = frames.into_iter().filter(|(i, _)| i.opcode.is_data()).collect();
    let show = |f: &[(FrameInfo, Vec<u8>)]| f.iter().map(|(i, p)| show_frame(i, p)).collect::<Vec<_>>().join(" ");
    if error_code.is_none() && seen != data {
        return Err(format!("the server engine's handler saw `{}`", show(&seen)));
    }
    if let Some(code) = error_code
        && (close != Some(code) || !closed)
    {
        return Err(format!("the server engine sent close {close:?} (closed: {closed})"));
    }
    Ok(())
}

#[test]
fn websocket_catalogue() {
    let cases = hostile::parse("websocket.txt", hostile::WEBSOCKET);
    let mut report = Report::default();
    for case in &cases {
        report.record(case, check_ws(case));
    }
    report.finish("websocket.txt");
}

// ---------------------------------------------------------------------------------------------
// The catalogue itself

#[test]
fn the_catalogue_covers_every_category_of_issue_9() {
    let server = hostile::parse("server.txt", hostile::SERVER);
    let client = hostile::parse("client.txt", hostile::CLIENT);
    let ws = hostile::parse("websocket.txt", hostile::WEBSOCKET);
    assert!(server.len() + client.len() + ws.len() >= 150, "at least 150 cases");
    let all: Vec<_> = server.iter().chain(&client).chain(&ws).cloned().collect();
    let counts = hostile::per_category(&all);
    for (category, n) in &counts {
        eprintln!("{n:4}  {category}");
    }
    for required in [
        "smuggling",
        "chunk size",
        "header injection",
        "tokens",
        "targets and host",
        "versions",
        "numbers and bytes",
        "oversized",
        "pipelining",
        "websocket",
    ] {
        let n: usize = counts.iter().filter(|(c, _)| c.contains(required)).map(|(_, n)| n).sum();
        assert!(n >= 5, "category {required:?} has {n} cases; at least 5");
    }
    // Each file has at least one case of each kind of verdict.
    assert!(
        client.iter().any(|c| c.expect_text.starts_with("ok"))
            && client.iter().any(|c| c.expect_text.starts_with("error"))
    );
    assert!(
        ws.iter().any(|c| c.expect_text.starts_with("ok")) && ws.iter().any(|c| c.expect_text.starts_with("error"))
    );
    assert!(ws.iter().any(|c| c.field("role") == Some("client")));
}

#[test]
fn the_input_syntax_expands_as_documented() {
    assert_eq!(hostile::unescape(r"a\r\n\t\s\0\x7f\\\{\}").unwrap(), b"a\r\n\t \0\x7f\\{}");
    assert_eq!(hostile::unescape("{ab*3}c").unwrap(), b"abababc");
    assert_eq!(hostile::unescape(r"{\r\n*2}").unwrap(), b"\r\n\r\n");
    assert_eq!(hostile::unescape("{x*0}").unwrap(), b"");
    assert!(hostile::unescape(r"\q").is_err());
    assert!(hostile::unescape("{x*}").is_err());
    assert!(hostile::unescape(r"\x4").is_err());
    assert_eq!(
        hostile::tokens(r#"200 "GET / \x00" text:"a b" keep"#).unwrap(),
        [
            Token::Word("200".into()),
            Token::Quoted(b"GET / \0".to_vec()),
            Token::Word("text:\"a b\"".into()),
            Token::Word("keep".into())
        ]
    );
    assert_eq!(escape(b"\r\n\x00{"), r"\r\n\x00\{");
    assert_eq!(hostile::escape_short(&[b'a'; 20]), "{a*20}");
}

#[test]
fn a_server_expectation_checks_status_body_and_close() {
    let e = ServerExpect::parse(&hostile::tokens(r#"200 "GET / " 400 close"#).unwrap()).unwrap();
    assert!(e.matches(&[(200, b"GET / ".to_vec()), (400, b"anything".to_vec())], true));
    assert!(!e.matches(&[(200, b"GET /x ".to_vec()), (400, b"".to_vec())], true));
    assert!(!e.matches(&[(200, b"GET / ".to_vec()), (400, b"".to_vec())], false));
    assert!(!e.matches(&[(200, b"GET / ".to_vec())], true));
    assert!(ServerExpect::parse(&hostile::tokens("200").unwrap()).is_err());
    assert!(ServerExpect::parse(&hostile::tokens("close 200").unwrap()).is_err());
}

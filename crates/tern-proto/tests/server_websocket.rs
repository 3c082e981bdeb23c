//! WebSocket sessions through the connection engine: the handshake (101, 400, 426,
//! subprotocols), echo, fragments, pings answered between fragments, the closing handshake in
//! both directions, every receive rule closing with its code, piecewise reads and pushes
//! between frames.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod server_support;

use server_support::*;
use tern_proto::Method;
use tern_proto::server::uri::UriMatch;
use tern_proto::server::{Dispatch, HandlerOutcome, Route, RouteSlot, Router, ServerConfig};
use tern_proto::ws::{CloseCode, FrameInfo, FrameReceiver, Opcode, Received, Role, encode_frame};

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn handshake(extra: &str) -> Vec<u8> {
    format!(
        "GET /ws HTTP/1.1\r\nHost: esp32\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn with_version(v: &str) -> Vec<u8> {
    handshake(&format!("Sec-WebSocket-Version: {v}\r\n"))
}

/// A masked client frame.
fn frame(opcode: Opcode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; payload.len() + 14];
    let n = encode_frame(opcode, fin, Some(MASK), payload, &mut out).unwrap();
    out.truncate(n);
    out
}

/// The server's frames after its 101, decoded as a client: (opcode, fin, payload).
fn server_frames(output: &[u8]) -> Vec<(Opcode, bool, Vec<u8>)> {
    let start = output.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut input = output[start..].to_vec();
    let mut rx = FrameReceiver::new(Role::Client, u64::MAX);
    let mut frames = Vec::new();
    let mut at = 0;
    let mut current: Option<(FrameInfo, Vec<u8>)> = None;
    loop {
        let (n, ev) = rx.decode(&mut input[at..]).unwrap();
        match ev {
            Received::Frame(info) => current = Some((info, Vec::new())),
            Received::Payload(p) => current.as_mut().unwrap().1.extend_from_slice(p),
            Received::FrameEnd(_) => {
                let (info, payload) = current.take().unwrap();
                frames.push((info.opcode, info.fin, payload));
            }
            Received::NeedMore | Received::Closed => break,
        }
        at += n;
    }
    frames
}

type Handler = fn(&mut Ctx<'_>, FrameInfo) -> HandlerOutcome;

/// Echoes each data frame, keeping its opcode and FIN; reads in pieces of at most 3 bytes.
fn echo_frames(ctx: &mut Ctx<'_>, info: FrameInfo) -> HandlerOutcome {
    let mut payload = Vec::new();
    loop {
        let piece = ctx.read_some(3).unwrap();
        if piece.is_empty() {
            break;
        }
        payload.extend(piece);
    }
    assert_eq!(payload.len() as u64, info.payload_len);
    ctx.wire.body = payload.clone();
    ctx.conn.ws_send(info.opcode, info.fin, &payload).unwrap();
    assert_eq!(drive(ctx.conn, ctx.wire).unwrap(), Got::Sent);
    HandlerOutcome::Ok
}

struct WsRun {
    output: Vec<u8>,
    frames_seen: Vec<FrameInfo>,
    closed: bool,
    upgraded: bool,
    plain_requests: usize,
}

fn run_ws(
    config: ServerConfig,
    wire: Wire,
    route: Route<&'static str, Handler>,
    mut between: impl FnMut(&mut Ctx<'_>, usize),
) -> WsRun {
    let mut router: Router<&'static str, Handler, Vec<RouteSlot<&'static str, Handler>>> =
        Router::new(vec![None; 4], UriMatch::Exact);
    router.register(route).unwrap();
    let mut conn = connection(config);
    let mut wire = wire;
    let mut run =
        WsRun { output: Vec::new(), frames_seen: Vec::new(), closed: false, upgraded: false, plain_requests: 0 };
    let mut handler: Option<Handler> = None;
    loop {
        match drive(&mut conn, &mut wire).unwrap() {
            Got::Request => match conn.route(&router) {
                Dispatch::WebSocket(route) => {
                    run.upgraded = true;
                    handler = Some(route.handler);
                }
                Dispatch::Handler(_) => {
                    run.plain_requests += 1;
                    let mut ctx = Ctx { conn: &mut conn, wire: &mut wire };
                    ctx.send(&tern_proto::server::Response::default(), b"plain").unwrap();
                    conn.finish(HandlerOutcome::Ok).unwrap();
                }
                Dispatch::Answered => {}
                Dispatch::Refused(code) => conn.reject(code).unwrap(),
            },
            Got::Frame(info) => {
                run.frames_seen.push(info);
                let outcome = handler.unwrap()(&mut Ctx { conn: &mut conn, wire: &mut wire }, info);
                conn.finish(outcome).unwrap();
                between(&mut Ctx { conn: &mut conn, wire: &mut wire }, run.frames_seen.len());
            }
            Got::Error(code) => conn.reject(code).unwrap(),
            Got::Closed => break,
            other => panic!("{other:?}"),
        }
    }
    run.output = wire.output.clone();
    run.closed = wire.closed;
    run
}

fn ws_route(handler: Handler) -> Route<&'static str, Handler> {
    Route::new("/ws", Method::Get, handler).websocket(true)
}

fn session(frames: &[Vec<u8>]) -> Wire {
    let mut input = with_version("13");
    for f in frames {
        input.extend(f);
    }
    Wire::new(&input)
}

#[test]
fn the_handshake_answers_101_with_the_accept_key() {
    let run = run_ws(config(), session(&[]), ws_route(echo_frames), |_, _| {});
    let text = String::from_utf8_lossy(&run.output);
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{text}");
    assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(text.contains("Upgrade: websocket\r\n") && text.contains("Connection: Upgrade\r\n"));
    assert!(!text.contains("Sec-WebSocket-Protocol"));
    assert!(run.upgraded);
}

#[test]
fn a_subprotocol_the_route_supports_is_selected() {
    let input = handshake("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt, chat\r\n");
    let route = ws_route(echo_frames).subprotocols(&["chat", "mqtt"]);
    let run = run_ws(config(), Wire::new(&input), route, |_, _| {});
    assert!(String::from_utf8_lossy(&run.output).contains("Sec-WebSocket-Protocol: mqtt\r\n"));
}

#[test]
fn bad_handshakes_get_400_and_an_unknown_version_426() {
    let no_key = b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec();
    let short_key =
        String::from_utf8(with_version("13")).unwrap().replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=").into_bytes();
    let http10 = String::from_utf8(with_version("13")).unwrap().replace("HTTP/1.1", "HTTP/1.0").into_bytes();
    let no_host = String::from_utf8(with_version("13")).unwrap().replace("Host: esp32\r\n", "").into_bytes();
    for (name, input, status) in [
        ("no key", no_key, 400),
        ("key of 5 bytes", short_key, 400),
        ("HTTP/1.0", http10, 400),
        ("no Host", no_host, 400),
        ("no version", handshake(""), 400),
        ("version 8", with_version("8"), 426),
    ] {
        let run = run_ws(config(), Wire::new(&input), ws_route(echo_frames), |_, _| {});
        let r = responses_with(&run.output, &[]);
        assert_eq!(r.len(), 1, "{name}");
        assert_eq!(r[0].status, status, "{name}");
        assert_eq!(r[0].header("connection"), Some("close"), "{name}");
        if status == 426 {
            assert_eq!(r[0].header("sec-websocket-version"), Some("13"));
        }
        assert!(run.closed && !run.upgraded, "{name}");
    }
}

#[test]
fn a_plain_get_to_a_websocket_route_is_a_plain_request() {
    let run = run_ws(config(), Wire::new(b"GET /ws HTTP/1.1\r\nHost: a\r\n\r\n"), ws_route(echo_frames), |_, _| {});
    assert_eq!(run.plain_requests, 1);
    assert_eq!(responses_with(&run.output, &[])[0].body_str(), "plain");
}

#[test]
fn text_and_binary_frames_are_echoed_in_any_split() {
    let frames = [
        frame(Opcode::Text, true, b"Hello"),
        frame(Opcode::Binary, true, &[0, 1, 2, 255]),
        frame(Opcode::Text, true, b""),
    ];
    for io in [usize::MAX, 1, 3, 10] {
        let run = run_ws(config(), session(&frames).io(io), ws_route(echo_frames), |_, _| {});
        assert_eq!(
            server_frames(&run.output),
            [
                (Opcode::Text, true, b"Hello".to_vec()),
                (Opcode::Binary, true, vec![0, 1, 2, 255]),
                (Opcode::Text, true, vec![])
            ],
            "io {io}"
        );
        assert!(run.closed, "the client went away");
    }
}

#[test]
fn fragments_reach_the_handler_one_frame_at_a_time_and_pings_between_them_are_answered() {
    let frames = [
        frame(Opcode::Text, false, b"Hel"),
        frame(Opcode::Ping, true, b"are you there"),
        frame(Opcode::Continuation, true, b"lo"),
        frame(Opcode::Pong, true, b"unsolicited"),
    ];
    let run = run_ws(config(), session(&frames), ws_route(echo_frames), |_, _| {});
    let seen: Vec<_> = run.frames_seen.iter().map(|i| (i.opcode, i.fin, i.message, i.message_offset)).collect();
    assert_eq!(seen, [(Opcode::Text, false, Opcode::Text, 0), (Opcode::Continuation, true, Opcode::Text, 3)]);
    assert_eq!(
        server_frames(&run.output),
        [
            (Opcode::Text, false, b"Hel".to_vec()),
            (Opcode::Pong, true, b"are you there".to_vec()),
            (Opcode::Continuation, true, b"lo".to_vec()),
        ]
    );
}

#[test]
fn a_client_close_is_echoed_and_the_session_ends() {
    let mut close = vec![0x03, 0xe8];
    close.extend(b"bye");
    let frames = [frame(Opcode::Close, true, &close), frame(Opcode::Text, true, b"after close")];
    let mut wire = session(&frames);
    wire.eof_at_end = false; // the client waits for the server to close
    let run = run_ws(config(), wire, ws_route(echo_frames), |_, _| {});
    assert_eq!(server_frames(&run.output), [(Opcode::Close, true, vec![0x03, 0xe8])]);
    assert!(run.closed);
    assert!(run.frames_seen.is_empty(), "nothing after the close is read");
}

#[test]
fn receive_rules_close_with_their_status_code() {
    let mut unmasked = vec![0u8; 16];
    let n = encode_frame(Opcode::Text, true, None, b"hi", &mut unmasked).unwrap();
    unmasked.truncate(n);
    let big = vec![b'x'; 70_000];
    let cases: Vec<(&str, Vec<Vec<u8>>, u16)> = vec![
        ("unmasked client frame", vec![unmasked], 1002),
        ("invalid UTF-8 in text", vec![frame(Opcode::Text, true, &[0xff, 0xfe])], 1007),
        (
            "UTF-8 broken across fragments",
            vec![frame(Opcode::Text, false, &[0xe2, 0x82]), frame(Opcode::Continuation, true, b"x")],
            1007,
        ),
        ("continuation without a message", vec![frame(Opcode::Continuation, true, b"x")], 1002),
        // Built by hand: the encoder refuses a fragmented control frame.
        ("fragmented ping", vec![vec![0x09, 0x81, MASK[0], MASK[1], MASK[2], MASK[3], b'x' ^ MASK[0]]], 1002),
        ("message over the limit", vec![frame(Opcode::Binary, true, &big)], 1009),
        (
            "new message inside a fragmented one",
            vec![frame(Opcode::Text, false, b"a"), frame(Opcode::Text, true, b"b")],
            1002,
        ),
        ("invalid close code", vec![frame(Opcode::Close, true, &[0x03, 0xed])], 1002),
    ];
    for (name, frames, code) in cases {
        let mut wire = session(&frames);
        wire.eof_at_end = false;
        let run = run_ws(
            config(),
            wire,
            ws_route(|ctx, _| {
                let _ = ctx.read_some(usize::MAX);
                HandlerOutcome::Ok
            }),
            |_, _| {},
        );
        let sent = server_frames(&run.output);
        let close = sent.last().unwrap_or_else(|| panic!("{name}: no close frame"));
        assert_eq!(close.0, Opcode::Close, "{name}");
        assert_eq!(u16::from_be_bytes([close.2[0], close.2[1]]), code, "{name}");
        assert!(run.closed, "{name}");
    }
}

#[test]
fn a_push_between_frames_and_a_server_initiated_close() {
    let frames = [frame(Opcode::Text, true, b"go"), frame(Opcode::Close, true, &[0x03, 0xe8])];
    let wire = session(&frames[..1]).then(Gate::Output("bye".into()), &frames[1]);
    let wire = Wire { eof_at_end: false, ..wire };
    let run = run_ws(
        config(),
        wire,
        ws_route(|ctx, _| {
            let _ = ctx.read_some(usize::MAX);
            HandlerOutcome::Ok
        }),
        |ctx, _| {
            // The adapter's control path: an async push, then a close.
            ctx.wire.body = b"pushed".to_vec();
            ctx.conn.ws_send(Opcode::Text, true, b"pushed").unwrap();
            assert_eq!(drive(ctx.conn, ctx.wire).unwrap(), Got::Sent);
            ctx.conn.ws_close(CloseCode(1000), "bye").unwrap();
            assert_eq!(drive(ctx.conn, ctx.wire).unwrap(), Got::Sent);
        },
    );
    let sent = server_frames(&run.output);
    assert_eq!(sent[0], (Opcode::Text, true, b"pushed".to_vec()));
    assert_eq!(sent[1].0, Opcode::Close);
    assert_eq!(&sent[1].2[2..], b"bye");
    assert_eq!(sent.len(), 2, "the client's close answers ours: no echo");
    assert!(run.closed);
}

#[test]
fn with_handle_ws_control_frames_the_handler_sees_pings() {
    let frames = [frame(Opcode::Ping, true, b"p")];
    let route = ws_route(|ctx, info| {
        assert_eq!(info.opcode, Opcode::Ping);
        let payload = ctx.read_some(usize::MAX).unwrap();
        ctx.wire.body = payload.clone();
        ctx.conn.ws_send(Opcode::Pong, true, &payload).unwrap();
        assert_eq!(drive(ctx.conn, ctx.wire).unwrap(), Got::Sent);
        HandlerOutcome::Ok
    })
    .handle_ws_control_frames(true);
    let run = run_ws(config(), session(&frames), route, |_, _| {});
    assert_eq!(run.frames_seen.len(), 1);
    assert_eq!(server_frames(&run.output), [(Opcode::Pong, true, b"p".to_vec())]);
}

#[test]
fn with_handle_ws_control_frames_a_close_the_handler_read_ends_the_session() {
    let mut input = with_version("13");
    input.extend(frame(Opcode::Close, true, &1000u16.to_be_bytes()));
    let route = ws_route(|ctx, info| {
        assert_eq!(info.opcode, Opcode::Close);
        let payload = ctx.read_some(usize::MAX).unwrap();
        assert_eq!(ctx.read_some(usize::MAX).unwrap(), b"", "the close frame's payload is complete");
        ctx.wire.body = payload.clone();
        ctx.conn.ws_send(Opcode::Close, true, &payload).unwrap();
        assert_eq!(drive(ctx.conn, ctx.wire).unwrap(), Got::Sent);
        HandlerOutcome::Ok
    })
    .handle_ws_control_frames(true);
    // The client keeps its side open: only the server can end the session.
    let run = run_ws(config(), Wire::open(&input), route, |_, _| {});
    assert_eq!(server_frames(&run.output), [(Opcode::Close, true, 1000u16.to_be_bytes().to_vec())]);
    assert!(run.closed, "the session ends after the handler answered the client's close");
}

#[test]
fn a_large_frame_is_read_through_a_small_window() {
    let config = ServerConfig { body_window: 64, ..config() };
    let payload: Vec<u8> = (0..5000u32).map(|i| (i % 200) as u8).collect();
    let frames = [frame(Opcode::Binary, true, &payload)];
    let run = run_ws(config, session(&frames).io(100), ws_route(echo_frames), |_, _| {});
    assert_eq!(server_frames(&run.output), [(Opcode::Binary, true, payload)]);
}

#[test]
fn a_frame_whose_payload_stops_coming_times_out_the_read_and_closes() {
    let mut partial = frame(Opcode::Binary, true, &[7u8; 100]);
    partial.truncate(50);
    let mut wire = session(&[partial]);
    wire.eof_at_end = false;
    let mut router: Router<&'static str, Handler, Vec<RouteSlot<&'static str, Handler>>> =
        Router::new(vec![None; 2], UriMatch::Exact);
    router.register(ws_route(echo_frames)).unwrap();
    let mut conn = connection(config());
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Request);
    assert!(matches!(conn.route(&router), Dispatch::WebSocket(_)));
    assert!(matches!(drive(&mut conn, &mut wire).unwrap(), Got::Frame(_)));
    let error = loop {
        conn.read_body().unwrap();
        match drive(&mut conn, &mut wire) {
            Ok(Got::Data(d)) => conn.consume(d.len()),
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(error, tern_proto::server::ServerError::Timeout);
    conn.finish(HandlerOutcome::Ok).unwrap();
    assert_eq!(drive(&mut conn, &mut wire).unwrap(), Got::Closed);
    assert_eq!(wire.now, 5000);
}

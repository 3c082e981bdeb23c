//! The connection engine's HTTP_SERVER_EVENT_* reports, in ESP-IDF's order, through the
//! process-wide diagnostic sink (this binary installs one; its tests run one at a time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod server_support;

use std::sync::Mutex;

use server_support::*;
use tern_proto::server::event::{ServerDiagnosticSink, ServerEvent, ServerEventKind, install_server_diagnostic_sink};
use tern_proto::server::{HandlerOutcome, HttpdErrCode, Response, SessionId};

struct Sink(Mutex<Vec<ServerEvent>>);

impl ServerDiagnosticSink for Sink {
    fn on_event(&self, event: &ServerEvent) {
        self.0.lock().unwrap().push(*event);
    }
}

static SINK: Sink = Sink(Mutex::new(Vec::new()));
static SERIAL: Mutex<()> = Mutex::new(());

fn events_of(run: impl FnOnce()) -> Vec<ServerEventKind> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    install_server_diagnostic_sink(&SINK);
    SINK.0.lock().unwrap().clear();
    run();
    let events = std::mem::take(&mut *SINK.0.lock().unwrap());
    assert!(events.iter().all(|e| e.session == Some(SessionId(7))), "every event names the session");
    events.into_iter().map(|e| e.kind).collect()
}

#[test]
fn a_request_with_a_body_reports_header_data_headers_sent_and_sent_data() {
    let events = events_of(|| {
        let input = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabcdef";
        serve_with(config(), Wire::new(input).io(50), |ctx| {
            ctx.read_all().unwrap();
            ctx.send(&Response::default(), b"done").unwrap();
            HandlerOutcome::Ok
        });
    });
    let head_len = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\n".len();
    assert_eq!(
        events,
        [
            ServerEventKind::OnHeader,
            ServerEventKind::OnData { len: 2 },
            ServerEventKind::OnData { len: 4 },
            ServerEventKind::HeadersSent,
            ServerEventKind::SentData { len: head_len + 4 },
        ]
    );
}

#[test]
fn refusals_report_error_with_their_code() {
    let events = events_of(|| {
        serve(b"GET / HTTP/3.0\r\n\r\n");
    });
    assert_eq!(events, [ServerEventKind::Error(HttpdErrCode::VersionNotSupported)]);
    let events = events_of(|| {
        serve_with(config(), Wire::open(b"GET / HTTP/1.1\r\n"), echo);
    });
    assert_eq!(events, [ServerEventKind::Error(HttpdErrCode::RequestTimeout)]);
}

#[test]
fn chunks_report_headers_sent_once_and_sent_data_per_call() {
    let events = events_of(|| {
        serve_with(config(), Wire::new(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), |ctx| {
            ctx.send_chunk(&Response::default(), b"abc").unwrap();
            ctx.send_chunk(&Response::default(), b"de").unwrap();
            ctx.send_chunk(&Response::default(), b"").unwrap();
            HandlerOutcome::Ok
        });
    });
    let kinds: Vec<_> = events.iter().map(ServerEventKind::id).collect();
    use tern_proto::server::event::ServerEventId::*;
    assert_eq!(kinds, [OnHeader, HeadersSent, SentData, SentData, SentData]);
    assert_eq!(events[3], ServerEventKind::SentData { len: "\r\n2\r\nde".len() });
}

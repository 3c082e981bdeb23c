//! What the client's events and wire bytes do while a request runs: body bytes go to the
//! output as they arrive (or are skipped for a redirect that will be followed), heads go to the
//! output for `-i` and to stderr for `-v`, and the progress bar moves.
//!
//! The event handler and the wire tap share one [`Session`]; the transfer loop reads it
//! between requests.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use tern_proto::client::{Event, EventHandler, EventKind};
use tern_std::{Direction, WireTap};

use crate::output::Output;
use crate::progress::Progress;
use crate::trace::{Seen, Trace};

/// Most bytes of a 401 body held back while it is unknown whether the engine answers the
/// challenge (and the body must not be printed); past this they are printed.
const MAX_HELD: usize = 64 * 1024;

/// What the options say about every response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// `-L`: redirects with a Location are followed, their bodies not printed.
    pub(crate) follow: bool,
    /// `-f`: bodies of statuses from 400 on are not printed.
    pub(crate) fail: bool,
    /// `-i`/`-I`: response heads go to the output.
    pub(crate) include: bool,
    /// `-v`.
    pub(crate) verbose: bool,
}

/// What becomes of a response's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Printed as it arrives.
    Write,
    /// Dropped.
    Discard,
    /// A 401 with a challenge: kept until the next response shows the engine answered it
    /// (dropped) or the request ends with it (printed).
    Hold,
}

/// The response being received.
#[derive(Debug, Clone, Copy)]
struct Hop {
    status: u16,
    location: bool,
    challenge: bool,
    content_length: Option<u64>,
    body: Body,
    /// Body bytes received (printed, held, or skipped as a redirect's).
    kept: u64,
}

impl Hop {
    const NONE: Hop =
        Hop { status: 0, location: false, challenge: false, content_length: None, body: Body::Write, kept: 0 };
}

/// State shared by the event handler, the wire tap and the transfer loop.
#[derive(Debug)]
pub(crate) struct Session {
    policy: Policy,
    out: Output,
    progress: Option<Progress>,
    trace: Trace,
    hop: Hop,
    held: Vec<u8>,
    /// Responses received in the current request (more than one after an auth retry).
    responses: u32,
    /// Host and port being fetched, for `-v`.
    endpoint: (String, u16),
    /// When the last connection was established (after its TLS handshake, for https).
    connected_at: Option<std::time::Instant>,
}

impl Session {
    pub(crate) fn new(policy: Policy) -> Session {
        Session {
            policy,
            out: Output::stdout(),
            progress: None,
            trace: Trace::new(),
            hop: Hop::NONE,
            held: Vec::new(),
            responses: 0,
            endpoint: (String::new(), 0),
            connected_at: None,
        }
    }

    /// A new URL: where its output goes and whether it shows progress.
    pub(crate) fn start_url(&mut self, out: Output, progress: Option<Progress>) {
        self.out = out;
        self.progress = progress;
        self.hop = Hop::NONE;
    }

    /// Ends the URL's output: the progress line, the file, the first write error.
    pub(crate) fn finish_url(&mut self, create: bool) -> std::io::Result<()> {
        if let Some(p) = self.progress.as_mut() {
            p.finish();
        }
        self.out.finish(create)
    }

    /// A request (one `perform`) is about to start for `host:port`.
    pub(crate) fn start_request(&mut self, host: &str, port: u16) {
        self.endpoint = (host.to_owned(), port);
        self.hop = Hop::NONE;
        self.held.clear();
        self.responses = 0;
    }

    /// The request ended: a 401 body still held is the final response's, and is printed.
    pub(crate) fn end_request(&mut self) {
        if self.hop.body == Body::Hold {
            self.out.write(&self.held);
            self.held.clear();
            self.hop.body = Body::Write;
        }
    }

    /// The last response is a redirect that `-L` follows.
    pub(crate) fn follows_redirect(&self) -> bool {
        self.policy.follow && is_redirect(self.hop.status) && self.hop.location
    }

    /// Requests the engine repeated with credentials in the last request: curl counts them
    /// in `num_redirects`.
    pub(crate) fn auth_retries(&self) -> u32 {
        self.responses.saturating_sub(1)
    }

    /// Body bytes of the last response (none of a body `-f` refused): curl's `size_download`.
    pub(crate) fn size_download(&self) -> u64 {
        self.hop.kept
    }

    /// When the last connection was established (ON_CONNECTED: after the TLS handshake for
    /// https).
    pub(crate) fn connected_at(&self) -> Option<std::time::Instant> {
        self.connected_at
    }

    /// A `* ` line on stderr with `-v`.
    pub(crate) fn note(&self, message: &str) {
        if self.policy.verbose {
            eprintln!("* {message}");
        }
    }

    fn on_event(&mut self, kind: &EventKind<'_>) {
        match *kind {
            EventKind::OnConnected => {
                self.connected_at = Some(std::time::Instant::now());
                self.trace.reset();
                self.note(&format!("Connected to {} port {}", self.endpoint.0, self.endpoint.1));
            }
            EventKind::OnStatusCode(status) => {
                // A new response: a held 401 body was answered and is not the final one.
                self.held.clear();
                self.responses += 1;
                self.hop = Hop { status: status.as_u16(), ..Hop::NONE };
            }
            EventKind::OnHeader { name, value } => {
                if name.eq_ignore_ascii_case("location") {
                    self.hop.location = true;
                } else if name.eq_ignore_ascii_case("www-authenticate") {
                    self.hop.challenge = true;
                } else if name.eq_ignore_ascii_case("content-length") {
                    self.hop.content_length = std::str::from_utf8(value).ok().and_then(|v| v.trim().parse().ok());
                }
            }
            EventKind::OnHeadersComplete => {
                let status = self.hop.status;
                self.hop.body = if self.follows_redirect() || (self.policy.fail && status >= 400) {
                    Body::Discard
                } else if status == 401 && self.hop.challenge {
                    Body::Hold
                } else {
                    Body::Write
                };
                if self.hop.body != Body::Discard
                    && let Some(p) = self.progress.as_mut()
                {
                    p.restart(self.hop.content_length);
                }
            }
            EventKind::OnData(data) => self.on_data(data),
            EventKind::Disconnected => self.note("Connection closed"),
            EventKind::Error(e) => self.note(&e.to_string()),
            _ => {}
        }
    }

    fn on_data(&mut self, data: &[u8]) {
        if self.policy.fail && self.hop.status >= 400 {
            // curl stops reading such a body.
            return;
        }
        self.hop.kept += data.len() as u64;
        match self.hop.body {
            Body::Discard => return,
            Body::Hold if self.held.len() + data.len() <= MAX_HELD => self.held.extend_from_slice(data),
            Body::Hold => {
                self.out.write(&self.held);
                self.held.clear();
                self.hop.body = Body::Write;
                self.out.write(data);
            }
            Body::Write => self.out.write(data),
        }
        if let Some(p) = self.progress.as_mut() {
            p.advance(data.len());
        }
    }

    fn on_wire(&mut self, direction: Direction, bytes: &[u8]) {
        let mut seen = Vec::new();
        match direction {
            Direction::Sent => self.trace.sent(bytes, &mut seen),
            Direction::Received => self.trace.received(bytes, &mut seen),
        }
        for piece in seen {
            match piece {
                Seen::RequestLine(line) => {
                    if self.policy.verbose {
                        eprintln!("> {}", String::from_utf8_lossy(&line));
                    }
                }
                Seen::ResponseHead(head) => {
                    if self.policy.verbose {
                        let mut err = std::io::stderr().lock();
                        let lines = head.strip_suffix(b"\n").unwrap_or(&head).split(|&b| b == b'\n');
                        for line in lines {
                            let line = line.strip_suffix(b"\r").unwrap_or(line);
                            let _ = writeln!(err, "< {}", String::from_utf8_lossy(line));
                        }
                    }
                    if self.policy.include {
                        self.out.write(&head);
                    }
                }
            }
        }
    }
}

/// 301, 302, 303, 307 and 308: the redirects curl and the engine follow.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The client's event handler: hands every event to the session.
pub(crate) struct Handler(pub(crate) Rc<RefCell<Session>>);

impl EventHandler for Handler {
    fn on_event(&mut self, event: &Event<'_>) {
        if let Ok(mut session) = self.0.try_borrow_mut() {
            session.on_event(&event.kind);
        }
    }
}

/// The wire tap for tern-std: hands every byte written and read to the session.
pub(crate) fn wire_tap(session: Rc<RefCell<Session>>) -> WireTap<'static> {
    Box::new(move |direction, bytes| {
        if let Ok(mut session) = session.try_borrow_mut() {
            session.on_wire(direction, bytes);
        }
    })
}

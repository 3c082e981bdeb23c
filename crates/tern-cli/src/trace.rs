//! Finds the request and response heads in the bytes on the wire (seen through tern-std's
//! wire tap), for `-v` and `-i`: the heads exactly as sent and received, bodies skipped.
//!
//! A request head starts the connection's first bytes and the first bytes sent after each
//! final response head; it ends at its empty line, and a response head is then awaited. An
//! informational (1xx) response head is reported and another awaited.

/// Most bytes kept of one unfinished head; a longer one is no longer traced.
const MAX_HEAD: usize = 64 * 1024;

/// A complete piece of a head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// One request head line, without its line ending; empty for the end of the head.
    RequestLine(Vec<u8>),
    /// A whole response head, raw, with its closing empty line.
    ResponseHead(Vec<u8>),
}

/// Where each direction of the connection is.
#[derive(Debug)]
pub(crate) struct Trace {
    sent: Sent,
    received: Received,
}

#[derive(Debug)]
enum Sent {
    /// In a request head; the unfinished line.
    Head(Vec<u8>),
    /// In a request body, or done.
    Body,
}

#[derive(Debug)]
enum Received {
    /// Not awaiting a head (a body, or nothing asked).
    Idle,
    /// Awaiting a response head; the bytes so far.
    Head(Vec<u8>),
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace { sent: Sent::Head(Vec::new()), received: Received::Idle }
    }

    /// A new connection: the next bytes sent start a request.
    pub(crate) fn reset(&mut self) {
        *self = Trace::new();
    }

    /// Bytes written; completed request lines go to `seen`.
    pub(crate) fn sent(&mut self, mut bytes: &[u8], seen: &mut Vec<Seen>) {
        while let Sent::Head(line) = &mut self.sent {
            let Some(at) = bytes.iter().position(|&b| b == b'\n') else {
                if line.len() < MAX_HEAD {
                    line.extend_from_slice(bytes);
                }
                return;
            };
            let (part, rest) = bytes.split_at(at);
            line.extend_from_slice(part);
            bytes = rest.get(1..).unwrap_or_default();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let end = line.is_empty();
            seen.push(Seen::RequestLine(std::mem::take(line)));
            if end {
                self.sent = Sent::Body;
                self.received = Received::Head(Vec::new());
            }
        }
    }

    /// Bytes read; completed response heads go to `seen`.
    pub(crate) fn received(&mut self, bytes: &[u8], seen: &mut Vec<Seen>) {
        let Received::Head(buf) = &mut self.received else { return };
        buf.extend_from_slice(bytes);
        while let Some(end) = head_end(buf) {
            let head: Vec<u8> = buf.drain(..end).collect();
            let informational = status(&head).is_some_and(|s| (100..200).contains(&s));
            seen.push(Seen::ResponseHead(head));
            if !informational {
                self.received = Received::Idle;
                self.sent = Sent::Head(Vec::new());
                return;
            }
        }
        if buf.len() > MAX_HEAD {
            self.received = Received::Idle;
        }
    }
}

/// The length of the head at the start of `buf` (up to and including its empty line).
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(3).position(|w| w == b"\n\r\n").map(|i| i + 3);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The status code of a response head.
fn status(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let code = line.split(|&b| b == b' ').nth(1)?;
    std::str::from_utf8(code).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;

    fn line(s: &str) -> Seen {
        Seen::RequestLine(s.as_bytes().to_vec())
    }

    #[test]
    fn heads_are_found_across_any_split_and_bodies_skipped() {
        let request = b"POST /x HTTP/1.1\r\nHost: h\r\n\r\nbody";
        let response = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\nHTTP/1.1 999 not a head";
        for split in 0..request.len() {
            let mut trace = Trace::new();
            let mut seen = Vec::new();
            trace.sent(&request[..split], &mut seen);
            trace.sent(&request[split..], &mut seen);
            assert_eq!(seen, vec![line("POST /x HTTP/1.1"), line("Host: h"), line("")]);
            seen.clear();
            for chunk in response.chunks(split.max(1)) {
                trace.received(chunk, &mut seen);
            }
            assert_eq!(
                seen,
                vec![
                    Seen::ResponseHead(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()),
                    Seen::ResponseHead(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n".to_vec()),
                ]
            );
            seen.clear();
            trace.sent(b"GET / HTTP/1.1\r\n\r\n", &mut seen);
            assert_eq!(seen, vec![line("GET / HTTP/1.1"), line("")]);
        }
    }
}

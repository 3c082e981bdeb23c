//! Writing the request head into the transmit buffer, in pages.
//!
//! The head is a list of lines ([`Line`]): the request line, the stored headers in the order
//! they were set, `Authorization`, the body framing, `Connection: close` and the empty line.
//! [`fill_page`] writes as many whole lines as fit into the transmit buffer; the engine sends
//! the page and calls it again from where it stopped, so a head longer than `buffer_size_tx`
//! still goes out, as in ESP-IDF. [`check_lines`] runs first and refuses a line that could
//! never fit (or credentials that cannot be written), before anything touches the network.

use super::auth::{self, DigestAlgorithm, DigestInput};
use super::error::ClientError;
use super::store::{Store, Tag};
use crate::method::Method;
use crate::write::Decimal;

/// How the request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// No framing field: a GET, HEAD or DELETE without a body.
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The credentials a request carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthPlan {
    None,
    Basic,
    Digest { algorithm: DigestAlgorithm, qop_auth: bool, nc: u32, cnonce: [u8; 16] },
}

/// One line of the head, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    Request,
    /// The n-th stored header.
    Header(u16),
    Authorization,
    Framing,
    Connection,
    End,
    /// Everything was written.
    Done,
}

/// Everything a head is written from.
pub(crate) struct HeadPlan<'s> {
    pub(crate) method: Method<'s>,
    /// The request-target in origin form: path and query, as one string.
    pub(crate) target: &'s str,
    pub(crate) store: &'s Store,
    pub(crate) store_buf: &'s [u8],
    pub(crate) framing: BodyFraming,
    pub(crate) auth: AuthPlan,
    /// Send `Connection: close` (keep-alive is off and the caller set no Connection header).
    pub(crate) close: bool,
    /// Leave out Content-Type (a redirect turned the request into a GET without body).
    pub(crate) drop_content_type: bool,
}

impl HeadPlan<'_> {
    fn stored_header(&self, n: u16) -> Option<(&[u8], &[u8])> {
        self.store.headers(self.store_buf).nth(usize::from(n))
    }

    /// Whether a stored header is written as is. Framing fields are ours to write, an
    /// `Authorization` the caller set wins over computed credentials only when there are none,
    /// and `Expect: 100-continue` goes only with content (RFC 9110 section 10.1.1).
    fn writes_stored(&self, name: &[u8], value: &[u8]) -> bool {
        let no_content = matches!(self.framing, BodyFraming::None | BodyFraming::Length(0));
        !(name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"transfer-encoding")
            || (self.drop_content_type && name.eq_ignore_ascii_case(b"content-type"))
            || (!matches!(self.auth, AuthPlan::None) && name.eq_ignore_ascii_case(b"authorization"))
            || (no_content && name.eq_ignore_ascii_case(b"expect") && value.eq_ignore_ascii_case(b"100-continue")))
    }

    fn credentials(&self) -> (&[u8], &[u8]) {
        let user = self.store.get(self.store_buf, Tag::Username).unwrap_or_default();
        let pass = self.store.get(self.store_buf, Tag::Password).unwrap_or_default();
        (user, pass)
    }

    fn digest_input<'i>(&'i self, algorithm: DigestAlgorithm, qop: bool, nc: u32, cnonce: &'i [u8]) -> DigestInput<'i> {
        let (username, password) = self.credentials();
        DigestInput {
            username,
            password,
            realm: self.store.get(self.store_buf, Tag::DigestRealm).unwrap_or_default(),
            nonce: self.store.get(self.store_buf, Tag::DigestNonce).unwrap_or_default(),
            opaque: self.store.get(self.store_buf, Tag::DigestOpaque),
            algorithm,
            qop_auth: qop,
            method: self.method.as_str(),
            uri: self.target,
            nc,
            cnonce,
        }
    }

    /// Bytes of `line` with its line ending; `None` when the line is not written.
    fn line_len(&self, line: Line) -> Option<usize> {
        match line {
            Line::Request => Some(self.method.as_str().len() + 1 + self.target.len() + 11),
            Line::Header(n) => match self.stored_header(n) {
                Some((name, value)) if self.writes_stored(name, value) => Some(name.len() + 2 + value.len() + 2),
                _ => None,
            },
            Line::Authorization => match self.auth {
                AuthPlan::None => None,
                AuthPlan::Basic => {
                    let (user, pass) = self.credentials();
                    Some(15 + auth::basic_len(user, pass) + 2)
                }
                AuthPlan::Digest { algorithm, qop_auth, nc, cnonce } => {
                    Some(15 + auth::digest_len(&self.digest_input(algorithm, qop_auth, nc, &cnonce)) + 2)
                }
            },
            Line::Framing => match self.framing {
                BodyFraming::None => None,
                BodyFraming::Length(n) => Some(16 + Decimal::new(n).as_bytes().len() + 2),
                BodyFraming::Chunked => Some(28),
            },
            Line::Connection => self.close.then_some(19),
            Line::End => Some(2),
            Line::Done => None,
        }
    }

    fn next(&self, line: Line) -> Line {
        let headers = self.store.headers(self.store_buf).count();
        match line {
            Line::Request => {
                if headers > 0 {
                    Line::Header(0)
                } else {
                    Line::Authorization
                }
            }
            Line::Header(n) if usize::from(n) + 1 < headers => Line::Header(n + 1),
            Line::Header(_) => Line::Authorization,
            Line::Authorization => Line::Framing,
            Line::Framing => Line::Connection,
            Line::Connection => Line::End,
            Line::End | Line::Done => Line::Done,
        }
    }

    /// Writes `line` at the start of `out`, which has room for it.
    fn write_line(&self, line: Line, out: &mut [u8]) -> Result<usize, ClientError> {
        let mut w = Cursor { out, pos: 0 };
        match line {
            Line::Request => {
                w.put(self.method.as_str().as_bytes());
                w.put(b" ");
                w.put(self.target.as_bytes());
                w.put(b" HTTP/1.1\r\n");
            }
            Line::Header(n) => {
                if let Some((name, value)) = self.stored_header(n) {
                    w.field(name, value);
                }
            }
            Line::Authorization => {
                w.put(b"Authorization: ");
                let written = match self.auth {
                    AuthPlan::None => 0,
                    AuthPlan::Basic => {
                        let (user, pass) = self.credentials();
                        auth::write_basic(user, pass, w.rest()).map_err(ClientError::Auth)?
                    }
                    AuthPlan::Digest { algorithm, qop_auth, nc, cnonce } => {
                        let input = self.digest_input(algorithm, qop_auth, nc, &cnonce);
                        auth::write_digest(&input, w.rest()).map_err(ClientError::Auth)?
                    }
                };
                w.pos += written;
                w.put(b"\r\n");
            }
            Line::Framing => match self.framing {
                BodyFraming::None => {}
                BodyFraming::Length(n) => w.field(b"Content-Length", Decimal::new(n).as_bytes()),
                BodyFraming::Chunked => w.field(b"Transfer-Encoding", b"chunked"),
            },
            Line::Connection => w.field(b"Connection", b"close"),
            Line::End => w.put(b"\r\n"),
            Line::Done => {}
        }
        Ok(w.pos)
    }
}

/// Checks, before anything is sent, that every line fits the empty transmit buffer `tx`, and
/// that the `Authorization` line can be written at all (credentials with a control byte, a
/// Basic username with a colon, ... are refused here, not half-way through a paged head).
pub(crate) fn check_lines(plan: &HeadPlan<'_>, tx: &mut [u8]) -> Result<(), ClientError> {
    let capacity = tx.len();
    let mut line = Line::Request;
    while line != Line::Done {
        if let Some(len) = plan.line_len(line) {
            if len > capacity {
                return Err(ClientError::HeaderTooLong { needed: len, capacity });
            }
            if line == Line::Authorization {
                plan.write_line(line, tx)?;
            }
        }
        line = plan.next(line);
    }
    Ok(())
}

/// Writes whole lines from `line` on into `tx` until the next does not fit. Returns the bytes
/// written and the first line not written.
pub(crate) fn fill_page(plan: &HeadPlan<'_>, mut line: Line, tx: &mut [u8]) -> Result<(usize, Line), ClientError> {
    let mut used = 0;
    while line != Line::Done {
        if let Some(len) = plan.line_len(line) {
            let Some(dst) = tx.get_mut(used..used + len) else { break };
            used += plan.write_line(line, dst)?;
        }
        line = plan.next(line);
    }
    Ok((used, line))
}

/// A write position in a buffer known to be large enough.
struct Cursor<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.pos += bytes.len();
    }

    fn field(&mut self, name: &[u8], value: &[u8]) {
        self.put(name);
        self.put(b": ");
        self.put(value);
        self.put(b"\r\n");
    }

    fn rest(&mut self) -> &mut [u8] {
        self.out.get_mut(self.pos..).unwrap_or_default()
    }
}

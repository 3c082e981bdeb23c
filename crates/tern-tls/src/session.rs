//! [`TlsSession`]: one TLS connection as a sans-IO engine over a caller's buffer.
//!
//! The session owns no socket. The adapter moves ciphertext between the transport and the
//! session, and plaintext between the session and the HTTP engine:
//!
//! ```text
//!             transmitted(n)                            write([a, b]) -> n
//!  socket <--- output() -------+                +------------------------- HTTP engine
//!                              |  TlsSession    |                         (Transmit / Receive)
//!  socket ---> input_space() --+  (rustls       +-- read(buf) -> Data(n) -->
//!             received(n)         unbuffered)       | NeedInput | Closed
//! ```
//!
//! - **Handshake**: call [`TlsSession::handshake`] until it says [`Handshake::Done`], doing
//!   what each answer asks: [`Handshake::Transmit`] (write [`output`](TlsSession::output), then
//!   [`transmitted`](TlsSession::transmitted)) or [`Handshake::Receive`] (read into
//!   [`input_space`](TlsSession::input_space), then [`received`](TlsSession::received); 0
//!   for end of stream).
//! - **Application data**: [`write`](TlsSession::write) encrypts plaintext into the outgoing
//!   region and says how much it took (0 means: transmit the output first).
//!   [`read`](TlsSession::read) hands out decrypted bytes, or asks for more input.
//! - **Output first**: whenever [`output`](TlsSession::output) is not empty, write it before
//!   waiting to read. It can grow outside the handshake too (alerts, key updates, close).
//!
//! # Memory
//!
//! One caller buffer of [`TlsBufferLayout::buffer_len`] bytes, in three regions:
//!
//! ```text
//! [ incoming ciphertext: one whole record | plaintext: 16 KiB | outgoing ciphertext ]
//! ```
//!
//! rustls itself allocates too (its handshake state, the peer's certificates, one heap copy of
//! each decrypted record); `docs/limits.md` gives the measured peak. Records that arrive while
//! the plaintext region is full wait in a heap overflow no larger than the incoming region,
//! and alerts queued while output is pending wait in a heap spill: both are rare and bounded.

use alloc::vec::Vec;

use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};
use rustls::{ProtocolVersion, client::UnbufferedClientConnection, server::UnbufferedServerConnection};

use crate::error::TlsError;

/// Largest plaintext a TLS record carries (RFC 8446 §5.1).
pub const MAX_PLAINTEXT: usize = 16 * 1024;
/// Room for the largest record a peer may send under the cipher suites rustls offers:
/// 5 bytes of header, 16 KiB of plaintext and 256 bytes of expansion (RFC 8446 §5.2).
pub const MAX_INCOMING_RECORD: usize = MAX_PLAINTEXT + 256 + 5;
/// Worst-case growth of one record this side encrypts: header, explicit nonce, tag, type.
pub const RECORD_EXPANSION: usize = 64;

/// The sizes of a session's buffer regions.
///
/// ```
/// use tern_tls::TlsBufferLayout;
/// // 16,645 incoming + 16,384 plaintext + 16,453 outgoing.
/// assert_eq!(TlsBufferLayout::DEFAULT.buffer_len(), 49_482);
/// // Records of at most 4 KiB from this side: 37,189 bytes.
/// assert_eq!(TlsBufferLayout::with_outgoing_record(4096).buffer_len(), 37_189);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsBufferLayout {
    /// Incoming ciphertext: one whole record of the largest size a peer may send.
    pub incoming: usize,
    /// The largest record this side sends, header included (rustls' `max_fragment_size`,
    /// 32..=16389). Smaller records shrink the outgoing region.
    pub outgoing_record: usize,
}

impl TlsBufferLayout {
    /// Records of any size both ways.
    pub const DEFAULT: TlsBufferLayout =
        TlsBufferLayout { incoming: MAX_INCOMING_RECORD, outgoing_record: MAX_PLAINTEXT + 5 };

    /// Full-size incoming records, outgoing records of at most `record` bytes (clamped to
    /// 32..=16389).
    pub const fn with_outgoing_record(record: usize) -> TlsBufferLayout {
        let record = if record < 32 {
            32
        } else if record > MAX_PLAINTEXT + 5 {
            MAX_PLAINTEXT + 5
        } else {
            record
        };
        TlsBufferLayout { incoming: MAX_INCOMING_RECORD, outgoing_record: record }
    }

    /// The outgoing region: one record and its expansion.
    pub const fn outgoing(&self) -> usize {
        self.outgoing_record + RECORD_EXPANSION
    }

    /// Bytes of buffer a session with this layout needs.
    pub const fn buffer_len(&self) -> usize {
        self.incoming + MAX_PLAINTEXT + self.outgoing()
    }
}

impl Default for TlsBufferLayout {
    fn default() -> Self {
        TlsBufferLayout::DEFAULT
    }
}

/// What the handshake needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// Write [`TlsSession::output`] to the transport, then call [`TlsSession::transmitted`].
    Transmit,
    /// Read from the transport into [`TlsSession::input_space`], then call
    /// [`TlsSession::received`].
    Receive,
    /// The handshake is complete: application data may flow.
    Done,
}

/// What [`TlsSession::read`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// This many plaintext bytes were copied into the caller's buffer.
    Data(usize),
    /// No plaintext yet: read more ciphertext into [`TlsSession::input_space`].
    NeedInput,
    /// The peer is done sending. `clean` is true when it said so with `close_notify`, false
    /// when the transport simply ended (a truncation, if the protocol above cares).
    Closed {
        /// The peer sent `close_notify`.
        clean: bool,
    },
}

enum Conn {
    Client(UnbufferedClientConnection),
    Server(UnbufferedServerConnection),
}

/// A region's filled range.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn len(self) -> usize {
        self.end - self.start
    }
    fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// One TLS connection (client or server) over a caller's buffer. See the [module
/// docs](self) for the driving loop.
///
/// A client and a server session joined in memory: the handshake, then a request's bytes
/// through it. An adapter does the same with a socket in place of `wire`.
///
/// ```
/// use tern_tls::{ClientTls, Handshake, Read, ServerTls, ServerTlsOptions, TlsConfig, TlsSession};
/// # let pki = tern_testkit::Pki::new(); // a CA and a server certificate for "localhost"
/// # let (ca_pem, cert_pem, key_pem) =
/// #     (pki.ca_pem().as_bytes(), pki.server().cert_pem.as_bytes(), pki.server().key_pem.as_bytes());
///
/// let client_tls = ClientTls::new(&TlsConfig { ca_cert: Some(ca_pem), ..TlsConfig::default() })?;
/// let server_tls =
///     ServerTls::new(&ServerTlsOptions { cert_chain: cert_pem, private_key: key_pem, ..ServerTlsOptions::default() })?;
/// let mut client = client_tls.session("localhost", vec![0u8; client_tls.layout().buffer_len()])?;
/// let mut server = server_tls.session(vec![0u8; server_tls.layout().buffer_len()])?;
///
/// /// The network: moves what `from` has to send into `to`'s input.
/// fn wire(from: &mut TlsSession<Vec<u8>>, to: &mut TlsSession<Vec<u8>>) {
///     let (out, space) = (from.output(), to.input_space());
///     let n = out.len().min(space.len());
///     if n > 0 {
///         space[..n].copy_from_slice(&out[..n]);
///         from.transmitted(n);
///         to.received(n); // never 0 here: 0 would mean end of stream
///     }
/// }
///
/// // Each side says what it needs until both are done.
/// while (client.handshake()?, server.handshake()?) != (Handshake::Done, Handshake::Done) {
///     wire(&mut client, &mut server);
///     wire(&mut server, &mut client);
/// }
/// assert!(client.protocol_version().is_some() && client.peer_certificates().is_some());
///
/// // Plaintext in on one side, out of the other.
/// let request = b"GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n";
/// assert_eq!(client.write([request, b""])?, request.len());
/// wire(&mut client, &mut server);
/// let mut plain = [0u8; 256];
/// assert_eq!(server.read(&mut plain)?, Read::Data(request.len()));
/// assert_eq!(&plain[..request.len()], request);
/// assert_eq!(server.read(&mut plain)?, Read::NeedInput);
/// # Ok::<(), tern_tls::TlsError>(())
/// ```
pub struct TlsSession<B> {
    conn: Conn,
    buf: B,
    layout: TlsBufferLayout,
    incoming: Span,
    plain: Span,
    out: Span,
    /// Records decrypted while the plaintext region was full.
    overflow: Vec<u8>,
    /// Records encoded while the outgoing region could not take them.
    spill: Vec<u8>,
    handshaking: bool,
    peer_closed: bool,
    transport_eof: bool,
    close_sent: bool,
    error: Option<TlsError>,
}

impl<B> core::fmt::Debug for TlsSession<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsSession")
            .field("side", &if matches!(self.conn, Conn::Client(_)) { "client" } else { "server" })
            .field("handshaking", &self.handshaking)
            .field("incoming", &self.incoming.len())
            .field("plaintext", &(self.plain.len() + self.overflow.len()))
            .field("output", &(self.out.len() + self.spill.len()))
            .field("peer_closed", &self.peer_closed)
            .field("error", &self.error)
            .finish()
    }
}

/// Where a run of `process_tls_records` calls stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// The handshake completes or needs input.
    Handshake,
    /// Plaintext is available or input is needed.
    Plaintext,
    /// The write job has been carried out.
    Written,
}

/// What one `process_tls_records` call led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Something was done; call again.
    Again,
    /// More ciphertext is needed.
    NeedInput,
    /// Plaintext was staged.
    Plaintext,
    /// The handshake is complete and the write job (if any) was carried out.
    Writable,
    /// Both sides have closed.
    Closed,
}

/// Plaintext to encrypt, or a close to queue, once rustls allows writing.
struct WriteJob<'d> {
    parts: [&'d [u8]; 2],
    accepted: usize,
    close: bool,
}

/// The regions of the buffer other than incoming, as one call sees them.
struct Regions<'r> {
    plain: &'r mut [u8],
    plain_span: &'r mut Span,
    overflow: &'r mut Vec<u8>,
    out: &'r mut [u8],
    out_span: &'r mut Span,
    spill: &'r mut Vec<u8>,
    peer_closed: &'r mut bool,
    /// Largest plaintext per outgoing record.
    fragment: usize,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> TlsSession<B> {
    /// A client session for `server_name` (SNI and the name the certificate is checked
    /// against), with the configuration's layout. Prefer
    /// [`ClientTls::session`](crate::ClientTls::session).
    pub(crate) fn new_client(
        conn: UnbufferedClientConnection,
        layout: TlsBufferLayout,
        buf: B,
    ) -> Result<Self, (TlsError, B)> {
        Self::new(Conn::Client(conn), layout, buf)
    }

    /// A server session. Prefer [`ServerTls::session`](crate::ServerTls::session).
    pub(crate) fn new_server(
        conn: UnbufferedServerConnection,
        layout: TlsBufferLayout,
        buf: B,
    ) -> Result<Self, (TlsError, B)> {
        Self::new(Conn::Server(conn), layout, buf)
    }

    fn new(conn: Conn, layout: TlsBufferLayout, buf: B) -> Result<Self, (TlsError, B)> {
        let given = buf.as_ref().len();
        if given < layout.buffer_len() {
            return Err((TlsError::BufferTooSmall { given, needed: layout.buffer_len() }, buf));
        }
        Ok(TlsSession {
            conn,
            buf,
            layout,
            incoming: Span::default(),
            plain: Span::default(),
            out: Span::default(),
            overflow: Vec::new(),
            spill: Vec::new(),
            handshaking: true,
            peer_closed: false,
            transport_eof: false,
            close_sent: false,
            error: None,
        })
    }

    /// True until the handshake has completed.
    pub fn is_handshaking(&self) -> bool {
        self.handshaking
    }

    /// Advances the handshake and says what it needs next. Errors are final: the session
    /// queues the alert that tells the peer (write [`output`](Self::output) before closing,
    /// if the transport still works).
    pub fn handshake(&mut self) -> Result<Handshake, TlsError> {
        self.check()?;
        if self.has_output() {
            return Ok(Handshake::Transmit);
        }
        if !self.handshaking {
            return Ok(Handshake::Done);
        }
        self.run(Until::Handshake, None)?;
        if self.has_output() {
            Ok(Handshake::Transmit)
        } else if !self.handshaking {
            Ok(Handshake::Done)
        } else if self.transport_eof {
            Err(self.fail(TlsError::ClosedDuringHandshake))
        } else {
            self.input_full_check()?;
            Ok(Handshake::Receive)
        }
    }

    /// True when ciphertext waits to be written.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty() || !self.spill.is_empty()
    }

    /// Ciphertext to write to the transport (empty when there is none).
    pub fn output(&self) -> &[u8] {
        if self.out.is_empty() {
            &self.spill
        } else {
            let start = self.layout.incoming + MAX_PLAINTEXT;
            self.buf.as_ref().get(start + self.out.start..start + self.out.end).unwrap_or_default()
        }
    }

    /// `n` bytes of [`output`](Self::output) were written.
    pub fn transmitted(&mut self, n: usize) {
        if self.out.is_empty() {
            self.spill.drain(..n.min(self.spill.len()));
            return;
        }
        self.out.start += n.min(self.out.len());
        if self.out.is_empty() {
            self.out = Span::default();
            // Move spilled records into the region, in order, now that it is free.
            if !self.spill.is_empty() {
                let start = self.layout.incoming + MAX_PLAINTEXT;
                let cap = self.layout.outgoing();
                let take = self.spill.len().min(cap);
                if let Some(region) = self.buf.as_mut().get_mut(start..start + take) {
                    region.copy_from_slice(self.spill.get(..take).unwrap_or_default());
                    self.spill.drain(..take);
                    self.out = Span { start: 0, end: take };
                }
            }
        }
    }

    /// Free space to read ciphertext into. It is empty only when the buffer holds a partial
    /// record already as large as the incoming region, which [`read`](Self::read) and
    /// [`handshake`](Self::handshake) report as [`TlsError::RecordTooLarge`].
    pub fn input_space(&mut self) -> &mut [u8] {
        if self.incoming.start > 0 {
            let Span { start, end } = self.incoming;
            self.buf.as_mut().copy_within(start..end, 0);
            self.incoming = Span { start: 0, end: end - start };
        }
        let end = self.incoming.end;
        self.buf.as_mut().get_mut(end..self.layout.incoming).unwrap_or_default()
    }

    /// `n` bytes were read into [`input_space`](Self::input_space); 0 means the transport
    /// reached its end.
    pub fn received(&mut self, n: usize) {
        if n == 0 {
            self.transport_eof = true;
        } else {
            self.incoming.end = (self.incoming.end + n).min(self.layout.incoming);
        }
    }

    /// Copies decrypted bytes into `buf`, or says what is needed first.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<Read, TlsError> {
        if let Some(n) = self.take_plaintext(buf) {
            return Ok(Read::Data(n));
        }
        self.check()?;
        if self.handshaking {
            return Ok(Read::NeedInput);
        }
        if !self.peer_closed {
            self.run(Until::Plaintext, None)?;
        }
        if let Some(n) = self.take_plaintext(buf) {
            return Ok(Read::Data(n));
        }
        if self.peer_closed {
            return Ok(Read::Closed { clean: true });
        }
        if self.transport_eof {
            return Ok(Read::Closed { clean: false });
        }
        self.input_full_check()?;
        Ok(Read::NeedInput)
    }

    /// Encrypts as much of `parts` (in order) as the outgoing region takes, and returns how
    /// many plaintext bytes it took. 0 with non-empty input means: transmit the output first.
    pub fn write(&mut self, parts: [&[u8]; 2]) -> Result<usize, TlsError> {
        self.check()?;
        if self.handshaking {
            return Err(TlsError::NotWritable { when: "before the handshake completed" });
        }
        if self.close_sent {
            return Err(TlsError::NotWritable { when: "after the session closed" });
        }
        if parts.iter().all(|p| p.is_empty()) {
            return Ok(0);
        }
        let mut job = WriteJob { parts, accepted: 0, close: false };
        self.run(Until::Written, Some(&mut job))?;
        Ok(job.accepted)
    }

    /// Queues `close_notify` (once): write [`output`](Self::output) before closing the
    /// transport. Before the handshake completes there is nothing to say and nothing is queued.
    pub fn close(&mut self) -> Result<(), TlsError> {
        if self.close_sent || self.error.is_some() || self.handshaking {
            return Ok(());
        }
        let mut job = WriteJob { parts: [&[], &[]], accepted: 0, close: true };
        self.run(Until::Written, Some(&mut job))?;
        // The job clears `close` once close_notify is queued (it waits behind a spill).
        self.close_sent = !job.close;
        Ok(())
    }

    /// True when the peer sent `close_notify`.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// The ALPN protocol agreed on, if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        match &self.conn {
            Conn::Client(c) => c.alpn_protocol(),
            Conn::Server(s) => s.alpn_protocol(),
        }
    }

    /// The TLS version agreed on, once known.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        match &self.conn {
            Conn::Client(c) => c.protocol_version(),
            Conn::Server(s) => s.protocol_version(),
        }
    }

    /// The peer's certificate chain (DER, leaf first), once verified.
    pub fn peer_certificates(&self) -> Option<&[rustls_pki_types::CertificateDer<'static>]> {
        match &self.conn {
            Conn::Client(c) => c.peer_certificates(),
            Conn::Server(s) => s.peer_certificates(),
        }
    }

    /// The session's buffer layout.
    pub fn layout(&self) -> TlsBufferLayout {
        self.layout
    }

    /// Gives the buffer back.
    pub fn into_buffer(self) -> B {
        self.buf
    }

    fn check(&self) -> Result<(), TlsError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn input_full_check(&mut self) -> Result<(), TlsError> {
        if self.incoming.start == 0 && self.incoming.end >= self.layout.incoming {
            return Err(self.fail(TlsError::RecordTooLarge { capacity: self.layout.incoming }));
        }
        Ok(())
    }

    /// Records a final error and queues the alert rustls prepared for the peer.
    fn fail(&mut self, e: TlsError) -> TlsError {
        if self.error.is_none() {
            self.error = Some(e.clone());
            // rustls queued its alert as a record to encode, which the next call hands over
            // before it looks at any input. Exactly one call: a second would process the
            // offending input again and raise a second fatal alert.
            let _ = self.step_once(None);
        }
        e
    }

    fn take_plaintext(&mut self, buf: &mut [u8]) -> Option<usize> {
        if buf.is_empty() {
            return None;
        }
        if !self.plain.is_empty() {
            let n = self.plain.len().min(buf.len());
            let start = self.layout.incoming + self.plain.start;
            let src = self.buf.as_ref().get(start..start + n)?;
            buf.get_mut(..n)?.copy_from_slice(src);
            self.plain.start += n;
            if self.plain.is_empty() {
                self.plain = Span::default();
            }
            return Some(n);
        }
        if !self.overflow.is_empty() {
            let n = self.overflow.len().min(buf.len());
            buf.get_mut(..n)?.copy_from_slice(self.overflow.get(..n)?);
            self.overflow.drain(..n);
            return Some(n);
        }
        None
    }

    /// Calls `process_tls_records` until `until` is reached.
    fn run(&mut self, until: Until, mut job: Option<&mut WriteJob<'_>>) -> Result<(), TlsError> {
        loop {
            let step = match self.step_once(job.as_deref_mut()) {
                Ok(step) => step,
                Err(e) => return Err(self.fail(e)),
            };
            match (until, step) {
                (_, Step::Again) => {}
                (_, Step::Closed) => return Ok(()),
                (Until::Handshake, Step::Writable | Step::Plaintext) => {
                    self.handshaking = false;
                    return Ok(());
                }
                (_, Step::Writable) => {
                    self.handshaking = false;
                    return Ok(());
                }
                (_, Step::NeedInput) => {
                    if until == Until::Written && self.handshaking {
                        return Err(TlsError::NotWritable { when: "before the handshake completed" });
                    }
                    return Ok(());
                }
                (Until::Plaintext, Step::Plaintext) => return Ok(()),
                (_, Step::Plaintext) => {}
            }
        }
    }

    /// One `process_tls_records` call, its state handled and its discard applied.
    fn step_once(&mut self, job: Option<&mut WriteJob<'_>>) -> Result<Step, TlsError> {
        let TlsSession { conn, buf, layout, incoming, plain, out, overflow, spill, peer_closed, .. } = self;
        let all = buf.as_mut();
        let (incoming_region, rest) = all.split_at_mut(layout.incoming.min(all.len()));
        let (plain_region, rest) = rest.split_at_mut(MAX_PLAINTEXT.min(rest.len()));
        let out_len = layout.outgoing().min(rest.len());
        let out_region = rest.get_mut(..out_len).unwrap_or_default();
        let records = incoming_region.get_mut(incoming.start..incoming.end).unwrap_or_default();
        let mut regions = Regions {
            plain: plain_region,
            plain_span: plain,
            overflow,
            out: out_region,
            out_span: out,
            spill,
            peer_closed,
            fragment: layout.outgoing_record.saturating_sub(5).max(1),
        };
        let (discard, step) = match conn {
            Conn::Client(c) => handle(c.process_tls_records(records), &mut regions, job),
            Conn::Server(s) => handle(s.process_tls_records(records), &mut regions, job),
        };
        incoming.start = (incoming.start + discard).min(incoming.end);
        if incoming.is_empty() {
            *incoming = Span::default();
        }
        step
    }
}

/// Handles one state from rustls; returns the bytes to discard from the incoming records.
fn handle<Data>(
    status: UnbufferedStatus<'_, '_, Data>,
    r: &mut Regions<'_>,
    job: Option<&mut WriteJob<'_>>,
) -> (usize, Result<Step, TlsError>) {
    let mut discard = status.discard;
    let state = match status.state {
        Ok(state) => state,
        Err(e) => return (discard, Err(e.into())),
    };
    let step = match state {
        ConnectionState::ReadTraffic(mut traffic) => {
            let mut staged = false;
            while let Some(record) = traffic.next_record() {
                match record {
                    Ok(record) => {
                        discard += record.discard;
                        stage_plaintext(r, record.payload);
                        staged = true;
                    }
                    Err(e) => return (discard, Err(e.into())),
                }
            }
            Ok(if staged { Step::Plaintext } else { Step::Again })
        }
        ConnectionState::EncodeTlsData(mut encode) => encode_record(r, |dst| encode.encode(dst)),
        ConnectionState::TransmitTlsData(transmit) => {
            // The records are in our output already; the adapter transmits them in order.
            transmit.done();
            Ok(Step::Again)
        }
        ConnectionState::BlockedHandshake => Ok(Step::NeedInput),
        ConnectionState::PeerClosed => {
            *r.peer_closed = true;
            Ok(Step::Again)
        }
        ConnectionState::Closed => Ok(Step::Closed),
        ConnectionState::WriteTraffic(mut traffic) => {
            if let Some(job) = job
                && let Err(e) = write_job(r, job, &mut traffic)
            {
                return (discard, Err(e));
            }
            Ok(Step::Writable)
        }
        // Early data is never enabled; a future state this version does not know.
        _ => Err(TlsError::Other(rustls::Error::General("unexpected TLS connection state".into()))),
    };
    (discard, step)
}

/// Puts decrypted bytes in the plaintext region, or in the overflow when it is full.
fn stage_plaintext(r: &mut Regions<'_>, payload: &[u8]) {
    if r.overflow.is_empty() {
        if r.plain_span.start > 0 {
            let Span { start, end } = *r.plain_span;
            r.plain.copy_within(start..end, 0);
            *r.plain_span = Span { start: 0, end: end - start };
        }
        let free = r.plain.len() - r.plain_span.end;
        if payload.len() <= free {
            let end = r.plain_span.end + payload.len();
            if let Some(dst) = r.plain.get_mut(r.plain_span.end..end) {
                dst.copy_from_slice(payload);
                r.plain_span.end = end;
                return;
            }
        }
    }
    r.overflow.extend_from_slice(payload);
}

/// Encodes a handshake or alert record into the outgoing region, or into the spill when the
/// region cannot take it now.
fn encode_record(
    r: &mut Regions<'_>,
    mut encode: impl FnMut(&mut [u8]) -> Result<usize, EncodeError>,
) -> Result<Step, TlsError> {
    if r.spill.is_empty() {
        let free = r.out.get_mut(r.out_span.end..).unwrap_or_default();
        match encode(free) {
            Ok(n) => {
                r.out_span.end += n;
                return Ok(Step::Again);
            }
            Err(EncodeError::InsufficientSize(e)) if e.required_size > r.out.len() => {
                return Err(TlsError::OutgoingTooSmall { needed: e.required_size, capacity: r.out.len() });
            }
            Err(EncodeError::InsufficientSize(_)) => {}
            Err(EncodeError::AlreadyEncoded) => return Ok(Step::Again),
        }
    }
    // Behind pending output: encode into the spill, which follows it.
    let mut size = 512;
    loop {
        let at = r.spill.len();
        r.spill.resize(at + size, 0);
        match encode(r.spill.get_mut(at..).unwrap_or_default()) {
            Ok(n) => {
                r.spill.truncate(at + n);
                return Ok(Step::Again);
            }
            Err(EncodeError::InsufficientSize(e)) => {
                r.spill.truncate(at);
                size = e.required_size;
            }
            Err(EncodeError::AlreadyEncoded) => {
                r.spill.truncate(at);
                return Ok(Step::Again);
            }
        }
    }
}

/// Encrypts the job's plaintext (or its close_notify) into the free outgoing region.
fn write_job<Data>(
    r: &mut Regions<'_>,
    job: &mut WriteJob<'_>,
    traffic: &mut rustls::unbuffered::WriteTraffic<'_, Data>,
) -> Result<(), TlsError> {
    if !r.spill.is_empty() {
        // Pending alerts go first; the adapter must transmit before more is encrypted.
        return Ok(());
    }
    if r.out_span.start > 0 && r.out_span.is_empty() {
        *r.out_span = Span::default();
    }
    if job.close {
        let free = r.out.get_mut(r.out_span.end..).unwrap_or_default();
        match traffic.queue_close_notify(free) {
            Ok(n) => r.out_span.end += n,
            Err(EncryptError::InsufficientSize(e)) => {
                let mut record = alloc::vec![0; e.required_size];
                let n = traffic.queue_close_notify(&mut record).map_err(encrypt_error)?;
                record.truncate(n);
                r.spill.extend_from_slice(&record);
            }
            Err(e) => return Err(encrypt_error(e)),
        }
        job.close = false;
        return Ok(());
    }
    if let Some(written) = coalesce(r, job, traffic)? {
        r.out_span.end += written;
        return Ok(());
    }
    let mut skip = job.accepted;
    for part in job.parts {
        let mut part = part;
        if skip >= part.len() {
            skip -= part.len();
            continue;
        }
        part = part.get(skip..).unwrap_or_default();
        skip = 0;
        while !part.is_empty() {
            let free = r.out.get_mut(r.out_span.end..).unwrap_or_default();
            let n = part.len().min(r.fragment).min(free.len().saturating_sub(RECORD_EXPANSION));
            if n == 0 {
                return Ok(());
            }
            match traffic.encrypt(part.get(..n).unwrap_or_default(), free) {
                Ok(written) => {
                    r.out_span.end += written;
                    job.accepted += n;
                    part = part.get(n..).unwrap_or_default();
                }
                Err(EncryptError::InsufficientSize(_)) => return Ok(()),
                Err(e) => return Err(encrypt_error(e)),
            }
        }
    }
    Ok(())
}

/// Encrypts both parts as one record when together they fit one: a head and a small body
/// then cost one AEAD operation and one record's overhead, not two. The parts are joined in
/// the free tail of the plaintext region. Returns the ciphertext length, or `None` when the
/// parts are sent one after the other instead.
fn coalesce<Data>(
    r: &mut Regions<'_>,
    job: &mut WriteJob<'_>,
    traffic: &mut rustls::unbuffered::WriteTraffic<'_, Data>,
) -> Result<Option<usize>, TlsError> {
    let [head, body] = job.parts;
    let total = head.len() + body.len();
    if job.accepted != 0 || head.is_empty() || body.is_empty() || total > r.fragment {
        return Ok(None);
    }
    let free = r.out.get_mut(r.out_span.end..).unwrap_or_default();
    if free.len() < total + RECORD_EXPANSION {
        return Ok(None);
    }
    let Some(scratch) = r.plain.get_mut(r.plain_span.end..r.plain_span.end + total) else { return Ok(None) };
    let (first, second) = scratch.split_at_mut(head.len());
    first.copy_from_slice(head);
    second.copy_from_slice(body);
    match traffic.encrypt(scratch, free) {
        Ok(written) => {
            job.accepted = total;
            Ok(Some(written))
        }
        Err(EncryptError::InsufficientSize(_)) => Ok(None),
        Err(e) => Err(encrypt_error(e)),
    }
}

fn encrypt_error(e: EncryptError) -> TlsError {
    match e {
        EncryptError::EncryptExhausted => TlsError::Other(rustls::Error::EncryptError),
        EncryptError::InsufficientSize(e) => TlsError::OutgoingTooSmall { needed: e.required_size, capacity: 0 },
    }
}

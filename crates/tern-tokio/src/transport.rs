//! The connection under an engine, for the client and the server alike: a tokio
//! [`TcpStream`], plain or with TLS over it (feature `tls`).
//!
//! A `TlsLink` drives a `TlsSession` in the adapters' style: try the socket I/O at once,
//! and when the socket is not ready, say which readiness to wait for ([`Io::Wait`]); the
//! caller waits (for that, a deadline, or whatever else it waits for) and asks again.
//!
//! - **Transmit**: the engine's plaintext is encrypted into the session's output and the
//!   ciphertext written out; only once all of it is on the socket does the engine hear how
//!   many plaintext bytes went (`Io::Done`). So "transmitted" means on the wire, as on the
//!   plain path, and a dropped future resumes where it stopped (the session remembers what it
//!   took; asking again with the same bytes does not encrypt them twice).
//! - **Receive**: pending ciphertext (alerts, key updates, tickets) is written first, then
//!   plaintext the session holds is handed out, and only when it holds none is the socket
//!   read. A `close_notify`, or the end of the TCP stream, is the end of stream for the engine
//!   (its framing tells a truncated body from a complete one).
//! - **Close**: `close_notify` is queued and written if the socket takes it at once.

#[cfg(feature = "tls")]
use std::io;

#[cfg(feature = "tls")]
use tern_tls::{Handshake, Read, TlsError, TlsSession};
#[cfg(feature = "tls")]
use tokio::io::Interest;
use tokio::net::TcpStream;

/// A connection's transport: the socket itself, or TLS over it. The plain variant runs no
/// TLS code at all.
pub(crate) enum Transport {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    #[cfg(feature = "tls")]
    Tls(TcpStream, Box<TlsLink>),
}

impl Transport {
    /// The socket underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Transport::Tls(tcp, _) => tcp,
        }
    }

    /// The socket underneath, mutably.
    pub(crate) fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Transport::Tls(tcp, _) => tcp,
        }
    }

    /// Whether this is TLS.
    pub(crate) fn is_tls(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(..) => true,
        }
    }

    /// The TLS session, when there is one.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(&self) -> Option<&TlsSession<Vec<u8>>> {
        match self {
            Transport::Plain(_) => None,
            Transport::Tls(_, link) => Some(&link.session),
        }
    }
}

/// What one step of a [`TlsLink`] came to.
#[cfg(feature = "tls")]
#[derive(Debug)]
pub(crate) enum Io {
    /// For the engine: plaintext bytes sent (a transmit) or received (a receive; 0 is the end
    /// of the stream). For the handshake: it is complete.
    Done(usize),
    /// Nothing moves until the socket is ready for this; then ask again.
    Wait(Interest),
    /// The socket failed.
    Failed,
    /// The TLS session failed; the alert telling the peer was written if the socket took it.
    Tls(TlsError),
}

/// How a handshake or a write through a [`TlsLink`] failed.
#[cfg(feature = "tls")]
#[derive(Debug)]
pub(crate) enum LinkError {
    /// TLS failed: a refusal, an alert, a protocol error.
    Tls(TlsError),
    /// The socket failed.
    Io,
    /// The deadline passed first.
    Timeout,
}

/// Whether all pending ciphertext is written.
#[cfg(feature = "tls")]
enum Flush {
    Done,
    Blocked,
    Failed,
}

/// A TLS session and what it has taken from the engine's current transmit.
#[cfg(feature = "tls")]
pub(crate) struct TlsLink {
    session: TlsSession<Vec<u8>>,
    /// Plaintext bytes of the current transmit already encrypted, reported to the engine once
    /// their ciphertext is written.
    taken: usize,
}

#[cfg(feature = "tls")]
impl TlsLink {
    /// A link for a new session (before its handshake).
    pub(crate) fn new(session: TlsSession<Vec<u8>>) -> TlsLink {
        TlsLink { session, taken: 0 }
    }

    /// The session's buffer, for the next session.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.session.into_buffer()
    }

    /// Writes pending ciphertext until none is left or the socket would block.
    fn flush(&mut self, tcp: &TcpStream) -> Flush {
        while self.session.has_output() {
            match tcp.try_write(self.session.output()) {
                Ok(0) => return Flush::Failed,
                Ok(n) => self.session.transmitted(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flush::Blocked,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Flush::Failed,
            }
        }
        Flush::Done
    }

    /// Moves the handshake on: [`Io::Done`] once it is complete.
    pub(crate) fn handshake_step(&mut self, tcp: &TcpStream) -> Io {
        loop {
            match self.session.handshake() {
                Ok(Handshake::Done) => return Io::Done(0),
                Ok(Handshake::Transmit) => match self.flush(tcp) {
                    Flush::Done => {}
                    Flush::Blocked => return Io::Wait(Interest::WRITABLE),
                    Flush::Failed => return Io::Failed,
                },
                Ok(Handshake::Receive) => match tcp.try_read(self.session.input_space()) {
                    Ok(n) => self.session.received(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Io::Wait(Interest::READABLE),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Io::Failed,
                },
                Err(e) => {
                    // The alert that tells the peer why, if the socket takes it now.
                    let _ = self.flush(tcp);
                    return Io::Tls(e);
                }
            }
        }
    }

    /// The engine's `Transmit`: encrypts from `parts` and writes the ciphertext;
    /// [`Io::Done`] with the plaintext bytes taken once it is all written.
    pub(crate) fn transmit(&mut self, tcp: &TcpStream, parts: [&[u8]; 2]) -> Io {
        loop {
            match self.flush(tcp) {
                Flush::Done => {}
                Flush::Blocked => return Io::Wait(Interest::WRITABLE),
                Flush::Failed => return Io::Failed,
            }
            if self.taken > 0 {
                return Io::Done(std::mem::take(&mut self.taken));
            }
            match self.session.write(parts) {
                // Nothing to send, or a session that takes nothing with its output empty.
                Ok(0) => return Io::Failed,
                Ok(n) => self.taken = n,
                Err(e) => {
                    let _ = self.flush(tcp);
                    return Io::Tls(e);
                }
            }
        }
    }

    /// The engine's `Receive`: decrypted bytes into `buf` ([`Io::Done`], 0 at the end of the
    /// stream), reading the socket only when the session holds no plaintext.
    pub(crate) fn receive(&mut self, tcp: &TcpStream, buf: &mut [u8]) -> Io {
        // A transmit the engine gave up on (it failed or timed out) is over.
        self.taken = 0;
        if buf.is_empty() {
            return Io::Done(0);
        }
        loop {
            // Output first; while the socket cannot take it, reading goes on, and the wait is
            // for either readiness.
            let mut also = None;
            if self.session.has_output() {
                match self.flush(tcp) {
                    Flush::Done => {}
                    Flush::Blocked => also = Some(Interest::WRITABLE),
                    Flush::Failed => return Io::Failed,
                }
            }
            match self.session.read(buf) {
                Ok(Read::Data(n)) => return Io::Done(n),
                Ok(Read::Closed { .. }) => return Io::Done(0),
                Ok(Read::NeedInput) => match tcp.try_read(self.session.input_space()) {
                    Ok(n) => self.session.received(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Io::Wait(also.map_or(Interest::READABLE, |w| w | Interest::READABLE));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return Io::Failed,
                },
                Err(e) => {
                    let _ = self.flush(tcp);
                    return Io::Tls(e);
                }
            }
        }
    }

    /// Queues `close_notify` and writes what the socket takes now (best effort: the
    /// connection is closing either way).
    pub(crate) fn close(&mut self, tcp: &TcpStream) {
        self.taken = 0;
        if self.session.close().is_ok() {
            let _ = self.flush(tcp);
        }
    }

    /// Queues `close_notify` and writes it, waiting for the socket until `deadline`.
    pub(crate) async fn close_and_flush(&mut self, tcp: &TcpStream, deadline: tokio::time::Instant) {
        self.taken = 0;
        if self.session.close().is_err() {
            return;
        }
        loop {
            match self.flush(tcp) {
                Flush::Done | Flush::Failed => return,
                Flush::Blocked => {
                    if !matches!(until(Some(deadline), tcp.writable()).await, Some(Ok(()))) {
                        return;
                    }
                }
            }
        }
    }

    /// Writes all of `bytes` through the session (bytes that bypass the engine), waiting for
    /// the socket until `deadline`.
    pub(crate) async fn write_all(
        &mut self,
        tcp: &TcpStream,
        bytes: &[u8],
        deadline: tokio::time::Instant,
    ) -> Result<(), LinkError> {
        let mut done = 0;
        while done < bytes.len() {
            match self.transmit(tcp, [bytes.get(done..).unwrap_or_default(), &[]]) {
                Io::Done(n) => done += n,
                Io::Wait(interest) => match until(Some(deadline), tcp.ready(interest)).await {
                    Some(Ok(_)) => {}
                    Some(Err(_)) => return Err(LinkError::Io),
                    None => return Err(LinkError::Timeout),
                },
                Io::Failed => return Err(LinkError::Io),
                Io::Tls(e) => return Err(LinkError::Tls(e)),
            }
        }
        Ok(())
    }

    /// Runs the handshake to its end, or until `deadline` passes.
    pub(crate) async fn handshake(
        &mut self,
        tcp: &TcpStream,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<(), LinkError> {
        loop {
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                return Err(LinkError::Timeout);
            }
            let interest = match self.handshake_step(tcp) {
                Io::Done(_) => return Ok(()),
                Io::Wait(interest) => interest,
                Io::Failed => return Err(LinkError::Io),
                Io::Tls(e) => return Err(LinkError::Tls(e)),
            };
            match until(deadline, tcp.ready(interest)).await {
                Some(Ok(_)) => {}
                Some(Err(_)) => return Err(LinkError::Io),
                None => return Err(LinkError::Timeout),
            }
        }
    }
}

/// Runs `io` until it finishes or `deadline` passes (`None`: the deadline passed first).
pub(crate) async fn until<F: Future>(deadline: Option<tokio::time::Instant>, io: F) -> Option<F::Output> {
    let Some(deadline) = deadline else {
        return Some(io.await);
    };
    tokio::select! {
        biased;
        out = io => Some(out),
        () = tokio::time::sleep_until(deadline) => None,
    }
}

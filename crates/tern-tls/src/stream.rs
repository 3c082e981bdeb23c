//! [`TlsStream`]: a [`TlsSession`] over any `Read + Write` transport, as a `Read + Write`
//! stream itself. Blocking sockets block; non-blocking ones return `WouldBlock`, and the
//! next call resumes where the session stopped (ESP-IDF's `is_async` over TLS).

use std::io::{self, IoSlice, Read, Write};
use std::vec::Vec;

use crate::error::TlsError;
use crate::session::{self, Handshake, TlsSession};

/// The [`TlsError`] inside an I/O error from a [`TlsStream`], if that is what it is.
pub fn tls_error(e: &io::Error) -> Option<&TlsError> {
    e.get_ref()?.downcast_ref::<TlsError>()
}

fn to_io(e: TlsError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A TLS session and its transport. Every call first writes whatever ciphertext is pending.
#[derive(Debug)]
pub struct TlsStream<S, B = Vec<u8>> {
    session: TlsSession<B>,
    io: S,
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>> TlsStream<S, B> {
    /// Joins a session to its transport; the handshake runs on the first call (or on
    /// [`handshake`](Self::handshake)).
    pub fn new(session: TlsSession<B>, io: S) -> Self {
        TlsStream { session, io }
    }

    /// Runs the handshake to its end. A TLS failure is an `InvalidData` error carrying the
    /// [`TlsError`] (see [`tls_error`]); the alert that tells the peer is written on the way
    /// out when the transport allows.
    pub fn handshake(&mut self) -> io::Result<()> {
        loop {
            match self.session.handshake() {
                Ok(Handshake::Done) => return Ok(()),
                Ok(Handshake::Transmit) => self.flush_output()?,
                Ok(Handshake::Receive) => {
                    let n = self.io.read(self.session.input_space())?;
                    self.session.received(n);
                }
                Err(e) => {
                    let _ = self.flush_output();
                    return Err(to_io(e));
                }
            }
        }
    }

    /// Writes all pending ciphertext.
    pub fn flush_output(&mut self) -> io::Result<()> {
        while self.session.has_output() {
            let n = self.io.write(self.session.output())?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.session.transmitted(n);
        }
        Ok(())
    }

    /// Sends `close_notify` (when the handshake completed) and writes it out.
    pub fn close(&mut self) -> io::Result<()> {
        self.session.close().map_err(to_io)?;
        self.flush_output()
    }

    /// The session.
    pub fn session(&self) -> &TlsSession<B> {
        &self.session
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably (to set timeouts; reading or writing it breaks the session).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The session and the transport.
    pub fn into_parts(self) -> (TlsSession<B>, S) {
        (self.session, self.io)
    }
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>> Read for TlsStream<S, B> {
    /// Plaintext; `Ok(0)` once the peer closed (with `close_notify` or not: see
    /// [`TlsSession::peer_closed`]).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.session.is_handshaking() {
            self.handshake()?;
        }
        loop {
            self.flush_output()?;
            match self.session.read(buf).map_err(to_io)? {
                session::Read::Data(n) => return Ok(n),
                session::Read::Closed { .. } => return Ok(0),
                session::Read::NeedInput => {
                    let n = self.io.read(self.session.input_space())?;
                    self.session.received(n);
                }
            }
        }
    }
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>> Write for TlsStream<S, B> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    /// Encrypts from the first two non-empty slices. Accepted bytes are encrypted; if the
    /// transport then blocks, they go out on the next call.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.session.is_handshaking() {
            self.handshake()?;
        }
        self.flush_output()?;
        let mut parts = bufs.iter().filter(|b| !b.is_empty());
        let first: &[u8] = parts.next().map_or(&[], |b| b);
        let second: &[u8] = parts.next().map_or(&[], |b| b);
        if first.is_empty() {
            return Ok(0);
        }
        let n = self.session.write([first, second]).map_err(to_io)?;
        match self.flush_output() {
            Ok(()) => Ok(n),
            Err(e) if n > 0 && matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(n),
            Err(e) => Err(e),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_output()?;
        self.io.flush()
    }
}

//! TLS over a [`Transport`]: the I/O a [`TlsSession`] asks for, done with the transport's
//! async reads and writes under the engine's deadline.
//!
//! The client keeps the session and its caller-provided buffer (a `&'a mut [u8]` of
//! [`TlsBufferLayout::buffer_len`](tern_tls::TlsBufferLayout::buffer_len) bytes, 49,482 at
//! the default layout) between connects: the buffer moves into the session at the handshake
//! and comes back when the connection closes.

use embassy_time::TimeoutError;
use tern_proto::Instant;
use tern_tls::{Handshake, Read as TlsRead, TlsError, TlsSession};

use crate::clock::until;
use crate::transport::Transport;

/// The session type the client keeps: over the caller's buffer.
pub(crate) type Session<'a> = TlsSession<&'a mut [u8]>;

/// Why a TLS step did not complete.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The engine's deadline passed.
    Timeout,
    /// The transport failed or ended.
    Transport,
    /// TLS failed; the session queued the alert (written on the way out when possible).
    Tls(TlsError),
}

impl From<TimeoutError> for Fail {
    fn from(_: TimeoutError) -> Self {
        Fail::Timeout
    }
}

/// Writes all pending ciphertext.
pub(crate) async fn flush<T: Transport>(
    session: &mut Session<'_>,
    transport: &mut T,
    deadline: Option<Instant>,
) -> Result<(), Fail> {
    while session.has_output() {
        match until(deadline, transport.write(session.output())).await? {
            Ok(0) | Err(_) => return Err(Fail::Transport),
            Ok(n) => session.transmitted(n),
        }
    }
    Ok(())
}

/// Reads ciphertext into the session; 0 marks the end of the transport's stream.
async fn fill<T: Transport>(
    session: &mut Session<'_>,
    transport: &mut T,
    deadline: Option<Instant>,
) -> Result<(), Fail> {
    match until(deadline, transport.read(session.input_space())).await? {
        Ok(n) => {
            session.received(n);
            Ok(())
        }
        Err(_) => Err(Fail::Transport),
    }
}

/// Runs the handshake to its end.
pub(crate) async fn handshake<T: Transport>(
    session: &mut Session<'_>,
    transport: &mut T,
    deadline: Option<Instant>,
) -> Result<(), Fail> {
    loop {
        match session.handshake() {
            Ok(Handshake::Done) => return Ok(()),
            Ok(Handshake::Transmit) => flush(session, transport, deadline).await?,
            Ok(Handshake::Receive) => fill(session, transport, deadline).await?,
            Err(e) => {
                let _ = flush(session, transport, deadline).await;
                return Err(Fail::Tls(e));
            }
        }
    }
}

/// Encrypts from `parts` and writes it all out; returns the plaintext bytes taken.
pub(crate) async fn write<T: Transport>(
    session: &mut Session<'_>,
    transport: &mut T,
    parts: [&[u8]; 2],
    deadline: Option<Instant>,
) -> Result<usize, Fail> {
    flush(session, transport, deadline).await?;
    let n = session.write(parts).map_err(Fail::Tls)?;
    flush(session, transport, deadline).await?;
    if n == 0 { Err(Fail::Transport) } else { Ok(n) }
}

/// Decrypted bytes into `buf` (0 at the end of the stream).
pub(crate) async fn read<T: Transport>(
    session: &mut Session<'_>,
    transport: &mut T,
    buf: &mut [u8],
    deadline: Option<Instant>,
) -> Result<usize, Fail> {
    loop {
        flush(session, transport, deadline).await?;
        match session.read(buf) {
            Ok(TlsRead::Data(n)) => return Ok(n),
            Ok(TlsRead::Closed { .. }) => return Ok(0),
            Ok(TlsRead::NeedInput) => fill(session, transport, deadline).await?,
            Err(e) => {
                let _ = flush(session, transport, deadline).await;
                return Err(Fail::Tls(e));
            }
        }
    }
}

/// Sends `close_notify` (best effort, within `deadline`).
pub(crate) async fn close<T: Transport>(session: &mut Session<'_>, transport: &mut T, deadline: Option<Instant>) {
    if session.close().is_ok() {
        let _ = flush(session, transport, deadline).await;
    }
}

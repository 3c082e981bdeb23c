//! What the client runs over: a [`Transport`] is an [`embedded_io_async`] stream that can
//! also open and close its connection.
//!
//! [`TcpTransport`](crate::net::TcpTransport) is embassy-net's `TcpSocket` with DNS. Any
//! other stream that is already connected (a UART bridge, a socket of another stack, a test's
//! pipe) becomes a transport with [`Connected`]: it serves one connection, and a reconnect
//! (after the server closed, or for a redirect to another host) fails with
//! [`ConnectError::CannotReconnect`].

use embedded_io_async::{Read, Write};

/// Why a connection could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The name did not resolve (or DNS is not enabled on the stack).
    #[error("the host name did not resolve")]
    Resolve,
    /// The peer refused or reset the connection, or no route leads there.
    #[error("the connection was refused or reset, or no route leads there")]
    Refused,
    /// The transport's own connect timeout passed (the engine's deadline is separate).
    #[error("the connect timed out")]
    TimedOut,
    /// A [`Connected`] stream serves one connection only.
    #[error("this transport was given one connection and cannot open another")]
    CannotReconnect,
}

/// An [`embedded_io_async`] stream that opens and closes its own connection.
///
/// The client calls [`connect`](Transport::connect) when its engine asks for a connection,
/// reads and writes through `Read` and `Write`, and calls [`close`](Transport::close) when
/// the engine closes it (keep-alive reuse means: not after every request).
///
/// Futures of embedded executors are not `Send`, so these `async fn`s promise nothing about
/// it.
#[allow(async_fn_in_trait)]
pub trait Transport: Read + Write {
    /// Opens a connection to `host` (a name, an IPv4 address, or an IPv6 address without
    /// brackets) on `port`. Called only while no connection is open.
    async fn connect(&mut self, host: &str, port: u16) -> Result<(), ConnectError>;

    /// Closes the connection gracefully, so that the next [`connect`](Transport::connect)
    /// can open another. Must not fail: a connection that cannot close cleanly is aborted.
    async fn close(&mut self);
}

/// A stream that is already connected, as a [`Transport`] for one connection.
///
/// ```
/// # async fn demo<S: embedded_io_async::Read + embedded_io_async::Write>(stream: S) {
/// use tern_embassy::transport::Connected;
/// let transport = Connected::new(stream);
/// # }
/// ```
#[derive(Debug)]
pub struct Connected<S> {
    stream: S,
    used: bool,
    closed: bool,
}

impl<S> Connected<S> {
    /// Wraps a connected stream.
    pub fn new(stream: S) -> Self {
        Connected { stream, used: false, closed: false }
    }

    /// The stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: embedded_io_async::ErrorType> embedded_io_async::ErrorType for Connected<S> {
    type Error = S::Error;
}

impl<S: Read> Read for Connected<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.closed {
            return Ok(0);
        }
        self.stream.read(buf).await
    }
}

impl<S: Write> Write for Connected<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if self.closed {
            return Ok(0);
        }
        self.stream.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.stream.flush().await
    }
}

impl<S: Read + Write> Transport for Connected<S> {
    async fn connect(&mut self, _host: &str, _port: u16) -> Result<(), ConnectError> {
        if self.used {
            return Err(ConnectError::CannotReconnect);
        }
        self.used = true;
        Ok(())
    }

    async fn close(&mut self) {
        let _ = self.stream.flush().await;
        self.closed = true;
    }
}

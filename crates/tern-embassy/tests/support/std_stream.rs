//! `embedded_io_async` over a real `std::net::TcpStream`.
//!
//! [`StdStream`] puts the stream in non-blocking mode and answers `WouldBlock` with
//! `embassy_futures::yield_now()`, so an embassy-side client future can share one
//! `embassy_futures::block_on` (a busy loop) with other futures while it talks to a server on
//! another thread (a std listener thread, or a tern-tokio server on its own runtime thread).
//! Nothing ever blocks the executor thread, and no waker is needed: a pending read is retried on
//! the next turn of the loop.
//!
//! Not embedded-io-adapters: its `FromStd` gives the blocking `embedded_io` traits, not the async
//! ones, and its `FromTokio` needs a tokio reactor on the polling thread's context and real
//! wakers, which `embassy_futures::block_on` (a no-op waker) does not give; a 60-line adapter
//! without either is simpler than a dependency that needs both.

use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};

use embassy_futures::yield_now;
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};

/// A `std::io::Error` as an `embedded_io_async` error.
#[derive(Debug)]
pub(crate) struct StdIoError(pub(crate) io::Error);

impl core::fmt::Display for StdIoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl core::error::Error for StdIoError {}

impl embedded_io_async::Error for StdIoError {
    fn kind(&self) -> ErrorKind {
        match self.0.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset => ErrorKind::ConnectionReset,
            io::ErrorKind::ConnectionAborted => ErrorKind::ConnectionAborted,
            io::ErrorKind::NotConnected => ErrorKind::NotConnected,
            io::ErrorKind::AddrInUse => ErrorKind::AddrInUse,
            io::ErrorKind::AddrNotAvailable => ErrorKind::AddrNotAvailable,
            io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
            io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            io::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
            io::ErrorKind::InvalidData => ErrorKind::InvalidData,
            io::ErrorKind::TimedOut => ErrorKind::TimedOut,
            io::ErrorKind::Interrupted => ErrorKind::Interrupted,
            io::ErrorKind::Unsupported => ErrorKind::Unsupported,
            io::ErrorKind::OutOfMemory => ErrorKind::OutOfMemory,
            io::ErrorKind::WriteZero => ErrorKind::WriteZero,
            _ => ErrorKind::Other,
        }
    }
}

/// A non-blocking `std::net::TcpStream` with `embedded_io_async::{Read, Write}`.
#[derive(Debug)]
pub(crate) struct StdStream {
    stream: TcpStream,
}

impl StdStream {
    /// Connects (blocking, which on loopback is immediate) and wraps the stream.
    pub(crate) fn connect(addr: impl ToSocketAddrs) -> io::Result<Self> {
        Self::new(TcpStream::connect(addr)?)
    }

    /// Wraps a connected stream: non-blocking, and `TCP_NODELAY` so small writes leave at once.
    pub(crate) fn new(stream: TcpStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(Self { stream })
    }

    /// A second handle on the same connection (e.g. a writer next to a reader in a `join`).
    pub(crate) fn try_clone(&self) -> io::Result<Self> {
        Ok(Self { stream: self.stream.try_clone()? })
    }

    /// The wrapped stream (e.g. for `peer_addr`).
    pub(crate) fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// The peer's address.
    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// Sends FIN: the peer reads end of stream, we can still read.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}

impl ErrorType for StdStream {
    type Error = StdIoError;
}

impl Read for StdStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, StdIoError> {
        loop {
            match self.stream.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => yield_now().await,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StdIoError(e)),
            }
        }
    }
}

impl Write for StdStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, StdIoError> {
        loop {
            match self.stream.write(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => yield_now().await,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StdIoError(e)),
            }
        }
    }

    async fn flush(&mut self) -> Result<(), StdIoError> {
        // The kernel sends what `write` accepted; `TcpStream::flush` is a no-op.
        Ok(())
    }
}

/// `embassy_futures::block_on(future)`, failing with a panic if `future` has not finished after
/// [`WATCHDOG`](super::WATCHDOG): for tests that need no in-memory stacks (e.g. [`StdStream`]
/// against a server thread).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    embassy_futures::block_on(async {
        match embassy_time::with_timeout(super::WATCHDOG, future).await {
            Ok(output) => output,
            Err(_) => panic!("test future still running after {} s", super::WATCHDOG.as_secs()),
        }
    })
}

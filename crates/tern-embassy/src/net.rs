//! [`TcpTransport`]: embassy-net's `TcpSocket` as a [`Transport`], with names resolved
//! through the stack's DNS.

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::{self, State, TcpSocket};
use embassy_net::{IpAddress, Stack};
use embassy_time::{Duration, with_timeout};
use embedded_io_async::{ErrorType, Read, Write};

use crate::transport::{ConnectError, Transport};

/// How long a graceful close may wait for the peer to acknowledge the last bytes and the FIN
/// before the socket is aborted (reset) so it can connect again.
pub const CLOSE_LINGER: Duration = Duration::from_millis(500);

/// One TCP connection at a time over an embassy-net [`Stack`], on buffers the caller owns.
///
/// ```no_run
/// # async fn demo(stack: embassy_net::Stack<'_>) {
/// let (mut rx, mut tx) = ([0u8; 1536], [0u8; 1536]);
/// let transport = tern_embassy::net::TcpTransport::new(stack, &mut rx, &mut tx);
/// # }
/// ```
pub struct TcpTransport<'a> {
    stack: Stack<'a>,
    socket: TcpSocket<'a>,
}

impl<'a> TcpTransport<'a> {
    /// A transport whose socket uses these receive and transmit buffers (their sizes are the
    /// TCP windows).
    pub fn new(stack: Stack<'a>, rx_buffer: &'a mut [u8], tx_buffer: &'a mut [u8]) -> Self {
        let mut socket = TcpSocket::new(stack, rx_buffer, tx_buffer);
        // The engine hands over whole heads and body pieces: Nagle would only delay them.
        socket.set_nagle_enabled(false);
        TcpTransport { stack, socket }
    }

    /// The socket.
    pub fn socket(&mut self) -> &mut TcpSocket<'a> {
        &mut self.socket
    }
}

impl ErrorType for TcpTransport<'_> {
    type Error = tcp::Error;
}

impl Read for TcpTransport<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.socket.read(buf).await
    }
}

impl Write for TcpTransport<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.socket.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.socket.flush().await
    }
}

impl Transport for TcpTransport<'_> {
    async fn connect(&mut self, host: &str, port: u16) -> Result<(), ConnectError> {
        if self.socket.state() != State::Closed {
            self.socket.abort();
        }
        let address = resolve(self.stack, host).await?;
        self.socket.connect((address, port)).await.map_err(|e| match e {
            tcp::ConnectError::TimedOut => ConnectError::TimedOut,
            _ => ConnectError::Refused,
        })
    }

    async fn close(&mut self) {
        close_gracefully(&mut self.socket, CLOSE_LINGER).await;
    }
}

/// Closes `socket` the way a peer expects: FIN after the last byte, waiting (at most `linger`)
/// until everything is acknowledged, then abort so it is `Closed` and can be used again.
/// Dropping a socket whose data the peer has not acknowledged costs the peer a retransmit
/// timeout instead.
pub async fn close_gracefully(socket: &mut TcpSocket<'_>, linger: Duration) {
    socket.close();
    let _ = with_timeout(linger, async {
        let _ = socket.flush().await;
        while !matches!(socket.state(), State::Closed | State::TimeWait) {
            // Readable data after our FIN is the peer's; it is discarded.
            let mut sink = [0u8; 64];
            match with_timeout(Duration::from_millis(20), socket.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                _ => {}
            }
        }
    })
    .await;
    socket.abort();
    let _ = with_timeout(Duration::from_millis(50), socket.flush()).await;
}

/// A host name or address literal to an address, through the stack's DNS (A, then AAAA with
/// feature `ipv6`).
async fn resolve(stack: Stack<'_>, host: &str) -> Result<IpAddress, ConnectError> {
    #[cfg(feature = "ipv6")]
    let kinds = [DnsQueryType::A, DnsQueryType::Aaaa];
    #[cfg(not(feature = "ipv6"))]
    let kinds = [DnsQueryType::A];
    for qtype in kinds {
        if let Ok(addresses) = stack.dns_query(host, qtype).await
            && let Some(address) = addresses.first()
        {
            return Ok(*address);
        }
    }
    Err(ConnectError::Resolve)
}

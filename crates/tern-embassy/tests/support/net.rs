//! Two embassy-net stacks joined in memory.
//!
//! Each stack has an `embassy-net-driver-channel` device with hardware address
//! [`HardwareAddress::Ip`] (medium IP: no Ethernet header, no ARP) and an MTU of [`MTU`]. The
//! *shuttle* is one future that owns the lower (runner) ends of both channels: it takes every
//! packet a stack transmits off that stack's TX channel at once, into an unbounded queue per
//! direction, and copies queued packets into the other stack's RX channel while it has room.
//! Draining TX unconditionally matters: a driver-channel device only receives while it also has
//! TX room, so a shuttle that held a packet until the peer's RX had room could deadlock two stacks
//! that are both sending (TX A full, RX B full, TX B full, RX A full). [`Link`] counts packets and
//! can cut the wire (packets are then dropped, as on a dead link).
//!
//! [`run`] / [`run_net`] build the pair on the heap, set both links up and run the two stack
//! runners, the shuttle and the test future on `embassy_futures::block_on` (a busy loop with a
//! no-op waker: every future is polled on every turn, so nothing depends on wakers, and timers
//! are checked against the embassy-time std clock on each poll). The test future is wrapped in a
//! [`WATCHDOG`] timeout so a hang fails the test instead of stalling the run.
//!
//! Measured (2 cores, debug build; release in brackets): a 100 KB echo with 16 KiB buffers,
//! connect to graceful close, 14 ms [0.2-0.45 ms]; 1 MiB upload 80 ms [0.6 ms]. Bulk transfer
//! never waits on a timer. What does wait on smoltcp's 10 ms delayed ACK: `flush()` after a small
//! write (`TcpSocket::flush` waits for the ACK, not just for the send), and, with Nagle on, a
//! second small segment while the first is unacknowledged (10 ms each; 0.2 ms with Nagle off).

use core::future::poll_fn;
use core::task::{Context, Poll};
use std::cell::Cell;
use std::collections::VecDeque;

use embassy_futures::select::{Either, select};
use embassy_net::tcp::{State, TcpSocket};
use embassy_net::{Config, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv4Cidr, Stack, StackResources, StaticConfigV4};
use embassy_net_driver_channel as ch;
use embassy_net_driver_channel::driver::{HardwareAddress, LinkState};
use embassy_time::{Duration, Timer, with_timeout};

/// Stack A's address (the "server" side by convention): 10.0.0.1/24.
pub(crate) const ADDR_A: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
/// Stack B's address (the "client" side by convention): 10.0.0.2/24.
pub(crate) const ADDR_B: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
/// IP MTU of both devices (medium IP, so the whole packet is the IP datagram): MSS 1460.
pub(crate) const MTU: usize = 1500;
/// Packets each driver channel holds per direction.
const QUEUE: usize = 16;
/// Socket slots per stack (embassy-net's DNS socket takes one of them).
const SOCKETS: usize = 8;
/// A test future that has not finished after this long fails with a panic.
pub(crate) const WATCHDOG: Duration = Duration::from_secs(20);
/// How long [`close_gracefully`] waits for the closing handshake before aborting.
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_millis(250);

type ChannelState = ch::State<MTU, QUEUE, QUEUE>;

/// The two stacks of one [`run_net`] and the wire between them.
#[derive(Clone, Copy)]
pub(crate) struct Net<'a> {
    /// Stack A, 10.0.0.1.
    pub(crate) a: Stack<'a>,
    /// Stack B, 10.0.0.2.
    pub(crate) b: Stack<'a>,
    /// The wire: packet counters and a switch to cut it.
    pub(crate) link: &'a Link,
}

/// The in-memory wire between the stacks: counters, and a switch that drops packets.
#[derive(Debug, Default)]
pub(crate) struct Link {
    cut: Cell<bool>,
    a_to_b: Cell<u64>,
    b_to_a: Cell<u64>,
    dropped: Cell<u64>,
}

impl Link {
    /// Cuts (`true`) or restores (`false`) the wire; while cut, packets in both directions are
    /// taken off the senders' TX channels and dropped.
    pub(crate) fn set_cut(&self, cut: bool) {
        self.cut.set(cut);
    }

    /// Packets delivered from A to B so far.
    pub(crate) fn packets_a_to_b(&self) -> u64 {
        self.a_to_b.get()
    }

    /// Packets delivered from B to A so far.
    pub(crate) fn packets_b_to_a(&self) -> u64 {
        self.b_to_a.get()
    }

    /// Packets dropped on a cut wire so far.
    pub(crate) fn packets_dropped(&self) -> u64 {
        self.dropped.get()
    }
}

/// One direction of the wire: the sender's TX runner, the receiver's RX runner and the packets
/// in between.
struct Direction<'d> {
    tx: ch::TxRunner<'d, MTU>,
    rx: ch::RxRunner<'d, MTU>,
    queue: VecDeque<Vec<u8>>,
}

impl Direction<'_> {
    /// Moves what can be moved now: all of the sender's TX into the queue, then as much of the
    /// queue as the receiver's RX has room for. Leaves both wakers registered.
    fn pump(&mut self, cx: &mut Context<'_>, link: &Link, delivered: &Cell<u64>) {
        while let Poll::Ready(packet) = self.tx.poll_tx_buf(cx) {
            if link.cut.get() {
                link.dropped.set(link.dropped.get() + 1);
            } else {
                self.queue.push_back(packet.to_vec());
            }
            self.tx.tx_done();
        }
        while let Some(packet) = self.queue.front() {
            let Poll::Ready(buf) = self.rx.poll_rx_buf(cx) else {
                break;
            };
            let len = packet.len();
            buf[..len].copy_from_slice(packet);
            self.rx.rx_done(len);
            self.queue.pop_front();
            delivered.set(delivered.get() + 1);
        }
    }
}

fn stack_config(address: Ipv4Address) -> Config {
    Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(address, 24),
        gateway: None,
        dns_servers: Default::default(),
    })
}

/// Builds stacks A and B, joined in memory, and runs `test` with them until it completes (or
/// the [`WATCHDOG`] fires); the stacks, their sockets and buffers are gone when this returns.
///
/// Put an accepting future before the connecting one in a `join`: `accept` starts listening on
/// its first poll, and a SYN that arrives before that is answered with a RST.
pub(crate) fn run<T>(test: impl AsyncFnOnce(Stack<'_>, Stack<'_>) -> T) -> T {
    run_net(async |net: Net<'_>| test(net.a, net.b).await)
}

/// [`run`], with the [`Link`] too.
pub(crate) fn run_net<T>(test: impl AsyncFnOnce(Net<'_>) -> T) -> T {
    // Heap-allocated so that large MTU/queue settings cannot overflow a test thread's stack.
    let mut chan_a: Box<ChannelState> = Box::new(ch::State::new());
    let mut chan_b: Box<ChannelState> = Box::new(ch::State::new());
    let mut res_a: Box<StackResources<SOCKETS>> = Box::new(StackResources::new());
    let mut res_b: Box<StackResources<SOCKETS>> = Box::new(StackResources::new());

    let (runner_a, device_a) = ch::new(&mut *chan_a, HardwareAddress::Ip);
    let (runner_b, device_b) = ch::new(&mut *chan_b, HardwareAddress::Ip);
    let (a, mut stack_runner_a) = embassy_net::new(device_a, stack_config(ADDR_A), &mut *res_a, 1);
    let (b, mut stack_runner_b) = embassy_net::new(device_b, stack_config(ADDR_B), &mut *res_b, 2);

    let (state_a, rx_a, tx_a) = runner_a.split();
    let (state_b, rx_b, tx_b) = runner_b.split();
    state_a.set_link_state(LinkState::Up);
    state_b.set_link_state(LinkState::Up);

    let link = Link::default();
    let mut a_to_b = Direction { tx: tx_a, rx: rx_b, queue: VecDeque::new() };
    let mut b_to_a = Direction { tx: tx_b, rx: rx_a, queue: VecDeque::new() };
    let shuttle = poll_fn(|cx| {
        a_to_b.pump(cx, &link, &link.a_to_b);
        b_to_a.pump(cx, &link, &link.b_to_a);
        Poll::<()>::Pending
    });

    let background = embassy_futures::join::join3(stack_runner_a.run(), stack_runner_b.run(), shuttle);
    let net = Net { a, b, link: &link };
    let test = async {
        a.wait_link_up().await;
        b.wait_link_up().await;
        test(net).await
    };
    embassy_futures::block_on(async {
        match select(background, with_timeout(WATCHDOG, test)).await {
            Either::First(_) => unreachable!("the stack runners and the shuttle never finish"),
            Either::Second(Ok(output)) => output,
            Either::Second(Err(_)) => panic!("test future still running after {} s", WATCHDOG.as_secs()),
        }
    })
}

/// Receive and transmit buffers for one [`TcpSocket`], on the heap.
pub(crate) struct SocketBuffers {
    rx: Box<[u8]>,
    tx: Box<[u8]>,
}

impl SocketBuffers {
    /// `rx` bytes of receive buffer (the advertised window; above 64 KiB smoltcp scales it) and
    /// `tx` bytes of transmit buffer.
    pub(crate) fn new(rx: usize, tx: usize) -> Self {
        Self { rx: vec![0; rx].into_boxed_slice(), tx: vec![0; tx].into_boxed_slice() }
    }

    /// A new socket on `stack` over these buffers, with embassy-net's defaults (Nagle on, no
    /// timeout, no keep-alive; smoltcp's 10 ms delayed ACK, which embassy-net cannot change).
    ///
    /// Measured costs of those defaults (see the module docs): `flush()` waits until the peer
    /// acknowledges everything, so after a small write it waits out the peer's 10 ms delayed
    /// ACK; with Nagle on, a small write made after an earlier small segment has left waits for
    /// that ACK too. Writes made in the same turn coalesce into one segment at no cost.
    pub(crate) fn socket<'a>(&'a mut self, stack: Stack<'a>) -> TcpSocket<'a> {
        TcpSocket::new(stack, &mut self.rx, &mut self.tx)
    }
}

impl Default for SocketBuffers {
    /// 16 KiB each way, a typical embedded size.
    fn default() -> Self {
        Self::new(16 * 1024, 16 * 1024)
    }
}

/// A socket on `stack` that has accepted one connection on `port`; panics if accepting fails.
pub(crate) async fn accept<'a>(stack: Stack<'a>, buffers: &'a mut SocketBuffers, port: u16) -> TcpSocket<'a> {
    let mut socket = buffers.socket(stack);
    socket
        .accept(IpListenEndpoint { addr: None, port })
        .await
        .unwrap_or_else(|e| panic!("accept on port {port}: {e:?}"));
    socket
}

/// A socket on `stack` connected to `remote` (e.g. `(ADDR_A, 80)`); panics if connecting fails.
pub(crate) async fn connect<'a>(
    stack: Stack<'a>,
    buffers: &'a mut SocketBuffers,
    remote: impl Into<IpEndpoint>,
) -> TcpSocket<'a> {
    let remote = remote.into();
    let mut socket = buffers.socket(stack);
    socket.connect(remote).await.unwrap_or_else(|e| panic!("connect to {remote}: {e:?}"));
    socket
}

/// How [`close_gracefully`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseOutcome {
    /// Our data and FIN were acknowledged, the peer's FIN arrived, the socket reached Closed or
    /// TimeWait; `discarded` bytes the peer still sent were read and thrown away.
    Graceful {
        /// Bytes received after the close and dropped.
        discarded: usize,
    },
    /// The handshake did not finish within the timeout (or the connection was reset); the
    /// socket was aborted (RST sent).
    Aborted {
        /// The state the socket was stuck in.
        state: State,
    },
}

impl CloseOutcome {
    /// Whether the closing handshake completed.
    pub(crate) fn is_graceful(self) -> bool {
        matches!(self, Self::Graceful { .. })
    }
}

/// Closes `socket` the way every test should before dropping it: `close()` (FIN after the
/// queued data), `flush()` (until our data and FIN are acknowledged), read and discard until the
/// peer's FIN, then wait until the state is Closed or TimeWait. If that takes longer than
/// [`CLOSE_TIMEOUT`] (the peer never closes, or the connection was reset), `abort()` and flush
/// the RST. In memory the whole handshake takes microseconds.
///
/// Why: `TcpSocket`'s `Drop` only removes the socket from the stack and sends nothing, and
/// `close()` alone only queues the FIN for the stack runner's next poll. A socket dropped right
/// after `close()` (or without it) never sends its FIN, so a peer reading until end of stream
/// waits for its own timeout (measured here: forever, up to the [`WATCHDOG`]); a lost or
/// unacknowledged segment costs a retransmission, and smoltcp's minimum RTO is 1 s. Both ends may
/// call this at once (in a `join`); the side that closed first ends in TimeWait, which a drop then
/// discards at no cost (no 10 s TIME_WAIT to wait out: the socket is simply removed).
pub(crate) async fn close_gracefully(socket: &mut TcpSocket<'_>) -> CloseOutcome {
    socket.close();
    let mut discarded = 0;
    let handshake = with_timeout(CLOSE_TIMEOUT, async {
        if socket.flush().await.is_err() {
            return false;
        }
        let mut scratch = [0; 1024];
        loop {
            match socket.read(&mut scratch).await {
                Ok(0) => break,
                Ok(n) => discarded += n,
                Err(_) => return false,
            }
        }
        loop {
            match socket.state() {
                State::Closed | State::TimeWait => return true,
                _ => Timer::after_millis(1).await,
            }
        }
    })
    .await;
    if handshake == Ok(true) {
        return CloseOutcome::Graceful { discarded };
    }
    let state = socket.state();
    socket.abort();
    let _ = with_timeout(CLOSE_TIMEOUT, socket.flush()).await;
    CloseOutcome::Aborted { state }
}

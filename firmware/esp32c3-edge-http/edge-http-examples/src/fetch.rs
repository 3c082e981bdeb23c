//! The client side of the firmware: GET a URL with edge-http's client and report the status
//! and the body's length, as tern-embassy-examples' `fetch::get` does.
//!
//! edge-http's client takes a socket address, a method, a path and the header fields: the
//! URL is split here (`http://host[:port][/path]`), the host resolved with the network
//! stack's DNS (edge-nal's `Dns`). What tern's client does that this one does not: https,
//! redirects (ESP-IDF's client follows them), and a URL's user info or fragment.

use core::fmt::{self, Debug, Display};
use core::net::{IpAddr, SocketAddr};

use edge_http::Method;
use edge_http::io::client::Connection;
use edge_nal::{AddrType, Dns, TcpConnect};
use embedded_io_async::Read;

/// What a GET brought back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// The response's status.
    pub status: u16,
    /// Body bytes received.
    pub body_len: u64,
}

/// Why a GET failed: `C` is the socket's error, `D` the resolver's.
#[derive(Debug)]
pub enum Error<C, D> {
    /// Not an `http://` URL this client can split.
    Url,
    /// The host did not resolve.
    Dns(D),
    /// edge-http's error: connecting, the socket, the response's framing.
    Http(edge_http::io::Error<C>),
}

impl<C, D> From<edge_http::io::Error<C>> for Error<C, D> {
    fn from(e: edge_http::io::Error<C>) -> Self {
        Error::Http(e)
    }
}

impl<C: Debug, D: Debug> Display for Error<C, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url => f.write_str("not an http:// URL"),
            Error::Dns(e) => write!(f, "DNS: {e:?}"),
            Error::Http(e) => write!(f, "HTTP: {e:?}"),
        }
    }
}

/// An `http://` URL's parts.
struct Url<'a> {
    /// `host[:port]`, for the `Host` field.
    authority: &'a str,
    host: &'a str,
    port: u16,
    /// The path and query, `/` when empty.
    target: &'a str,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Option<Url<'a>> {
        let rest = url.strip_prefix("http://")?;
        let (authority, target) = match rest.find('/') {
            Some(i) => (rest.get(..i)?, rest.get(i..)?),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (authority, 80),
        };
        (!host.is_empty()).then_some(Url { authority, host, port, target })
    }
}

/// GETs `url` over sockets from `tcp`, resolving its host with `dns`, with the connection
/// buffer `buf` (the response head must fit), reading the body in pieces of `piece.len()`.
pub async fn get<T: TcpConnect, D: Dns>(
    url: &str,
    tcp: &T,
    dns: &D,
    buf: &mut [u8],
    piece: &mut [u8],
) -> Result<Fetched, Error<T::Error, D::Error>> {
    let url = Url::parse(url).ok_or(Error::Url)?;
    let ip = match url.host.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => dns.get_host_by_name(url.host, AddrType::IPv4).await.map_err(Error::Dns)?,
    };
    let mut conn: Connection<'_, T> = Connection::new(buf, tcp, SocketAddr::new(ip, url.port));
    // Without a body length edge-http sends a GET's empty body chunked: say it is empty.
    let headers = [("Host", url.authority), ("Content-Length", "0")];
    conn.initiate_request(true, Method::Get, url.target, &headers).await?;
    conn.initiate_response().await?;
    let status = conn.headers()?.code;
    let mut body_len = 0u64;
    loop {
        match conn.read(piece).await? {
            0 => break,
            n => body_len += n as u64,
        }
    }
    conn.close().await?;
    Ok(Fetched { status, body_len })
}

//! What the tests of the example apps share: serving an app to real sockets, and curl.

use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;

use embassy_sync::blocking_mutex::raw::RawMutex;
use tern_embassy::server::{Handler, Server};

use crate::support::StdStream;

/// Serves every connection `listener` accepts, one after the other, on a thread of its own.
pub(crate) fn serve_real_socket<H, M, const TASKS: usize, const ROUTES: usize>(
    server: Server<H, M, TASKS, ROUTES>,
    listener: TcpListener,
) where
    H: Handler + 'static,
    M: RawMutex + 'static,
    Server<H, M, TASKS, ROUTES>: Send + Sync,
{
    let server = Arc::new(server);
    std::thread::spawn(move || {
        let mut engine = vec![0u8; tern_proto::server::ServerConfig::default().buffer_len()];
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let stream = StdStream::new(stream).unwrap();
            embassy_futures::block_on(server.serve_connection(stream, &mut engine)).unwrap();
        }
    });
}

/// curl with `args` (`-sS -i` first): its output with CRLF made LF, and its stderr.
pub(crate) fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl").args(["-sS", "-i"]).args(args).output().expect("curl");
    (String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"), String::from_utf8_lossy(&out.stderr).into_owned())
}

//! Helpers for peers that run as child processes: a free port, waiting until a port accepts,
//! running a command with a time limit.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How many times a peer is started on a fresh port when the port was taken in between.
pub(crate) const START_ATTEMPTS: usize = 3;

/// A loopback port that was free a moment ago (the listener is closed again, so another
/// process may take it before the peer binds it: callers retry on "Address already in use").
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}")).port()
}

/// Waits up to 5 s until `127.0.0.1:port` accepts a connection, or says why not (the child
/// exited, or the time ran out).
pub(crate) fn wait_until_accepting(child: &mut Child, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("exited with {status}")),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("not accepting on {addr} after 5 s"));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Kills and reaps a child; errors mean it is already gone.
pub(crate) fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `cmd` with `input` on its stdin (closed afterwards), collecting stdout and stderr;
/// kills it after `limit`, in which case the status is the kill signal's.
pub(crate) fn run_with_timeout(mut cmd: Command, input: &[u8], limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let stdin = child.stdin.take();
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            // The command may exit without reading it all; that is its answer, not an error.
            let _ = stdin.write_all(&input);
        }
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                break child.wait().unwrap_or_else(|e| panic!("cannot reap {:?}: {e}", cmd.get_program()));
            }
        }
    };
    let _ = writer.join();
    let join = |h: thread::JoinHandle<Vec<u8>>| h.join().unwrap_or_default();
    Output { status, stdout: join(stdout), stderr: join(stderr) }
}

/// Reads a pipe to its end on a thread, so the child never blocks on a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut out);
        }
        out
    })
}

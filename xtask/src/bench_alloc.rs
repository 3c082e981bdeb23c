//! Heap allocations per request, counted the same way for every contender whatever its
//! language: valgrind's dhat counts the blocks a whole process allocates, the process runs once
//! with [`FEW`] and once with [`MANY`] requests on one kept-alive connection, and the
//! difference divided by the difference in requests is what one more warm request costs.
//! Start-up, the connection's set-up and the exit cancel out.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::bench_peers::{Server, listening};
use crate::cmd::{Error, Result};

/// Requests in the shorter run.
pub(crate) const FEW: usize = 200;
/// Requests in the longer run.
pub(crate) const MANY: usize = 1200;

/// Whether valgrind is installed.
pub(crate) fn available() -> bool {
    crate::bench_peers::has("valgrind")
}

/// `program args` under dhat, its report in `log` (the profile itself is not kept).
pub(crate) fn under_dhat(program: &Path, args: &[&str], log: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=dhat", "--dhat-out-file=/dev/null"])
        .arg(format!("--log-file={}", log.display()))
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

/// The blocks dhat's report in `log` counts: its line `Total: B bytes in N blocks`.
fn total_blocks(log: &Path) -> Result<u64> {
    let text = fs::read_to_string(log).map_err(|e| Error::new(format!("cannot read {}: {e}", log.display())))?;
    text.lines()
        .find_map(|line| {
            let rest = line.split_once("Total:")?.1;
            let blocks = rest.split_once(" in ")?.1.trim().strip_suffix("blocks")?.trim();
            blocks.replace(',', "").parse().ok()
        })
        .ok_or_else(|| Error::new(format!("no `Total: … blocks` line in dhat's report {}:\n{text}", log.display())))
}

/// Allocations per request: `run(n, log)` makes `n` requests with dhat reporting to `log`.
pub(crate) fn per_request(dir: &Path, mut run: impl FnMut(usize, &Path) -> Result) -> Result<f64> {
    let mut blocks = [0u64; 2];
    for (slot, n) in blocks.iter_mut().zip([FEW, MANY]) {
        let log = dir.join(format!("dhat-{n}.log"));
        run(n, &log)?;
        *slot = total_blocks(&log)?;
    }
    let [few, many] = blocks;
    Ok((many as f64 - few as f64) / (MANY - FEW) as f64)
}

/// Runs `cmd` (a client under dhat) to its end; an error unless it succeeds.
pub(crate) fn run_client(mut cmd: Command, name: &str) -> Result {
    let status = cmd.status().map_err(|e| Error::new(format!("cannot run {name} under valgrind: {e}")))?;
    if status.success() { Ok(()) } else { Err(Error::new(format!("{name} under valgrind: {status}"))) }
}

/// A server under dhat: started by `cmd`, given `requests` by `drive` once it listens on
/// `port`, then ended with SIGTERM so that dhat reports.
pub(crate) fn run_server(cmd: &mut Command, name: &str, port: u16, drive: impl FnOnce() -> Result) -> Result {
    let child = cmd.spawn().map_err(|e| Error::new(format!("cannot start {name} under valgrind: {e}")))?;
    let server = listening(Server(child), name, port)?;
    drive()?;
    server.terminate()
}

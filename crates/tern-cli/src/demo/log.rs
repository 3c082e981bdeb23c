//! The demo's output: ESP-IDF style log lines (`I (123) TAG: message`, milliseconds since the
//! demo started) from the client, the server and the WebSocket client, and one summary line
//! per step. `--quiet` keeps only the summary lines.

use std::fmt::Display;
use std::io::Write;
use std::time::Instant;

/// Where every line of the demo goes: stdout, one whole line per write, from any thread.
#[derive(Debug)]
pub(crate) struct Log {
    start: Instant,
    quiet: bool,
}

impl Log {
    pub(crate) fn new(quiet: bool) -> Log {
        Log { start: Instant::now(), quiet }
    }

    /// Milliseconds since the demo started.
    pub(crate) fn millis(&self) -> u128 {
        self.start.elapsed().as_millis()
    }

    /// An information line, `I (ms) tag: message`.
    pub(crate) fn info(&self, tag: &str, message: impl Display) {
        self.line('I', tag, message);
    }

    /// An error line, `E (ms) tag: message`.
    pub(crate) fn error(&self, tag: &str, message: impl Display) {
        self.line('E', tag, message);
    }

    fn line(&self, level: char, tag: &str, message: impl Display) {
        if !self.quiet {
            print_line(&format!("{level} ({}) {tag}: {message}", self.millis()));
        }
    }

    /// A step's result: `✓ name: detail` or `✗ name: why`, printed even with `--quiet`.
    pub(crate) fn summary(&self, name: &str, result: &Result<String, String>) {
        let line = match result {
            Ok(detail) => format!("✓ {name}: {detail}"),
            Err(why) => format!("✗ {name}: {why}"),
        };
        print_line(&line);
    }

    /// A line printed as it is, even with `--quiet`.
    pub(crate) fn plain(&self, line: &str) {
        print_line(line);
    }
}

/// One line in one write, so that lines from the server's threads and the client's thread
/// never mix. A closed stdout is not the demo's failure.
fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

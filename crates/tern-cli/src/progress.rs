//! A progress bar on stderr for downloads to a file, drawn at most ten times a second.

use std::io::Write;
use std::time::{Duration, Instant};

/// Width of the bar in characters.
const WIDTH: usize = 30;
/// Least time between two redraws.
const INTERVAL: Duration = Duration::from_millis(100);

/// Progress of one body.
#[derive(Debug)]
pub(crate) struct Progress {
    total: Option<u64>,
    done: u64,
    start: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    pub(crate) fn new() -> Progress {
        Progress { total: None, done: 0, start: Instant::now(), last_draw: None }
    }

    /// A new response: its Content-Length, if any.
    pub(crate) fn restart(&mut self, total: Option<u64>) {
        self.total = total;
        self.done = 0;
        self.start = Instant::now();
    }

    /// `n` more body bytes arrived.
    pub(crate) fn advance(&mut self, n: usize) {
        self.done = self.done.saturating_add(n as u64);
        if self.last_draw.is_none_or(|t| t.elapsed() >= INTERVAL) {
            self.draw();
        }
    }

    /// Draws the final state and ends the line, if anything was drawn or received.
    pub(crate) fn finish(&mut self) {
        if self.last_draw.is_some() || self.done > 0 {
            self.draw();
            eprintln!();
        }
        self.last_draw = None;
    }

    fn draw(&mut self) {
        self.last_draw = Some(Instant::now());
        let line = render(self.total, self.done, self.start.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line:<72}");
        let _ = err.flush();
    }
}

/// One line of progress: a bar and percentage when the size is known, then bytes and rate.
fn render(total: Option<u64>, done: u64, elapsed: Duration) -> String {
    let rate = human(done as f64 / elapsed.as_secs_f64().max(0.001));
    match total {
        Some(total) if total > 0 => {
            let fraction = (done as f64 / total as f64).min(1.0);
            let filled = (fraction * WIDTH as f64) as usize;
            format!(
                "[{}{}] {:>3.0}% {}/{} {rate}/s",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled),
                fraction * 100.0,
                human(done as f64),
                human(total as f64)
            )
        }
        _ => format!("{} {rate}/s", human(done as f64)),
    }
}

/// Bytes with a binary unit.
fn human(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = UNITS[0];
    for next in UNITS.iter().skip(1) {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    if unit == UNITS[0] { format!("{value:.0} {unit}") } else { format!("{value:.1} {unit}") }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
    use super::*;

    #[test]
    fn renders_known_and_unknown_sizes() {
        let half = render(Some(2048), 1024, Duration::from_secs(1));
        assert!(half.starts_with(&format!("[{}{}]  50% 1.0 KiB/2.0 KiB", "#".repeat(15), " ".repeat(15))), "{half}");
        assert_eq!(render(None, 10, Duration::from_secs(1)), "10 B 10 B/s");
    }
}

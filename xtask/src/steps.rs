//! Named, timed steps for multi-step subcommands such as `ci`.
//!
//! [`Steps::run`] prints a banner before a step and its wall time after it; the first failing
//! step stops the sequence with an error naming the step. [`Steps::summary`] prints a table of
//! every step's outcome and time, also after a failure, so a CI log ends with the overview.

use std::time::{Duration, Instant};

use crate::cmd::{Result, format_duration};

/// How a step ended.
enum Outcome {
    Passed(Duration),
    Failed(Duration),
    Skipped(&'static str),
}

/// A sequence of `total` steps, run in order.
pub(crate) struct Steps {
    total: usize,
    started: Instant,
    done: Vec<(&'static str, Outcome)>,
}

impl Steps {
    /// A sequence of `total` steps (for the `[n/total]` counters).
    pub(crate) fn new(total: usize) -> Steps {
        Steps { total, started: Instant::now(), done: Vec::new() }
    }

    /// Runs the next step. On failure, prints the summary and returns an error naming the
    /// step, which the caller should propagate with `?`.
    pub(crate) fn run(&mut self, name: &'static str, body: impl FnOnce() -> Result) -> Result {
        let counter = format!("[{}/{}]", self.done.len() + 1, self.total);
        eprintln!("\n==> {counter} {name}");
        let started = Instant::now();
        let result = body();
        let took = started.elapsed();
        match result {
            Ok(()) => {
                eprintln!("<== {counter} {name}: ok in {}", format_duration(took));
                self.done.push((name, Outcome::Passed(took)));
                Ok(())
            }
            Err(error) => {
                eprintln!("<== {counter} {name}: FAILED after {}", format_duration(took));
                self.done.push((name, Outcome::Failed(took)));
                self.summary();
                Err(error.context(format!("step {counter} `{name}` failed")))
            }
        }
    }

    /// Records the next step as skipped, with the reason.
    pub(crate) fn skip(&mut self, name: &'static str, why: &'static str) {
        let counter = format!("[{}/{}]", self.done.len() + 1, self.total);
        eprintln!("\n==> {counter} {name}: skipped ({why})");
        self.done.push((name, Outcome::Skipped(why)));
    }

    /// Prints every step so far with its outcome and time, and the total.
    pub(crate) fn summary(&self) {
        let width = self.done.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        eprintln!("\nsummary:");
        for (i, (name, outcome)) in self.done.iter().enumerate() {
            let outcome = match outcome {
                Outcome::Passed(took) => format!("ok      {:>9}", format_duration(*took)),
                Outcome::Failed(took) => format!("FAILED  {:>9}", format_duration(*took)),
                Outcome::Skipped(why) => format!("skipped ({why})"),
            };
            eprintln!("  {:>2}. {name:<width$}  {outcome}", i + 1);
        }
        let not_run = self.total.saturating_sub(self.done.len());
        if not_run > 0 {
            eprintln!("  ({not_run} more not run)");
        }
        eprintln!("  total {}", format_duration(self.started.elapsed()));
    }
}

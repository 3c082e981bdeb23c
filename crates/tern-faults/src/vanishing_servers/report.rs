//! The scenario's report: what each lane saw ([`LaneReport`]), and the summary of all lanes,
//! one line per case with its outcomes and whom the errors blame, and the failures first
//! when there were any.

use std::collections::BTreeMap;
use std::time::Instant;

use super::script::CASES;

/// What one lane (one adapter, one flow) saw.
pub(super) struct LaneReport {
    pub(super) name: String,
    /// Per case: outcome → runs.
    pub(super) outcomes: Vec<BTreeMap<String, usize>>,
    pub(super) failures: Vec<String>,
    pub(super) runs: usize,
}

/// One table cell: the outcomes and, when not all runs agree, their counts.
fn cell(outcomes: Option<&BTreeMap<String, usize>>) -> String {
    let Some(outcomes) = outcomes else { return "not run".into() };
    if outcomes.len() == 1 {
        return outcomes.keys().next().cloned().unwrap_or_default();
    }
    outcomes.iter().map(|(o, n)| format!("{o} x{n}")).collect::<Vec<_>>().join(", ")
}

/// The scenario's outcome from its lanes' reports: the runs, the table of outcomes per case
/// (one cell for all lanes when they agree), and the failures if there were any.
pub(super) fn summary(lanes: &[LaneReport], repeats: usize, started: Instant) -> crate::Outcome {
    let runs: usize = lanes.iter().map(|l| l.runs).sum();
    let mut table = String::new();
    for (i, case) in CASES.iter().enumerate() {
        let cells: Vec<String> = lanes.iter().map(|l| cell(l.outcomes.get(i))).collect();
        let line = if cells.iter().all(|c| Some(c) == cells.first()) {
            format!("all: {}", cells.first().cloned().unwrap_or_default())
        } else {
            lanes.iter().zip(&cells).map(|(l, c)| format!("{}: {c}", l.name)).collect::<Vec<_>>().join(" | ")
        };
        table.push_str(&format!("\n  {:<4} {:<40} {:<3}  {line}", case.label, case.what, case.vanish.name()));
    }
    let failures: Vec<&String> = lanes.iter().flat_map(|l| &l.failures).collect();
    let summary = format!(
        "{runs} runs ({repeats} per state, way of vanishing, client and flow; lanes tokio/perform, \
         tokio/stream, std/perform, std/stream) in {:.1} s, each followed by a good request on the same \
         client; outcome [whom the error blames]:{table}",
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        return Ok(summary);
    }
    let shown: Vec<String> = failures.iter().take(30).map(|f| format!("\n  - {f}")).collect();
    Err(format!(
        "{} of {runs} runs failed:{}{}\n{summary}",
        failures.len(),
        shown.concat(),
        if failures.len() > 30 { "\n  ..." } else { "" }
    ))
}

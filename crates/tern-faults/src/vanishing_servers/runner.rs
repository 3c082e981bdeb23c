//! Runs, and what keeps them from hanging the scenario: a [`Plan`] (maybe a first request
//! and a wait for the server to vanish from its connection, the request the server vanishes
//! on, then a good request) executed on one client of either adapter within `HANG_LIMIT`,
//! the tern-tokio client in a task of its own, the tern-std client on a thread of its own. A
//! client that hung or panicked is abandoned, and the next run gets a new one ([`Runner`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use tokio::sync::oneshot;

use super::clients::{Flow, Recorder, Reply, Req, StdClient, TokioClient, client_config, std_request, tokio_request};

/// How long one run (its requests and the good request after them) may take before it is
/// reported as a hang.
const HANG_LIMIT: Duration = Duration::from_secs(10);
/// How many times a run looks whether the server vanished from the first request's
/// connection, with a pause of `VANISH_LOOK_PAUSE` after each look that saw nothing.
const VANISH_LOOKS: u32 = 1000;
const VANISH_LOOK_PAUSE: Duration = Duration::from_millis(2);
/// The pause that ends the wait: the FIN or RST crosses loopback at once; a moment more
/// makes it certain.
const VANISH_SETTLE: Duration = Duration::from_millis(20);

/// Which adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Tokio,
    Std,
}

/// What one run does: maybe a first request (and a wait for the server to close its
/// connection), the request the server vanishes on, then a good request.
pub(super) struct Plan {
    pub(super) prime: Option<Req>,
    /// After the first request, wait until this count of connections the server vanished
    /// from goes up.
    pub(super) wait_vanish: Option<Arc<AtomicU64>>,
    pub(super) fault: Req,
    pub(super) good: Req,
}

/// One run's replies.
pub(super) struct Run {
    pub(super) prime: Option<Reply>,
    /// The server closed the first request's connection before the next request went out.
    pub(super) vanished_in_time: bool,
    pub(super) fault: Reply,
    pub(super) good: Reply,
}

/// The wait, after a plan's first request, until the server vanished from that connection,
/// shared by both adapters: it says how long to pause next, and the caller pauses (asleep in
/// its task, or blocking its thread) until it says the wait is over.
struct VanishWait<'a> {
    /// The server's count of vanished connections and that count before the first request;
    /// `None` once the wait is over, or when the plan has nothing to wait for.
    watch: Option<(&'a AtomicU64, u64)>,
    looks: u32,
    /// Whether the server vanished in time; final once the wait is over.
    in_time: bool,
}

impl VanishWait<'_> {
    /// Starts the wait for `plan`: call it before the first request goes out.
    fn before_prime(plan: &Plan) -> VanishWait<'_> {
        let watch = plan.wait_vanish.as_deref().map(|v| (v, v.load(Ordering::SeqCst)));
        VanishWait { watch, looks: 0, in_time: watch.is_none() }
    }

    /// The next pause, or `None` when the wait is over.
    fn next_pause(&mut self) -> Option<Duration> {
        let (vanished, before) = self.watch?;
        if self.looks < VANISH_LOOKS {
            self.looks += 1;
            if vanished.load(Ordering::SeqCst) <= before {
                return Some(VANISH_LOOK_PAUSE);
            }
            self.in_time = true;
        }
        self.watch = None;
        Some(VANISH_SETTLE)
    }
}

async fn tokio_execute(client: &mut TokioClient, rec: &Recorder, flow: Flow, plan: &Plan) -> Run {
    let mut wait = VanishWait::before_prime(plan);
    let mut prime = None;
    if let Some(req) = &plan.prime {
        prime = Some(tokio_request(client, rec, flow, req).await);
    }
    while let Some(pause) = wait.next_pause() {
        tokio::time::sleep(pause).await;
    }
    let fault = tokio_request(client, rec, flow, &plan.fault).await;
    let good = tokio_request(client, rec, flow, &plan.good).await;
    Run { prime, vanished_in_time: wait.in_time, fault, good }
}

fn std_execute(client: &mut StdClient, rec: &Recorder, flow: Flow, plan: &Plan) -> Run {
    let mut wait = VanishWait::before_prime(plan);
    let prime = plan.prime.as_ref().map(|req| std_request(client, rec, flow, req));
    while let Some(pause) = wait.next_pause() {
        std::thread::sleep(pause);
    }
    let fault = std_request(client, rec, flow, &plan.fault);
    let good = std_request(client, rec, flow, &plan.good);
    Run { prime, vanished_in_time: wait.in_time, fault, good }
}

/// A job for a tern-std client's thread.
struct Job {
    flow: Flow,
    plan: Plan,
    reply: oneshot::Sender<Result<Run, String>>,
}

/// A thread owning one tern-std client, running jobs in order. A hung thread is abandoned (it
/// is detached: it cannot hold up the process's exit); a new one takes its place.
fn std_worker() -> Result<mpsc::Sender<Job>, String> {
    let (jobs, incoming) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("vanishing-servers-std".into())
        .spawn(move || {
            let rec = Recorder::default();
            let mut client: Option<StdClient> = None;
            for job in incoming {
                if client.is_none() {
                    match StdClient::with_handler(&client_config(), rec.clone()) {
                        Ok(c) => client = Some(c),
                        Err(e) => {
                            let _ = job.reply.send(Err(format!("no tern-std client: {e:?}")));
                            continue;
                        }
                    }
                }
                if let Some(client) = client.as_mut() {
                    let _ = job.reply.send(Ok(std_execute(client, &rec, job.flow, &job.plan)));
                }
            }
        })
        .map_err(|e| format!("no thread for the tern-std client: {e}"))?;
    Ok(jobs)
}

/// Runs plans on one client of one kind, each within `HANG_LIMIT`, replacing the client after
/// a hang or a panic.
pub(super) struct Runner(Slot);

/// A runner's client, if it has one that did not hang.
enum Slot {
    Tokio(Option<Box<(TokioClient, Recorder)>>),
    Std(Option<mpsc::Sender<Job>>),
}

impl Runner {
    /// A runner for `kind`; its first plan creates the client.
    pub(super) fn new(kind: Kind) -> Runner {
        Runner(match kind {
            Kind::Tokio => Slot::Tokio(None),
            Kind::Std => Slot::Std(None),
        })
    }

    /// Runs `plan` on the client, within `HANG_LIMIT`.
    pub(super) async fn execute(&mut self, flow: Flow, plan: Plan) -> Result<Run, String> {
        match &mut self.0 {
            Slot::Tokio(slot) => {
                let (mut client, rec) = match slot.take() {
                    Some(pair) => *pair,
                    None => {
                        let rec = Recorder::default();
                        let client = TokioClient::with_handler(&client_config(), rec.clone())
                            .map_err(|e| format!("no tern-tokio client: {e:?}"))?;
                        (client, rec)
                    }
                };
                // A task of its own: a panic is caught, and a hang is cut off by a timer that
                // does not run in the hanging task.
                let task = tokio::spawn(async move {
                    let run = tokio_execute(&mut client, &rec, flow, &plan).await;
                    (client, rec, run)
                });
                let abort = task.abort_handle();
                match tokio::time::timeout(HANG_LIMIT, task).await {
                    Ok(Ok((client, rec, run))) => {
                        *slot = Some(Box::new((client, rec)));
                        Ok(run)
                    }
                    Ok(Err(e)) => Err(format!("PANIC in the tern-tokio client: {e}")),
                    Err(_) => {
                        abort.abort();
                        Err(format!("HANG: no result within {} s", HANG_LIMIT.as_secs()))
                    }
                }
            }
            Slot::Std(slot) => {
                let jobs = match slot.take() {
                    Some(jobs) => jobs,
                    None => std_worker()?,
                };
                let (reply, answer) = oneshot::channel();
                if jobs.send(Job { flow, plan, reply }).is_err() {
                    return Err("the tern-std client's thread is gone (a panic?)".into());
                }
                match tokio::time::timeout(HANG_LIMIT, answer).await {
                    Ok(Ok(result)) => {
                        *slot = Some(jobs);
                        result
                    }
                    Ok(Err(_)) => Err("PANIC: the tern-std client's thread ended without an answer".into()),
                    Err(_) => Err(format!("HANG: no result within {} s", HANG_LIMIT.as_secs())),
                }
            }
        }
    }
}

//! Sequential keep-alive requests per second: tern-std against ureq 3, both talking to the same
//! in-process hyper server in the same run, rounds interleaved so machine noise hits both.
//! Prints each client's median rate and the ratio; `cargo xtask bench` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // bench code

use std::time::Instant;

use tern_proto::client::{ClientConfig, Event, EventKind};
use tern_testkit::HyperServer;

const ROUNDS: usize = 7;
const REQUESTS: usize = 2000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let server = HyperServer::start();
    let url = server.url("/hello");

    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let mut received = 0usize;
    let mut tern = tern_std::Client::with_handler(&config, |e: &Event<'_>| {
        if let EventKind::OnData(d) = e.kind {
            received += d.len();
        }
    })
    .unwrap();
    let ureq = ureq::Agent::new_with_defaults();

    let mut tern_rates = Vec::new();
    let mut ureq_rates = Vec::new();
    for round in 0..=ROUNDS {
        let start = Instant::now();
        for _ in 0..REQUESTS {
            tern.perform().unwrap();
        }
        let tern_rate = REQUESTS as f64 / start.elapsed().as_secs_f64();

        let start = Instant::now();
        for _ in 0..REQUESTS {
            let body = ureq.get(&url).call().unwrap().body_mut().read_to_vec().unwrap();
            assert_eq!(body, b"hello");
        }
        let ureq_rate = REQUESTS as f64 / start.elapsed().as_secs_f64();
        // Round 0 warms up both.
        if round > 0 {
            tern_rates.push(tern_rate);
            ureq_rates.push(ureq_rate);
        }
    }
    assert_eq!(tern.connects(), 1, "tern must have kept one connection");
    drop(tern);
    assert_eq!(received, 5 * REQUESTS * (ROUNDS + 1));
    let (t, u) = (median(tern_rates), median(ureq_rates));
    println!("keep-alive GET /hello, {ROUNDS} rounds of {REQUESTS} sequential requests, medians:");
    println!("  tern-std  {t:>9.0} req/s");
    println!("  ureq 3    {u:>9.0} req/s");
    println!("  ratio tern/ureq = {:.2}x", t / u);
}

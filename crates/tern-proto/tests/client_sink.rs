//! The process-wide diagnostic sink sees every client's events tagged with its `ClientId`.
//! One test only: the sink is global to the process, so it filters by its own clients' ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use std::sync::Mutex;

use support::{Conn, Peer, client_for, perform};
use tern_proto::client::{
    ClientId, DiagnosticSink, Event, EventId, State, install_diagnostic_sink, remove_diagnostic_sink,
};

struct Recorder(Mutex<Vec<(ClientId, EventId, State)>>);

impl DiagnosticSink for Recorder {
    fn on_event(&self, event: &Event<'_>) {
        self.0.lock().unwrap().push((event.client, event.kind.id(), event.state));
    }
}

static SINK: Recorder = Recorder(Mutex::new(Vec::new()));

fn seen_for(id: ClientId) -> Vec<(EventId, State)> {
    SINK.0.lock().unwrap().iter().filter(|(c, _, _)| *c == id).map(|(_, e, s)| (*e, *s)).collect()
}

#[test]
fn sink_sees_two_clients_apart_and_automatic_redirects_too() {
    let (mut a, log_a) = client_for("http://a.test/");
    let (mut b, log_b) = client_for("http://b.test/old");
    assert_ne!(a.id(), b.id());
    // Events before installing are not seen.
    let mut peer_a = Peer::new([Conn::answers(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2",
    ])]);
    perform(&mut peer_a, &mut a).unwrap();
    log_a.take();
    install_diagnostic_sink(&SINK);
    let mut peer_b = Peer::new([Conn::answers(&[
        b"HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
    ])]);
    // Interleave the two clients: start b, run a, finish b.
    b.perform(peer_b.now).unwrap();
    perform(&mut peer_a, &mut a).unwrap();
    peer_b.run(&mut b).unwrap();
    remove_diagnostic_sink();
    let own_a = log_a.take_ids();
    let own_b = log_b.take_ids();
    // After removal nothing more is seen (this perform times out: no answer is scripted).
    let before = SINK.0.lock().unwrap().len();
    perform(&mut peer_a, &mut a).unwrap_err();
    assert!(log_a.take_ids().iter().any(|(e, _)| *e == EventId::Error));
    assert_eq!(SINK.0.lock().unwrap().len(), before);

    // a: exactly its second perform (the first was before install, the third after removal).
    assert_eq!(seen_for(a.id()), own_a);
    assert!(!own_a.iter().any(|(e, _)| *e == EventId::OnConnected));
    // b: everything its handler saw, plus the REDIRECT ESP-IDF posts for automatic redirects,
    // right after the 301's head.
    let mut expected_b = own_b.clone();
    let at = expected_b.iter().position(|(e, _)| *e == EventId::OnHeadersComplete).unwrap() + 1;
    expected_b.insert(at, (EventId::Redirect, State::ResCompleteHeader));
    assert_eq!(seen_for(b.id()), expected_b);
    assert!(!own_b.iter().any(|(e, _)| *e == EventId::Redirect));
}

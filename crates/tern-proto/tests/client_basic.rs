//! The client engine against a scripted peer: a first smoke test of the driving loop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod support;

use support::{Conn, Done, Peer};
use tern_proto::client::{Client, ClientConfig, Event, EventId, State};

#[test]
fn get_with_events_in_esp_idf_order() {
    let config = ClientConfig { url: Some("http://example.test/hello?x=1"), ..ClientConfig::default() };
    let mut events: Vec<(EventId, State)> = Vec::new();
    let handler = |e: &Event<'_>| events.push((e.kind.id(), e.state));
    let mut client = Client::new(&config, vec![0u8; config.buffer_len()], handler).unwrap();
    let mut peer = Peer::new([Conn::answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")]).with_io_size(7);
    client.perform(peer.now).unwrap();
    assert_eq!(peer.run(&mut client).unwrap(), Done::Finished);
    assert_eq!(peer.request(0), "GET /hello?x=1 HTTP/1.1\r\nUser-Agent: tern/0.1.0\r\nHost: example.test\r\n\r\n");
    assert_eq!(client.status_code().unwrap().as_u16(), 200);
    assert_eq!(client.state(), State::Connected);
    drop(client);
    use EventId::*;
    use State::*;
    assert_eq!(
        events,
        [
            (OnConnected, Connected),
            (HeadersSent, ReqCompleteHeader),
            (OnStatusCode, ReqCompleteData),
            (OnHeader, ReqCompleteData),
            (OnHeadersComplete, ResCompleteHeader),
            (OnData, ResCompleteHeader),
            (OnData, ResOnDataStart),
            (OnFinish, ResOnDataStart),
        ]
    );
}

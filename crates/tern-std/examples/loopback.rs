//! tern's main job end to end on loopback, with nothing to install: an in-process hyper server,
//! and the tern client performing a GET, a POST and a streamed upload on one keep-alive
//! connection, printing ESP-IDF's events as they happen.
//!
//! ```text
//! cargo run -p tern-std --example loopback
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // example code

use tern_proto::Method;
use tern_proto::client::{ClientConfig, Event, EventKind};

fn main() -> Result<(), tern_std::Error> {
    let server = tern_testkit::HyperServer::start();
    let url = server.url("/hello");
    println!("server: hyper on {}", server.addr());

    let config = ClientConfig { url: Some(&url), ..ClientConfig::default() };
    let handler = |event: &Event<'_>| match event.kind {
        EventKind::OnData(data) => {
            println!("  {:?} {:?}: {:?}", event.state, event.kind.id(), String::from_utf8_lossy(data))
        }
        EventKind::OnHeader { name, value } => {
            println!("  {:?} {:?}: {name}: {}", event.state, event.kind.id(), String::from_utf8_lossy(value))
        }
        _ => println!("  {:?} {:?}", event.state, event.kind.id()),
    };
    let mut client = tern_std::Client::with_handler(&config, handler)?;

    println!("GET {url}");
    client.perform()?;
    println!("=> {:?}, state {:?}\n", client.status_code(), client.state());

    println!("POST /echo (post field)");
    client.set_url("/echo")?;
    client.set_method(Method::Post);
    client.set_post_field(Some(b"temperature=21.5"))?;
    client.perform()?;
    println!("=> {:?}\n", client.status_code());

    println!("POST /echo (streamed, chunked)");
    client.set_post_field(None)?;
    client.open(None)?;
    client.write(b"streamed ")?;
    client.write(b"body")?;
    let length = client.fetch_headers()?;
    let mut buf = [0u8; 64];
    let n = client.read_response(&mut buf)?;
    println!("=> {:?}, content length {length:?}, body {:?}", client.status_code(), String::from_utf8_lossy(&buf[..n]));
    println!("\n{} request(s) on {} connection(s)", 3, client.connects());
    client.close()?;
    Ok(())
}

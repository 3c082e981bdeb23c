//! The blocking client program of docs/migration.md (`examples/migration_client_blocking.rs`),
//! run against hyper in-process: the GET with its custom header, then the JSON POST on the same
//! connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[allow(unreachable_pub)] // the example's `pub` items are for the test
#[path = "../examples/migration_client_blocking.rs"]
mod migration_client_blocking;

use migration_client_blocking::{JSON, Outcome};
use tern_testkit::HyperServer;

#[test]
fn the_client_example_gets_and_posts_on_one_connection() {
    let server = HyperServer::start();
    let outcomes = migration_client_blocking::run(&server.url("/hello")).unwrap();
    // hyper's /hello answers "hello"; its /echo sends the body back.
    assert_eq!(outcomes, [Outcome { status: 200, body_len: 5 }, Outcome { status: 200, body_len: JSON.len() }]);
    assert_eq!(server.connections(), 1, "the POST reused the GET's connection");
}

#[test]
fn the_migration_guide_shows_the_example_word_for_word() {
    let guide = include_str!("../../../docs/migration.md");
    assert!(
        guide.contains(include_str!("../examples/migration_client_blocking.rs")),
        "docs/migration.md no longer shows examples/migration_client_blocking.rs as it is: copy it in again"
    );
}

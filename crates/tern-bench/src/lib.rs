//! Benchmark contenders built on tern or compared with it, as programs that xtask runs pinned
//! to a core: `bench_client` (one program, every client) for `cargo xtask bench client`.
//!
//! The server-side peers (`hyper_hello`, `null_server`) live in tern-testkit, which tern's
//! adapters use in their tests and so cannot depend on them.

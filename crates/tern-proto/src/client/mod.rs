//! The client side: URLs, authentication and (soon) the client engine.

pub mod auth;
pub mod url;

//! The async client (being built).

//! The async server (being built).

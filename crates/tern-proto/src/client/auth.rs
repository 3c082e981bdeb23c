//! Placeholder: written on branch `auth`.

//! Placeholder: written on branch `url`.

//! Integration tests for sigil-jose as the service uses it: every key type end to end,
//! interoperability with the `jsonwebtoken` crate, and the Wycheproof verification vectors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attacks;
mod insecure_test_keys;
mod interop;
mod known_answers;
mod round_trip;
mod support;
mod wycheproof_vectors;

//! Policies: named allow-rules over resource paths and operations, persisted as documents and
//! compiled into the `sigil_policy::PolicySet` every request is judged by. The built-in
//! `root` allows everything and cannot be changed.

mod service;

pub use service::{LoadedPolicy, Policies, PolicyRefused, PolicyTable};

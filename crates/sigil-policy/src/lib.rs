//! # sigil-policy
//! Policy vocabulary with no I/O: the operations a request performs on a resource path.
//! Path patterns, rule sets and decision traces build on these.

mod operation;

pub use operation::Operation;

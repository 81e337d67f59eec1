//! # sigil-policy
//! Policies with no I/O: which operations an identity may perform on which resource paths.
//! Default deny; patterns are compiled once so a decision only compares strings in place.
//!
//! # Layout
//! - [`Operation`]: `create`, `read`, `update`, `delete`.
//! - [`PathPattern`]: `/jwt-issuers/*/roles/**`, compiled and matched literally.
//! - [`Policy`], [`Rule`]: named allow-rules, built from the wire's [`PolicyFields`].
//! - [`PolicySet`]: every policy by name; [`Decision`] and the [`RuleTrace`] of `explain`.
//! - [`PolicyRefused`], [`PolicyFieldError`]: why a pattern or a policy was refused.

#![warn(missing_docs)]

mod error;
mod operation;
mod pattern;
mod policy;
mod set;

pub use error::{PolicyFieldError, PolicyRefused};
pub use operation::Operation;
pub use pattern::PathPattern;
pub use policy::{Policy, PolicyFields, Rule, RuleFields};
pub use set::{Decision, PolicySet, RuleTrace};

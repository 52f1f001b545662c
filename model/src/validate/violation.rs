//! What the validator reports: the first [`Violation`] and its [`ViolationReason`].

use std::fmt;

use automerge::ChangeHash;

use crate::permission::{DenyReason, Path};

/// The first thing wrong with a batch of changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change {change}, op {op}: `{path}`: {reason}")]
pub struct Violation {
    /// The offending change.
    pub change: ChangeHash,
    /// Index of the op within the change.
    pub op: usize,
    /// Where it writes.
    pub path: Path,
    /// What is wrong.
    pub reason: ViolationReason,
}

/// What is wrong in a [`Violation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationReason {
    /// The permission table refuses it.
    Denied(DenyReason),
    /// A value breaks a schema rule.
    BadValue(&'static str),
    /// The op targets an object this document does not have.
    UnknownObject,
    /// The change depends on changes the document does not have.
    MissingDependencies,
    /// Automerge could not apply the change.
    Malformed(String),
}

impl fmt::Display for ViolationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationReason::Denied(r) => write!(f, "denied: {r}"),
            ViolationReason::BadValue(why) => write!(f, "bad value: {why}"),
            ViolationReason::UnknownObject => f.write_str("unknown object"),
            ViolationReason::MissingDependencies => f.write_str("missing dependencies"),
            ViolationReason::Malformed(e) => write!(f, "malformed: {e}"),
        }
    }
}

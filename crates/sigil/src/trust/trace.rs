//! The trace of one verification, for `explain`: each check in order with what it looked at.
//! A default trace records nothing, so the hot path pays for no formatting.

use serde::Serialize;

/// One check of a verification, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// What was checked.
    pub check: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// The value looked at, or why it failed.
    pub detail: String,
}

/// The checks of one verification, in order; `explain` uses `Trace::recording()`.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Trace {
    /// Each check.
    pub checks: Vec<Check>,
    #[serde(skip)]
    recording: bool,
}

impl Trace {
    /// A trace that records every check.
    pub fn recording() -> Trace {
        Trace {
            checks: Vec::new(),
            recording: true,
        }
    }

    /// Records a check; `detail` is only evaluated when recording.
    pub fn record(&mut self, check: &'static str, passed: bool, detail: impl FnOnce() -> String) {
        if self.recording {
            self.checks.push(Check {
                check,
                passed,
                detail: detail(),
            });
        }
    }
}

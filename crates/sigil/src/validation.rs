//! Field-level validation results shared by every domain and the request parser.
//! Errors are collected, never short-circuited, so a 400 lists every bad field at once.

use serde::Serialize;

/// One invalid field: which, why, and a machine-readable code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name; nested fields are joined with `/` (`distribute/sites`).
    pub name: String,
    /// What is wrong, in words a user can act on.
    pub reason: String,
    /// A stable code: `required`, `invalid`, `unknown_field`, `invalid_type`, `too_long`...
    pub error_code: String,
}

impl FieldError {
    /// A field error with an explicit code.
    pub fn new(name: impl Into<String>, error_code: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
            error_code: error_code.to_owned(),
        }
    }

    /// The field is missing.
    pub fn required(name: impl Into<String>) -> Self {
        Self::new(name, "required", "is required")
    }

    /// The field has a value that is not allowed.
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(name, "invalid", reason)
    }
}

/// A collector of field errors; `finish` turns it into a result.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records every error of another collection.
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.0.extend(errors);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else every error.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }

    /// The recorded errors.
    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

/// Checks a resource name: 1-200 characters of `[A-Za-z0-9._-]`.
pub fn check_name(field: &str, name: &str) -> Option<FieldError> {
    if name.is_empty() {
        return Some(FieldError::new(field, "invalid", "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Some(FieldError::new(
            field,
            "too_long",
            "must be at most 200 characters",
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(FieldError::invalid(
            field,
            format!("may only contain A-Z, a-z, 0-9, '.', '_' and '-' (found {bad:?})"),
        ));
    }
    if name == "." || name == ".." {
        return Some(FieldError::invalid(field, "must not be `.` or `..`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_resource_name_rule() {
        assert!(check_name("name", "payments-jwt-key.v2_a").is_none());
        assert_eq!(check_name("name", "").unwrap().reason, "must not be empty");
        assert_eq!(
            check_name("name", &"a".repeat(201)).unwrap().error_code,
            "too_long"
        );
        assert!(check_name("name", &"a".repeat(200)).is_none());
        assert!(check_name("name", "a/b").unwrap().reason.contains("'/'"));
        assert!(check_name("name", "..").is_some());
    }
}

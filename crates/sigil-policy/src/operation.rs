//! The four operations a policy rule can allow.

use std::fmt;

/// What a request does to a resource path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// POST on a collection.
    Create,
    /// GET and HEAD.
    Read,
    /// PUT, PATCH, and actions (mint, rotate, seal...).
    Update,
    /// DELETE.
    Delete,
}

impl Operation {
    /// Every operation, in the order rules and messages list them.
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ];

    /// The lowercase name used in rules and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// Parses a lowercase operation name.
    pub fn parse(text: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == text)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_round_trip_through_their_names() {
        for op in ["create", "read", "update", "delete"] {
            assert_eq!(Operation::parse(op).unwrap().as_str(), op);
        }
        assert_eq!(Operation::parse("Read"), None);
        assert_eq!(Operation::parse("write"), None);
    }
}

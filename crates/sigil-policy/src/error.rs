//! Why a path pattern or a policy was refused. Messages name the segment index (0-based, the
//! first segment after the leading `/`) so a user can find the fault in a long path.

/// A path pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefused {
    /// The pattern is longer than [`crate::PathPattern::MAX_LENGTH`] characters.
    #[error("the path is {length} characters long; the limit is {max}")]
    PathTooLong {
        /// Length of the pattern in characters.
        length: usize,
        /// The limit it exceeded.
        max: usize,
    },

    /// The pattern does not start with `/`.
    #[error("the path must be absolute: start it with `/`")]
    PathNotAbsolute,

    /// Two `/` in a row, or the pattern is `/` alone.
    #[error("segment {index} is empty: remove the doubled `/`")]
    EmptySegment {
        /// Index of the empty segment.
        index: usize,
    },

    /// The pattern ends with `/`.
    #[error("segment {index} is empty: the path ends with `/`; remove it")]
    TrailingSlash {
        /// Index of the empty segment after the last `/`.
        index: usize,
    },

    /// A `.` or `..` segment; paths are never normalised, so these could only mislead.
    #[error("segment {index} is `{segment}`: `.` and `..` are not allowed")]
    DotSegment {
        /// Index of the segment.
        index: usize,
        /// The segment, `.` or `..`.
        segment: String,
    },

    /// A character outside `[A-Za-z0-9._*-]`.
    #[error(
        "segment {index} (`{segment}`) contains {character:?}; only A-Z, a-z, 0-9, '.', '_', '-' \
         and the wildcards `*` and `**` are allowed"
    )]
    ForbiddenCharacter {
        /// Index of the segment.
        index: usize,
        /// The segment.
        segment: String,
        /// The first forbidden character.
        character: char,
    },

    /// `*` mixed with text (`a*`) or too many stars (`***`).
    #[error(
        "segment {index} (`{segment}`) mixes `*` with other characters; a wildcard is a whole \
         segment, `*` or `**`"
    )]
    PartialWildcard {
        /// Index of the segment.
        index: usize,
        /// The segment.
        segment: String,
    },

    /// `**` somewhere other than the last segment.
    #[error("segment {index} is `**`, which is only allowed as the last segment")]
    DoubleStarNotLast {
        /// Index of the segment.
        index: usize,
    },
}

impl PolicyRefused {
    /// The stable field-error code for this refusal: `too_long` or `invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyRefused::PathTooLong { .. } => "too_long",
            _ => "invalid",
        }
    }
}

/// One invalid field of a policy, named like `rules/2/path`; the service turns it into its own
/// field-error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFieldError {
    /// The field's name; nested fields are joined with `/` (`rules/0/operations/1`).
    pub name: String,
    /// What is wrong, in words a user can act on.
    pub reason: String,
    /// A stable code: `required`, `invalid` or `too_long`.
    pub code: &'static str,
}

impl PolicyFieldError {
    pub(crate) fn required(name: String) -> Self {
        Self {
            name,
            reason: "is required".to_owned(),
            code: "required",
        }
    }

    pub(crate) fn invalid(name: String, reason: String) -> Self {
        Self {
            name,
            reason,
            code: "invalid",
        }
    }
}

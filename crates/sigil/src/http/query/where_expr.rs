//! The `where=` filter language: `max_ttl > 1h and (type = ecdsa-p256 or not name ~ "test-*")`.
//! A small recursive-descent parser with bounded length and depth, so any input from the network
//! either parses or yields an error naming the 1-based character position and what was expected.

mod eval;
mod parse;

use globset::GlobMatcher;
use serde_json::Value;

/// The longest expression accepted, in characters.
pub const MAX_LENGTH: usize = 4096;
/// The deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 64;

/// A parsed filter; [`WhereExpr::matches`] tests one JSON item against it.
///
/// Evaluation rules:
/// - a missing (or `null`) field makes a comparison false, except `!=` which is true;
/// - strings compare lexicographically, numbers numerically, booleans only with `=` and `!=`;
/// - a duration literal (`1h`) compares as seconds against a field holding a duration string or
///   a number of seconds; a number literal compares as seconds against a duration string;
/// - `~` matches a glob (`*`, `?`, `[..]`, `{a,b}`; `*` also crosses `/`) against the field's
///   text;
/// - when the path reaches an array, the comparison is true if any element satisfies it, so
///   `audiences != a` means "some audience is not `a`" while `not audiences = a` means "no
///   audience is `a`"; an empty array counts as missing;
/// - any other type mismatch makes the comparison false, for `!=` too.
#[derive(Clone, Debug)]
pub struct WhereExpr(Node);

/// Why an expression does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct WhereError {
    /// The 1-based character position of the problem (one past the end when the input ended).
    pub position: usize,
    /// What was expected or is wrong.
    pub message: String,
}

impl WhereExpr {
    /// Parses `expr := or; or := and ("or" and)*; and := unary ("and" unary)*;
    /// unary := "not" unary | "(" expr ")" | path op value`.
    pub fn parse(input: &str) -> Result<Self, WhereError> {
        parse::expression(input).map(Self)
    }

    /// Whether `item` satisfies the expression.
    pub fn matches(&self, item: &Value) -> bool {
        self.0.matches(item)
    }
}

#[derive(Clone, Debug)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Comparison(Comparison),
}

#[derive(Clone, Debug)]
struct Comparison {
    path: Vec<String>,
    test: Test,
}

#[derive(Clone, Debug)]
enum Test {
    Compare(Op, Literal),
    Glob(GlobMatcher),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Glob,
}

#[derive(Clone, Debug)]
enum Literal {
    String(String),
    Number(Number),
    Bool(bool),
    Duration { seconds: u64, text: String },
}

#[derive(Clone, Copy, Debug)]
enum Number {
    Integer(i128),
    Float(f64),
}

#[cfg(test)]
mod tests;

//! Evaluating a parsed [`WhereExpr`](super::WhereExpr) against one JSON item.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Comparison, Literal, Node, Number, Op, Test};
use crate::duration::HumanDuration;

impl Node {
    pub(super) fn matches(&self, item: &Value) -> bool {
        match self {
            Node::Or(nodes) => nodes.iter().any(|node| node.matches(item)),
            Node::And(nodes) => nodes.iter().all(|node| node.matches(item)),
            Node::Not(node) => !node.matches(item),
            Node::Comparison(comparison) => comparison.matches(item),
        }
    }
}

impl Comparison {
    fn matches(&self, item: &Value) -> bool {
        let mut found = Vec::new();
        collect(item, &self.path, &mut found);
        if found.is_empty() {
            return matches!(self.test, Test::Compare(Op::Ne, _));
        }
        found.into_iter().any(|value| self.test.matches(value))
    }
}

/// The values at `path`, stepping into every element of the arrays met on the way.
fn collect<'a>(value: &'a Value, path: &[String], found: &mut Vec<&'a Value>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => {
            for item in items {
                collect(item, path, found);
            }
        }
        (Value::Null, _) => {}
        (_, None) => found.push(value),
        (Value::Object(map), Some((first, rest))) => {
            if let Some(next) = map.get(first) {
                collect(next, rest, found);
            }
        }
        (_, Some(_)) => {}
    }
}

impl Test {
    fn matches(&self, value: &Value) -> bool {
        match self {
            Test::Glob(glob) => match value {
                Value::String(s) => glob.is_match(s),
                Value::Number(n) => glob.is_match(n.to_string()),
                Value::Bool(b) => glob.is_match(b.to_string()),
                _ => false,
            },
            Test::Compare(op, literal) => {
                compare(value, literal).is_some_and(|ordering| op.accepts(ordering))
            }
        }
    }
}

impl Op {
    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering.is_eq(),
            Op::Ne => ordering.is_ne(),
            Op::Lt => ordering.is_lt(),
            Op::Le => ordering.is_le(),
            Op::Gt => ordering.is_gt(),
            Op::Ge => ordering.is_ge(),
            Op::Glob => false,
        }
    }
}

/// How the field's value orders against the literal; `None` when they cannot be compared.
fn compare(value: &Value, literal: &Literal) -> Option<Ordering> {
    match (value, literal) {
        (Value::Bool(field), Literal::Bool(wanted)) => Some(field.cmp(wanted)),
        (Value::Number(field), Literal::Number(wanted)) => {
            compare_numbers(json_number(field)?, *wanted)
        }
        (Value::Number(field), Literal::Duration { seconds, .. }) => {
            compare_numbers(json_number(field)?, Number::Integer(i128::from(*seconds)))
        }
        (Value::String(field), Literal::Number(wanted)) => {
            let seconds = HumanDuration::parse(field).ok()?.as_secs();
            compare_numbers(Number::Integer(i128::from(seconds)), *wanted)
        }
        (Value::String(field), Literal::Duration { seconds, text }) => {
            match HumanDuration::parse(field) {
                Ok(duration) => Some(duration.as_secs().cmp(seconds)),
                Err(_) => Some(field.as_str().cmp(text.as_str())),
            }
        }
        (Value::String(field), Literal::String(wanted)) => Some(field.as_str().cmp(wanted)),
        _ => None,
    }
}

fn json_number(number: &serde_json::Number) -> Option<Number> {
    if let Some(integer) = number.as_i64() {
        Some(Number::Integer(i128::from(integer)))
    } else if let Some(integer) = number.as_u64() {
        Some(Number::Integer(i128::from(integer)))
    } else {
        number.as_f64().map(Number::Float)
    }
}

fn compare_numbers(field: Number, wanted: Number) -> Option<Ordering> {
    match (field, wanted) {
        (Number::Integer(a), Number::Integer(b)) => Some(a.cmp(&b)),
        (a, b) => as_float(a).partial_cmp(&as_float(b)),
    }
}

#[allow(clippy::cast_precision_loss)] // comparing an integer with a float literal is approximate
fn as_float(number: Number) -> f64 {
    match number {
        Number::Integer(i) => i as f64,
        Number::Float(f) => f,
    }
}

//! The recursive-descent parser behind [`WhereExpr::parse`](super::WhereExpr::parse).
//! Positions are 0-based indexes into the characters here and 1-based in every error.

use globset::{GlobBuilder, GlobMatcher};

use super::{Comparison, Literal, MAX_DEPTH, MAX_LENGTH, Node, Number, Op, Test, WhereError};
use crate::duration::HumanDuration;

const OPERATORS: &str = "=, !=, <, <=, >, >=, ~";

/// Parses a whole expression; anything left over is an error.
pub(super) fn expression(input: &str) -> Result<Node, WhereError> {
    let chars: Vec<char> = input.chars().collect();
    if chars.len() > MAX_LENGTH {
        return Err(WhereError {
            position: MAX_LENGTH + 1,
            message: format!("the expression is longer than {MAX_LENGTH} characters"),
        });
    }
    let mut parser = Parser {
        chars,
        pos: 0,
        depth: 0,
    };
    let node = parser.parse_or()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(node),
        Some(')') => Err(parser.error_here("unmatched ')'".to_owned())),
        Some(c) => Err(parser.error_here(format!(
            "expected 'and', 'or' or the end of the expression but found {c:?}"
        ))),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn parse_or(&mut self) -> Result<Node, WhereError> {
        let mut nodes = vec![self.parse_and()?];
        while self.eat_keyword("or") {
            nodes.push(self.parse_and()?);
        }
        Ok(collapse(nodes, Node::Or))
    }

    fn parse_and(&mut self) -> Result<Node, WhereError> {
        let mut nodes = vec![self.parse_unary()?];
        while self.eat_keyword("and") {
            nodes.push(self.parse_unary()?);
        }
        Ok(collapse(nodes, Node::And))
    }

    fn parse_unary(&mut self) -> Result<Node, WhereError> {
        self.skip_whitespace();
        let start = self.pos;
        match self.peek() {
            Some('(') => {
                self.enter(start)?;
                self.pos += 1;
                let node = self.parse_or()?;
                self.skip_whitespace();
                match self.peek() {
                    Some(')') => self.pos += 1,
                    None => {
                        return Err(self.error_here(format!(
                            "expected ')' to close the '(' at position {}, but the expression \
                             ended",
                            start + 1
                        )));
                    }
                    Some(c) => {
                        return Err(
                            self.error_here(format!("expected 'and', 'or' or ')' but found {c:?}"))
                        );
                    }
                }
                self.depth -= 1;
                Ok(node)
            }
            Some(_) if self.at_not_keyword() => {
                self.enter(start)?;
                self.pos += 3;
                let node = self.parse_unary()?;
                self.depth -= 1;
                Ok(Node::Not(Box::new(node)))
            }
            Some(c) if is_path_start(c) => self.parse_comparison().map(Node::Comparison),
            None => Err(self.error_here(
                "expected a field name, 'not' or '(' but the expression ended".to_owned(),
            )),
            Some(c) => Err(self.error_here(format!(
                "expected a field name, 'not' or '(' but found {c:?}"
            ))),
        }
    }

    fn parse_comparison(&mut self) -> Result<Comparison, WhereError> {
        let path_start = self.pos;
        let mut path = Vec::new();
        loop {
            let segment_start = self.pos;
            while self.peek().is_some_and(is_path_char) {
                self.pos += 1;
            }
            let segment: String = self.chars[segment_start..self.pos]
                .iter()
                .map(|&c| if c == '-' { '_' } else { c })
                .collect();
            path.push(segment);
            if self.peek() != Some('/') {
                break;
            }
            self.pos += 1;
            if !self.peek().is_some_and(is_path_start) {
                return Err(self.error_here("expected a field name after '/'".to_owned()));
            }
        }
        let written: String = self.chars[path_start..self.pos].iter().collect();
        self.skip_whitespace();
        let op_start = self.pos;
        let Some(op) = self.parse_operator() else {
            return Err(self.error_here(format!(
                "expected an operator ({OPERATORS}) after '{written}'"
            )));
        };
        let op_text: String = self.chars[op_start..self.pos].iter().collect();
        self.skip_whitespace();
        let value_start = self.pos;
        let (literal, text) = self.parse_value(&op_text)?;
        let test = match (op, literal) {
            (Op::Glob, _) => Test::Glob(compile_glob(&text).map_err(|message| WhereError {
                position: value_start + 1,
                message,
            })?),
            (Op::Eq | Op::Ne, literal) => Test::Compare(op, literal),
            (_, Literal::Bool(_)) => {
                return Err(WhereError {
                    position: op_start + 1,
                    message: format!("'{op_text}' cannot compare booleans; use = or !="),
                });
            }
            (op, literal) => Test::Compare(op, literal),
        };
        Ok(Comparison { path, test })
    }

    fn parse_operator(&mut self) -> Option<Op> {
        let (op, width) = match (self.peek(), self.chars.get(self.pos + 1).copied()) {
            (Some('!'), Some('=')) => (Op::Ne, 2),
            (Some('<'), Some('=')) => (Op::Le, 2),
            (Some('>'), Some('=')) => (Op::Ge, 2),
            (Some('='), _) => (Op::Eq, 1),
            (Some('<'), _) => (Op::Lt, 1),
            (Some('>'), _) => (Op::Gt, 1),
            (Some('~'), _) => (Op::Glob, 1),
            _ => return None,
        };
        self.pos += width;
        Some(op)
    }

    /// A literal and its text (what `~` matches as a glob).
    fn parse_value(&mut self, op_text: &str) -> Result<(Literal, String), WhereError> {
        match self.peek() {
            None | Some('(' | ')') => {
                Err(self.error_here(format!("expected a value after '{op_text}'")))
            }
            // `a == b` or `a => b` is a typo for a comparison, not a comparison with "=b".
            Some('=' | '!' | '<' | '>' | '~') => Err(self.error_here(format!(
                "expected a value after '{op_text}' (quote it if it starts with an operator)"
            ))),
            Some(quote @ ('"' | '\'')) => {
                let text = self.parse_quoted(quote)?;
                Ok((Literal::String(text.clone()), text))
            }
            Some(_) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && c != '(' && c != ')')
                {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                Ok((classify_bare(&text), text))
            }
        }
    }

    fn parse_quoted(&mut self, quote: char) -> Result<String, WhereError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == quote {
                return Ok(text);
            }
            if c == '\\' {
                let Some(escaped) = self.peek() else { break };
                self.pos += 1;
                text.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            } else {
                text.push(c);
            }
        }
        Err(WhereError {
            position: start + 1,
            message: format!(
                "unterminated string: add a closing {quote} to the string that starts"
            ),
        })
    }

    fn enter(&mut self, start: usize) -> Result<(), WhereError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(WhereError {
                position: start + 1,
                message: format!(
                    "the expression nests deeper than {MAX_DEPTH} levels of '(' and 'not'"
                ),
            });
        }
        Ok(())
    }

    /// `not` followed by something that is not an operator: `not = 1` compares a field `not`.
    fn at_not_keyword(&self) -> bool {
        if !self.keyword_at(self.pos, "not") {
            return false;
        }
        let mut next = self.pos + 3;
        while self.chars.get(next).is_some_and(|c| c.is_whitespace()) {
            next += 1;
        }
        !matches!(self.chars.get(next), Some('=' | '!' | '<' | '>' | '~'))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        self.skip_whitespace();
        if self.keyword_at(self.pos, keyword) {
            self.pos += keyword.len();
            true
        } else {
            false
        }
    }

    /// Case-insensitive `keyword` at `at`, ending at whitespace, a parenthesis, a quote or the end.
    fn keyword_at(&self, at: usize, keyword: &str) -> bool {
        let end = at + keyword.len();
        let Some(word) = self.chars.get(at..end) else {
            return false;
        };
        word.iter()
            .zip(keyword.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
            && self
                .chars
                .get(end)
                .is_none_or(|&c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\''))
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn error_here(&self, message: String) -> WhereError {
        WhereError {
            position: self.pos + 1,
            message,
        }
    }
}

fn collapse(mut nodes: Vec<Node>, combine: fn(Vec<Node>) -> Node) -> Node {
    match nodes.pop() {
        Some(only) if nodes.is_empty() => only,
        Some(last) => {
            nodes.push(last);
            combine(nodes)
        }
        None => combine(nodes),
    }
}

fn is_path_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn classify_bare(text: &str) -> Literal {
    if text.eq_ignore_ascii_case("true") {
        return Literal::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Literal::Bool(false);
    }
    if let Some(number) = parse_number(text) {
        return Literal::Number(number);
    }
    if let Ok(duration) = HumanDuration::parse(text) {
        return Literal::Duration {
            seconds: duration.as_secs(),
            text: text.to_owned(),
        };
    }
    Literal::String(text.to_owned())
}

/// `-12`, `3.5`, `1e3`; not `inf`, `nan` or a leading `+`.
fn parse_number(text: &str) -> Option<Number> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if let Ok(integer) = text.parse::<i128>() {
        return Some(Number::Integer(integer));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Number::Float)
}

fn compile_glob(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|error| format!("invalid glob pattern: {}", error.kind()))
}

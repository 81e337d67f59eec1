//! Where a command reads the JWT it is given: the argument itself, `-` for standard input, or
//! a file; surrounding whitespace never counts.

use std::path::Path;

use anyhow::{Context, bail};

/// The token argument, or standard input when the argument is `-`.
pub fn from_argument(argument: &str) -> anyhow::Result<String> {
    let text = if argument == "-" {
        read_stdin()?
    } else {
        argument.to_owned()
    };
    Ok(text.trim().to_owned())
}

/// The token in `file`, or on standard input without one; an empty token fails.
pub fn from_file_or_stdin(file: Option<&Path>) -> anyhow::Result<String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => read_stdin()?,
    };
    let token = text.trim().to_owned();
    if token.is_empty() {
        bail!("no token given");
    }
    Ok(token)
}

fn read_stdin() -> std::io::Result<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
    Ok(text)
}

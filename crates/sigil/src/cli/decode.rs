//! `sigil decode TOKEN`: prints a JWT's header and claims, offline and without verifying it,
//! with the registered times shown readable.

use serde_json::Value;

use super::token_input;
use crate::clock::rfc3339;

/// Arguments of `sigil decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The JWT (or `-` to read it from standard input).
    pub token: String,
}

/// Decodes and prints.
pub fn run(args: &DecodeArgs) -> anyhow::Result<()> {
    let token = token_input::from_argument(&args.token)?;
    let (header, claims) = sigil_jose::dangerous::insecure_decode(&token)
        .map_err(|e| anyhow::anyhow!("not a JWT: {e}"))?;
    print!("{}", render(&header, &claims)?);
    Ok(())
}

/// The text `decode` prints: a warning, the header, the claims, readable times.
pub fn render(header: &Value, claims: &Value) -> anyhow::Result<String> {
    let mut out = String::from("(signature NOT verified)\n\nHeader:\n");
    out.push_str(&serde_json::to_string_pretty(header)?);
    out.push_str("\n\nClaims:\n");
    out.push_str(&serde_json::to_string_pretty(claims)?);
    out.push('\n');
    let times: Vec<String> = ["iat", "nbf", "exp"]
        .iter()
        .filter_map(|name| {
            let seconds = claims.get(*name)?.as_i64()?;
            Some(format!("  {name}: {}", rfc3339(seconds)))
        })
        .collect();
    if !times.is_empty() {
        out.push_str("\nTimes (UTC):\n");
        out.push_str(&times.join("\n"));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_are_shown_readable() {
        let text = render(&json!({"alg": "ES256"}), &json!({"exp": 0, "sub": "x"})).unwrap();
        assert!(text.starts_with("(signature NOT verified)"));
        assert!(text.contains("exp: 1970-01-01T00:00:00Z"));
        assert!(text.contains("\"sub\": \"x\""));
    }
}

//! Claim templates (`minting::template`): parse, render against a fixed identity, and the
//! recursive `render_value`/`check_value`. Embedding a template in plain text renders the same
//! value as text, or fails the same way.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sigil::identity::Identity;
use sigil::minting::template::{Template, TemplateRefused, check_value, render_value};

static IDENTITY: LazyLock<Identity> = LazyLock::new(|| {
    let claims = json!({
        "sub": "repo:acme/payments", "run": 7, "ratio": 0.5, "admin": false, "none": null,
        "groups": ["a", "b"], "ctx": {"env": "prod", "n": {"deep": "x"}}, "a.b": "dotted",
        "": "empty", " ": "space", "{{": "braces", "é": "accent"
    });
    Identity {
        id: "github:acme/payments".into(),
        trusted_issuer: "github".into(),
        project: "p1".into(),
        roles: vec!["deployer".into(), "reader".into()],
        permissions: 3,
        policies: vec!["root".into()],
        claims: claims.as_object().cloned().unwrap_or_default(),
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_text(text);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let rendered = render_value(&value, &IDENTITY);
        if rendered.is_ok() {
            assert!(check_value(&value).is_ok(), "renders but does not check");
        }
        if check_value(&value).is_err() {
            assert!(rendered.is_err());
        }
    }
});

fn check_text(text: &str) {
    let template = match Template::parse(text) {
        Ok(template) => template,
        Err(TemplateRefused::Unclosed(offset)) => {
            // A byte offset of the `{{` that is not closed (or encloses nothing).
            assert!(
                text.get(offset..)
                    .is_some_and(|rest| rest.starts_with("{{")),
                "Unclosed({offset}) does not point at '{{{{' in {text:?}"
            );
            return;
        }
        Err(_) => return,
    };
    assert_eq!(template.is_constant(), !text.contains("{{"));
    let rendered = template.render(&IDENTITY);
    if template.is_constant() {
        assert_eq!(rendered.as_ref(), Ok(&Value::String(text.to_owned())));
    }
    if text.contains('<') || text.contains('>') {
        return;
    }
    let embedded = Template::parse(&format!("<{text}>"))
        .expect("plain text around a template does not change its parse")
        .render(&IDENTITY);
    let expected = match rendered {
        Ok(Value::String(s)) => Ok(Value::String(format!("<{s}>"))),
        Ok(Value::Number(n)) => Ok(Value::String(format!("<{n}>"))),
        Ok(Value::Bool(b)) => Ok(Value::String(format!("<{b}>"))),
        Ok(_) => {
            assert!(matches!(embedded, Err(TemplateRefused::NotScalar(_))));
            return;
        }
        Err(error) => Err(error),
    };
    assert_eq!(
        embedded, expected,
        "embedding {text:?} changed its rendering"
    );
}

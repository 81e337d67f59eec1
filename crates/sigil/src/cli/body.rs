//! Request bodies built from flags: a field for each flag given and none for a flag left out,
//! so that an update changes only what the command line names.

use serde_json::{Map, Value};

/// A JSON object built from command-line flags.
#[derive(Default)]
pub struct Body(Map<String, Value>);

impl Body {
    /// A body holding `name` when one is given (a create names the resource, an update not).
    pub fn named(name: Option<&str>) -> Body {
        Body::default().set("name", name)
    }

    /// Sets `field` when its flag was given.
    pub fn set(mut self, field: &str, value: Option<impl Into<Value>>) -> Body {
        if let Some(value) = value {
            self.0.insert(field.to_owned(), value.into());
        }
        self
    }

    /// Sets `field` when its repeatable flag was given at least once.
    pub fn list(self, field: &str, values: &[String]) -> Body {
        self.set(field, (!values.is_empty()).then_some(values))
    }

    /// The JSON object.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_flags_given_become_fields() {
        let body = Body::named(Some("a"))
            .set("ttl", Some("1h"))
            .set("enabled", None::<bool>)
            .list("audiences", &[])
            .list("roles", &["x".to_owned()])
            .into_value();
        assert_eq!(body, json!({"name": "a", "ttl": "1h", "roles": ["x"]}));
    }
}

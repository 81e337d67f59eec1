//! Response format negotiation: JSON unless the client's `Accept` prefers YAML.
//! Clients that accept neither still get JSON (no 406): the error body must be readable by
//! something, and every Sigil client reads JSON.

use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde::Serialize;

const YAML_TYPES: [&str; 3] = ["application/yaml", "application/x-yaml", "text/yaml"];

/// The format of a response body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `application/json`, the default.
    #[default]
    Json,
    /// `application/yaml`.
    Yaml,
}

impl Format {
    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Yaml => "application/yaml",
        }
    }
}

/// YAML when the `Accept` header gives a YAML type a higher quality than JSON, else JSON.
///
/// Each type's quality comes from the most specific matching range (`application/json` over
/// `application/*` over `*/*`, RFC 9110 §12.5.1); ties go to JSON.
pub fn from_accept(accept: Option<&HeaderValue>) -> Format {
    let Some(accept) = accept.and_then(|value| value.to_str().ok()) else {
        return Format::Json;
    };
    let ranges: Vec<MediaRange<'_>> = accept.split(',').filter_map(MediaRange::parse).collect();
    let json = quality(&ranges, "application/json");
    let yaml = YAML_TYPES
        .iter()
        .map(|media_type| quality(&ranges, media_type))
        .fold(0.0, f32::max);
    if yaml > json {
        Format::Yaml
    } else {
        Format::Json
    }
}

/// Serializes `value` in `format` with the matching `Content-Type`. A value that cannot be
/// serialized is a bug: it is logged and answered as a bare 500.
pub fn render(status: StatusCode, format: Format, value: &impl Serialize) -> Response {
    let body = match format {
        Format::Json => serde_json::to_string(value).map_err(|e| e.to_string()),
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| e.to_string()),
    };
    match body {
        Ok(body) => (
            status,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            )],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, ?format, "response body could not be serialized");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                r#"{"message":"internal error","error_code":"internal"}"#,
            )
                .into_response()
        }
    }
}

struct MediaRange<'a> {
    kind: &'a str,
    subtype: &'a str,
    quality: f32,
}

impl<'a> MediaRange<'a> {
    fn parse(range: &'a str) -> Option<Self> {
        let mut parts = range.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let mut quality = 1.0;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
        Some(Self {
            kind: kind.trim(),
            subtype: subtype.trim(),
            quality,
        })
    }

    /// How specifically this range matches `kind/subtype`: 3 exact, 2 `kind/*`, 1 `*/*`.
    fn specificity(&self, kind: &str, subtype: &str) -> Option<u8> {
        let kind_matches = self.kind.eq_ignore_ascii_case(kind);
        if kind_matches && self.subtype.eq_ignore_ascii_case(subtype) {
            Some(3)
        } else if kind_matches && self.subtype == "*" {
            Some(2)
        } else if self.kind == "*" && self.subtype == "*" {
            Some(1)
        } else {
            None
        }
    }
}

fn quality(ranges: &[MediaRange<'_>], media_type: &str) -> f32 {
    let Some((kind, subtype)) = media_type.split_once('/') else {
        return 0.0;
    };
    let mut best: Option<(u8, f32)> = None;
    for range in ranges {
        if let Some(specificity) = range.specificity(kind, subtype)
            && best.is_none_or(|(s, _)| specificity > s)
        {
            best = Some((specificity, range.quality));
        }
    }
    best.map_or(0.0, |(_, quality)| quality)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use serde_json::json;

    use super::*;

    fn negotiate(accept: &str) -> Format {
        from_accept(Some(&HeaderValue::from_str(accept).unwrap()))
    }

    async fn body_of(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn json_is_the_default_without_an_accept_header() {
        assert_eq!(from_accept(None), Format::Json);
        assert_eq!(negotiate("*/*"), Format::Json);
        assert_eq!(negotiate(""), Format::Json);
    }

    #[test]
    fn each_yaml_type_selects_yaml() {
        for accept in [
            "application/yaml",
            "application/x-yaml",
            "text/yaml",
            "Application/YAML",
        ] {
            assert_eq!(negotiate(accept), Format::Yaml, "{accept}");
        }
    }

    #[test]
    fn quality_values_decide_between_json_and_yaml() {
        assert_eq!(
            negotiate("application/json;q=0.5, application/yaml"),
            Format::Yaml
        );
        assert_eq!(
            negotiate("application/json, application/yaml;q=0.9"),
            Format::Json
        );
        assert_eq!(negotiate("application/yaml;q=0.8, */*;q=0.1"), Format::Yaml);
        assert_eq!(
            negotiate("text/yaml; q=0.2, application/json; q=0.1"),
            Format::Yaml
        );
    }

    #[test]
    fn ties_go_to_json() {
        assert_eq!(
            negotiate("application/yaml, application/json"),
            Format::Json
        );
        assert_eq!(negotiate("application/*"), Format::Json);
    }

    #[test]
    fn the_most_specific_range_sets_the_quality() {
        assert_eq!(
            negotiate("application/*;q=0.1, application/yaml"),
            Format::Yaml
        );
        assert_eq!(negotiate("application/yaml;q=0, */*"), Format::Json);
    }

    #[test]
    fn unparseable_or_unrelated_accept_falls_back_to_json() {
        assert_eq!(negotiate("image/png"), Format::Json);
        assert_eq!(negotiate("application/yaml;q=2"), Format::Json);
        assert_eq!(negotiate("garbage"), Format::Json);
    }

    #[test]
    fn an_absent_accept_header_means_json() {
        assert_eq!(from_accept(None), Format::Json);
    }

    #[tokio::test]
    async fn renders_json_with_its_content_type_and_status() {
        let response = render(StatusCode::CREATED, Format::Json, &json!({"name": "k"}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body_of(response).await, r#"{"name":"k"}"#);
    }

    #[tokio::test]
    async fn renders_yaml_with_its_content_type() {
        let response = render(
            StatusCode::OK,
            Format::Yaml,
            &json!({"name": "k", "ttl": "1h"}),
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/yaml");
        let body = body_of(response).await;
        assert_eq!(body, "name: k\nttl: 1h\n");
    }
}

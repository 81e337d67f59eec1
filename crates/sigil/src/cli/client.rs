//! The HTTP client behind the client commands: bearer auth, JSON bodies, and server errors
//! turned into readable messages listing every invalid field.

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::ClientArgs;

/// A client of one Sigil server.
pub struct Client {
    http: reqwest::Client,
    addr: String,
    token: Option<String>,
}

impl Client {
    /// A client for the shared arguments.
    pub fn new(args: &ClientArgs) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client {
            http,
            addr: args.addr.trim_end_matches('/').to_owned(),
            token: args.token.clone(),
        })
    }

    /// Sends a request; answers the JSON body (`Null` for 204), or fails with the server's
    /// message and invalid fields.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        self.send(self.json_request(method, path, body)).await
    }

    /// Sends a body as it is (a YAML or JSON file), with the content type its extension implies.
    pub async fn call_file(
        &self,
        method: Method,
        path: &str,
        file: &std::path::Path,
    ) -> anyhow::Result<Value> {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let yaml = matches!(
            file.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let content_type = if yaml {
            "application/yaml"
        } else {
            "application/json"
        };
        let request = self
            .request(method, path)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes);
        self.send(request).await
    }

    /// Sends a request and answers the status with the JSON body, whatever the status (for
    /// answers such as `explain` that carry a body on 401).
    pub async fn call_any(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.answer(self.json_request(method, path, body)).await
    }

    /// Sends a form-encoded request (OAuth endpoints) and answers the status with the body.
    pub async fn call_form(
        &self,
        method: Method,
        path: &str,
        form: &[(&str, String)],
    ) -> anyhow::Result<(StatusCode, Value)> {
        let body = form
            .iter()
            .fold(
                form_urlencoded::Serializer::new(String::new()),
                |mut s, (k, v)| {
                    s.append_pair(k, v);
                    s
                },
            )
            .finish();
        let request = self
            .http
            .request(method, format!("{}{path}", self.addr))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        self.answer(request).await
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.addr);
        let request = self.http.request(method, &url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn json_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let request = self.request(method, path);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let (status, text) = self.exchange(request).await?;
        if status.is_success() {
            if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text)
                .context("the server answered something that is not JSON");
        }
        bail!("{}", describe_error(status, &text))
    }

    /// The status and the body, JSON when it parses and a string otherwise.
    async fn answer(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let (status, text) = self.exchange(request).await?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(StatusCode, String)> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach Sigil at {}", self.addr))?;
        let status = response.status();
        let text = response.text().await.context("cannot read the response")?;
        Ok((status, text))
    }
}
fn describe_error(status: StatusCode, text: &str) -> String {
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        return format!("{status}: {}", text.trim());
    };
    let mut message = format!(
        "{status}: {}",
        body.get("message")
            .and_then(Value::as_str)
            .unwrap_or("request failed")
    );
    if let Some(code) = body.get("error_code").and_then(Value::as_str) {
        message.push_str(&format!(" [{code}]"));
    }
    if let Some(fields) = body.get("invalid_fields").and_then(Value::as_array) {
        for field in fields {
            let name = field.get("name").and_then(Value::as_str).unwrap_or("?");
            let reason = field.get("reason").and_then(Value::as_str).unwrap_or("");
            message.push_str(&format!("\n  {name}: {reason}"));
        }
    }
    if let Some(id) = body.get("request_id").and_then(Value::as_str) {
        message.push_str(&format!(" (request id {id})"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_list_every_field() {
        let text = r#"{"message":"invalid request: name, type","error_code":"invalid_request",
            "invalid_fields":[{"name":"name","reason":"must not be empty","error_code":"invalid"},
            {"name":"type","reason":"unknown key type","error_code":"invalid"}]}"#;
        let message = describe_error(StatusCode::BAD_REQUEST, text);
        assert!(message.contains("[invalid_request]"));
        assert!(message.contains("\n  name: must not be empty"));
        assert!(message.contains("\n  type: unknown key type"));
    }
}

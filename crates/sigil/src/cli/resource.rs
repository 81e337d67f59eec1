//! The list, show, create, update and delete every configuration resource shares: where it is
//! written, where it is read back, and a body taken from flags or sent as a `--file`.

use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use super::Client;

/// The flags of a create or update: fields to set, or a whole JSON/YAML body in `--file`.
pub trait Fields {
    /// The `--file` given instead of flags.
    fn file(&self) -> Option<&Path>;
    /// The body the flags describe; a create passes the resource's `name`.
    fn body(&self, name: Option<&str>) -> anyhow::Result<Value>;
}

/// One kind of configuration resource on one server.
pub struct Resource<'a> {
    client: &'a Client,
    config: String,
    state: String,
}

impl<'a> Resource<'a> {
    /// A resource written and read under `/v1/config/{kind}`.
    pub fn config(client: &'a Client, kind: &str) -> Resource<'a> {
        let config = format!("/v1/config/{kind}");
        Resource {
            client,
            state: config.clone(),
            config,
        }
    }

    /// A resource written under `/v1/config/{kind}` and read, with its runtime state, under
    /// `/v1/state/{kind}`.
    pub fn with_state(client: &'a Client, kind: &str) -> Resource<'a> {
        Resource {
            client,
            config: format!("/v1/config/{kind}"),
            state: format!("/v1/state/{kind}"),
        }
    }

    /// Every resource of the kind.
    pub async fn list(&self) -> anyhow::Result<Value> {
        self.client.call(Method::GET, &self.state, None).await
    }

    /// One resource.
    pub async fn show(&self, name: &str) -> anyhow::Result<Value> {
        let path = format!("{}/{name}", self.state);
        self.client.call(Method::GET, &path, None).await
    }

    /// Creates `name`: a `--file` is PUT as it is, flags are POSTed to the collection.
    pub async fn create(&self, name: &str, fields: &impl Fields) -> anyhow::Result<Value> {
        match fields.file() {
            Some(file) => self.send_file(Method::PUT, name, file).await,
            None => self.post(&fields.body(Some(name))?).await,
        }
    }

    /// Creates a resource from a body built in place.
    pub async fn post(&self, body: &Value) -> anyhow::Result<Value> {
        let path = &self.config;
        self.client.call(Method::POST, path, Some(body)).await
    }

    /// Changes the fields of `name` the flags (or the `--file`) give.
    pub async fn update(&self, name: &str, fields: &impl Fields) -> anyhow::Result<Value> {
        match fields.file() {
            Some(file) => self.send_file(Method::PATCH, name, file).await,
            None => self.patch(name, &fields.body(None)?).await,
        }
    }

    /// Changes the fields of `name` in a body built in place.
    pub async fn patch(&self, name: &str, body: &Value) -> anyhow::Result<Value> {
        let path = self.path(name);
        self.client.call(Method::PATCH, &path, Some(body)).await
    }

    /// Creates or replaces `name` whole, from flags or a `--file`.
    pub async fn replace(&self, name: &str, fields: &impl Fields) -> anyhow::Result<Value> {
        match fields.file() {
            Some(file) => self.send_file(Method::PUT, name, file).await,
            None => self.put(name, &fields.body(Some(name))?).await,
        }
    }

    /// Deletes `name`.
    pub async fn delete(&self, name: &str) -> anyhow::Result<()> {
        let path = self.path(name);
        self.client.call(Method::DELETE, &path, None).await?;
        Ok(())
    }

    async fn put(&self, name: &str, body: &Value) -> anyhow::Result<Value> {
        let path = self.path(name);
        self.client.call(Method::PUT, &path, Some(body)).await
    }

    async fn send_file(&self, method: Method, name: &str, file: &Path) -> anyhow::Result<Value> {
        self.client.call_file(method, &self.path(name), file).await
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.config)
    }
}

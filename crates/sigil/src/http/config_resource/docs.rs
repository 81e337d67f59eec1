//! The OpenAPI description of a generic configuration resource, built from the same paths the
//! router serves, so the document cannot drift from the routes.

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathItemBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ContentBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, Required, ResponseBuilder,
};

/// Names the documentation needs for one resource.
pub struct ResourceDocs {
    /// Collection template under `/v1/config`.
    pub config_path: &'static str,
    /// OpenAPI tag.
    pub tag: &'static str,
    /// Schema of the request body.
    pub body_schema: &'static str,
    /// Schema of the state view.
    pub state_schema: &'static str,
}

impl ResourceDocs {
    /// The paths of the resource as an OpenAPI fragment to merge.
    pub fn openapi(&self) -> OpenApi {
        let state_path = self.config_path.replacen("/v1/config/", "/v1/state/", 1);
        let item = format!("{}/{{item}}", self.config_path);
        let state_item = format!("{state_path}/{{item}}");
        let collection_params = path_params(self.config_path);
        let item_params = path_params(&item);
        let paths = PathsBuilder::new()
            .path(
                self.config_path,
                PathItemBuilder::new()
                    .operation(
                        HttpMethod::Get,
                        self.op(
                            "list",
                            &collection_params,
                            None,
                            &[("200", Some(self.body_schema))],
                        ),
                    )
                    .operation(
                        HttpMethod::Post,
                        self.op(
                            "create",
                            &collection_params,
                            Some(self.body_schema),
                            &[
                                ("201", Some(self.body_schema)),
                                ("400", None),
                                ("409", None),
                            ],
                        ),
                    )
                    .build(),
            )
            .path(
                item,
                PathItemBuilder::new()
                    .operation(
                        HttpMethod::Get,
                        self.op(
                            "read",
                            &item_params,
                            None,
                            &[("200", Some(self.body_schema)), ("404", None)],
                        ),
                    )
                    .operation(
                        HttpMethod::Put,
                        self.op(
                            "replace or create",
                            &item_params,
                            Some(self.body_schema),
                            &[("201", None), ("204", None), ("400", None), ("412", None)],
                        ),
                    )
                    .operation(
                        HttpMethod::Patch,
                        self.op(
                            "merge-patch",
                            &item_params,
                            Some(self.body_schema),
                            &[("204", None), ("400", None), ("404", None), ("412", None)],
                        ),
                    )
                    .operation(
                        HttpMethod::Delete,
                        self.op(
                            "delete",
                            &item_params,
                            None,
                            &[("204", None), ("404", None), ("409", None), ("412", None)],
                        ),
                    )
                    .build(),
            )
            .path(
                state_path.clone(),
                single(
                    HttpMethod::Get,
                    self.op(
                        "list state",
                        &collection_params,
                        None,
                        &[("200", Some(self.state_schema))],
                    ),
                ),
            )
            .path(
                state_item,
                single(
                    HttpMethod::Get,
                    self.op(
                        "read state",
                        &item_params,
                        None,
                        &[("200", Some(self.state_schema)), ("404", None)],
                    ),
                ),
            )
            .build();
        OpenApiBuilder::new().paths(paths).build()
    }

    fn op(
        &self,
        summary: &str,
        params: &[String],
        body: Option<&str>,
        responses: &[(&str, Option<&str>)],
    ) -> utoipa::openapi::path::Operation {
        let mut operation = OperationBuilder::new()
            .tag(self.tag)
            .summary(Some(format!("{summary} ({})", self.tag)));
        for name in params {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True),
            );
        }
        if let Some(schema) = body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json(schema))
                    .content("application/yaml", json(schema))
                    .build(),
            ));
        }
        for (status, schema) in responses {
            let mut response = ResponseBuilder::new().description(describe(status));
            let schema = schema.or(if *status >= "400" {
                Some("ErrorBody")
            } else {
                None
            });
            if let Some(schema) = schema {
                response = response.content("application/json", json(schema));
            }
            operation = operation.response(*status, response.build());
        }
        operation.build()
    }
}

fn single(method: HttpMethod, operation: utoipa::openapi::path::Operation) -> PathItem {
    PathItem::new(method, operation)
}

fn json(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}

fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

fn describe(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created (with ETag and Location)",
        "204" => "Done (with the new ETag)",
        "400" => "Invalid: every bad field is listed",
        "404" => "Not found",
        "409" => "Conflict: already_exists, in_use, internal_resource",
        "412" => "If-Match does not match the ETag",
        _ => "",
    }
}

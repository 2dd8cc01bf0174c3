//! `/api/v1/openapi.json`: the API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the response types' `ToSchema`, so that it cannot drift
//! from what the handlers answer (a test validates real responses against it).

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{duplicates_api, groups_api, history_api, networks_api, packages_api};
use super::{options_api, packages_status_api, software_api};
use crate::app::AppState;

/// The document's route; it needs no token (it describes, it shows no data).
pub const PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OCS Inventory NG API",
        description = "The JSON API of the Rust OCS Inventory NG server. Every route takes \
            `Authorization: Bearer <token>` (`ocs-server token create`); routes that change \
            data need a token of the write scope, changes of server options one of the admin \
            scope. Errors are `{code, message}`; lists are \
            paged with `page` (from 1) and `per_page` (at most 1000)."
    ),
    paths(
        super::computers_list_get,
        super::computer_get,
        super::computer_patch,
        super::computer_delete,
        history_api::computer_history_get,
        history_api::changes_get,
        groups_api::groups_get,
        groups_api::groups_post,
        groups_api::group_get,
        groups_api::group_patch,
        groups_api::group_delete,
        groups_api::members_get,
        groups_api::members_post,
        groups_api::members_delete,
        groups_api::refresh_post,
        packages_api::packages_get,
        packages_api::packages_post,
        packages_api::package_get,
        packages_api::package_delete,
        packages_api::activate_post,
        packages_status_api::status_get,
        software_api::list_get,
        software_api::software_get,
        networks_api::networks_get,
        networks_api::devices_get,
        duplicates_api::list_get,
        duplicates_api::merges_get,
        duplicates_api::merges_post,
        duplicates_api::undo_post,
        options_api::options_get,
        options_api::option_get,
        options_api::options_patch,
    ),
    modifiers(&BearerToken),
    tags(
        (name = "computers", description = "Inventoried computers, their administrative data, their deletion"),
        (name = "history", description = "Changes between inventories and edits"),
        (name = "groups", description = "Static and dynamic groups, their members"),
        (name = "packages", description = "Deployment packages, their activation and status"),
        (name = "software", description = "The fleet's software"),
        (name = "networks", description = "Networks found by IP discovery and their devices"),
        (name = "duplicates", description = "Duplicate computers and merges"),
        (name = "options", description = "Server options (OCS_OPT_*); changes need the admin scope"),
    )
)]
struct ApiDoc;

/// The `token` security scheme every operation names.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token: `ocs-server token create --name NAME [--scope write]`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(openapi_get))
}

async fn openapi_get() -> Response {
    Json(document()).into_response()
}

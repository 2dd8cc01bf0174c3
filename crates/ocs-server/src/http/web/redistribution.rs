//! Console pages of redistribution groups (seed 001): the list (`/redistribution`: name,
//! description, creation date, members, fragments location) and a group's page
//! (`/redistribution/{id}`: rename, describe, set `pack_url`, the members table with a
//! remove button per member, delete with confirmation). Groups are made from search results
//! by the mass action; the services are [`crate::app::deployment::redistribution`].

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use ocs_storage::{HostId, RedistributionGroupId};
use serde::Deserialize;

use super::computers::date_text;
use super::{done, error_page, failed, outcome, render, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::deployment::redistribution;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/redistribution", get(list_get))
        .route("/redistribution/{id}", get(group_get).post(update_post))
        .route("/redistribution/{id}/remove", post(remove_post))
        .route("/redistribution/{id}/delete", post(delete_post))
}

fn group_id(text: &str) -> Result<RedistributionGroupId, AppError> {
    text.parse::<i64>().map(RedistributionGroupId).map_err(|_| {
        AppError::NotFound(format!(
            "redistribution group {:?}",
            text.chars().take(20).collect::<String>()
        ))
    })
}

/// One group of the list.
pub struct GroupRow {
    /// ID.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Creation date.
    pub created: String,
    /// Members.
    pub members: i64,
    /// Fragments location.
    pub pack_url: String,
}

#[derive(Template)]
#[template(path = "deployment/redistribution_list.html")]
struct ListPage {
    page: PageCtx,
    rows: Vec<GroupRow>,
}

async fn list_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let groups = match redistribution::groups(&state).await {
        Ok(g) => g,
        Err(e) => return error_page(&ctx, &e),
    };
    let rows = groups
        .into_iter()
        .map(|g| GroupRow {
            id: g.id.0,
            name: g.name,
            description: g.description,
            created: date_text(g.created_at),
            members: g.members,
            pack_url: g.pack_url,
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &ListPage {
            page: PageCtx::new(&ctx, &viewer, "deployment"),
            rows,
        },
    )
}

/// One member of a group's page.
pub struct MemberRow {
    /// Computer ID.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub ip: String,
    /// Subnet.
    pub subnet: String,
    /// Where it serves fragments.
    pub pack_loc: String,
}

#[derive(Template)]
#[template(path = "deployment/redistribution.html")]
struct GroupPage {
    page: PageCtx,
    g: GroupRow,
    members: Vec<MemberRow>,
}

async fn group_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let found = match group_id(&id) {
        Ok(id) => redistribution::group(&state, id).await,
        Err(e) => Err(e),
    };
    let (group, members) = match found {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, &e),
    };
    let members = members
        .into_iter()
        .map(|m| MemberRow {
            pack_loc: redistribution::substitute(&group.pack_url, &m.ip, &m.name),
            id: m.hardware_id.0,
            name: m.name,
            ip: m.ip,
            subnet: m.subnet,
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &GroupPage {
            page: PageCtx::new(&ctx, &viewer, "deployment"),
            g: GroupRow {
                id: group.id.0,
                name: group.name,
                description: group.description,
                created: date_text(group.created_at),
                members: group.members,
                pack_url: group.pack_url,
            },
            members,
        },
    )
}

/// The edit form of a group.
#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    pack_url: String,
}

async fn update_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let back = format!("/redistribution/{id}");
    let result = async {
        let admin = require_admin(&viewer)?;
        redistribution::update(
            &state,
            &admin,
            group_id(&id)?,
            &form.name,
            &form.description,
            &form.pack_url,
        )
        .await
    }
    .await;
    outcome(&ctx, &back, result, "redistribution.saved")
}

/// The remove-member form.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    computer: String,
}

async fn remove_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let back = format!("/redistribution/{id}");
    let result = async {
        let admin = require_admin(&viewer)?;
        let host = form
            .computer
            .trim()
            .parse::<i64>()
            .map(HostId)
            .map_err(|_| AppError::bad_request("E_BAD_VALUE", "redistribution.bad_computer"))?;
        redistribution::remove_server(&state, &admin, group_id(&id)?, host).await
    }
    .await;
    outcome(&ctx, &back, result, "redistribution.removed")
}

/// The delete confirmation: the group's name typed again.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

async fn delete_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let back = format!("/redistribution/{id}");
    let admin = match require_admin(&viewer) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, &e),
    };
    let result = async {
        let id = group_id(&id)?;
        let (group, _) = redistribution::group(&state, id).await?;
        if form.confirm.trim() != group.name {
            return Err(AppError::bad_request(
                "E_REDISTRIBUTION_CONFIRM",
                "redistribution.confirm_needed",
            ));
        }
        redistribution::delete(&state, &admin, id).await
    }
    .await;
    match result {
        Ok(()) => done(
            &ctx,
            "/redistribution",
            ctx.tr.get("redistribution.deleted"),
        ),
        Err(e) => failed(&ctx, &back, &e),
    }
}

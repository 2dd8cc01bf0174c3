//! The scanning computers page: which computers scan which network, how and why they were
//! chosen, and the administrator's buttons (unelect, never, force on one of the computer's
//! networks). Reading needs a signed-in account; `app::ipdiscover::agents` checks the rest.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::computers::date_text;
use super::{done, error_page, outcome, page_or_error, PageCtx, SignedIn};
use crate::app::auth::require_admin;
use crate::app::i18n::Tr;
use crate::app::ipdiscover::agents::{self, AgentLine, AgentsQuery, ForceChoice, Reason};
use crate::app::{AppError, AppState};

/// Routes of this page.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/networks/agents", get(agents_get))
        .route("/networks/agents/force", post(agents_force_post))
        .route("/networks/agents/{id}/unelect", post(agents_unelect_post))
        .route("/networks/agents/{id}/never", post(agents_never_post))
}

/// The page's query string (all text: bad values fall back, see [`AgentsQuery::parse`]).
#[derive(Deserialize)]
struct AgentsParams {
    netid: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
    /// The computer the force form is for.
    computer: Option<String>,
}

/// One computer as listed.
struct AgentRow {
    id: i64,
    name: String,
    netid: String,
    /// Catalogue text of how it was chosen.
    how: String,
    /// `never`, `automatic` or `forced` (a CSS class and a test hook).
    how_key: &'static str,
    never: bool,
    reason: String,
    /// "n of max" elected on its network; empty for an excluded computer.
    count: String,
    quality: String,
    fidelity: i64,
    last: String,
}

/// A sortable column header: label, link, and its arrow when it is the current sort.
struct SortHeader {
    label: String,
    href: String,
    arrow: &'static str,
}

/// The force form's second step, for one computer.
struct ForceForm {
    id: i64,
    name: String,
    /// (value, label, selected).
    networks: Vec<(String, String, bool)>,
    current: String,
}

#[derive(Template)]
#[template(path = "ipdiscover/agents.html")]
struct AgentsPage {
    page: PageCtx,
    admin: bool,
    rows: Vec<AgentRow>,
    headers: Vec<SortHeader>,
    netid: String,
    summary: String,
    off: bool,
    page_text: String,
    prev: Option<String>,
    next: Option<String>,
    force: Option<ForceForm>,
}

fn link(netid: Option<&str>, sort: &str, desc: bool, page: i64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(n) = netid {
        pairs.push(("netid", n.to_owned()));
    }
    pairs.push(("sort", sort.to_owned()));
    if desc {
        pairs.push(("dir", "desc".to_owned()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    format!(
        "/networks/agents?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

fn headers(tr: &Tr, q: &AgentsQuery) -> Vec<SortHeader> {
    [
        ("name", "ipdagents.computer"),
        ("network", "ipdagents.network"),
        ("how", "ipdagents.how"),
        ("quality", "ipdagents.quality"),
        ("fidelity", "ipdagents.fidelity"),
        ("lastdate", "ipdagents.last_contact"),
    ]
    .into_iter()
    .map(|(sort, key)| {
        let current = q.sort_name() == sort;
        SortHeader {
            label: tr.get(key).to_owned(),
            href: link(q.netid.as_deref(), sort, current && !q.descending, 1),
            arrow: match (current, q.descending) {
                (false, _) => "",
                (true, false) => " ▲",
                (true, true) => " ▼",
            },
        }
    })
    .collect()
}

fn reason_text(tr: &Tr, reason: &Reason, max_alive: i64) -> String {
    let replaced = |r: &agents::Replaced| {
        r.name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| tr.n("ipdagents.deleted_computer", r.id.0))
    };
    match reason {
        Reason::FreeSlot => tr.get("ipdagents.reason_free_slot").to_owned(),
        Reason::ReplacedStale(r) => tr.fmt(
            "ipdagents.reason_stale",
            &[("name", &replaced(r)), ("days", &max_alive)],
        ),
        Reason::ReplacedQuality(r) => tr.fmt("ipdagents.reason_quality", &[("name", &replaced(r))]),
        Reason::Forced => tr.get("ipdagents.reason_forced").to_owned(),
        Reason::Never => tr.get("ipdagents.reason_never").to_owned(),
        Reason::Unknown => tr.get("ipdagents.reason_unknown").to_owned(),
        Reason::Other(code) => tr.fmt("ipdagents.reason_other", &[("code", code)]),
    }
}

fn row(tr: &Tr, line: AgentLine, per_network: i64, max_alive: i64) -> AgentRow {
    let s = line.scanner;
    AgentRow {
        id: s.id.0,
        name: s.name,
        how: tr
            .get(&format!("ipdagents.how_{}", line.how.key()))
            .to_owned(),
        how_key: line.how.key(),
        never: line.how == agents::How::Never,
        reason: reason_text(tr, &line.reason, max_alive),
        count: if s.netid.is_empty() || line.how == agents::How::Never {
            String::new()
        } else {
            tr.fmt(
                "ipdagents.count",
                &[("n", &line.elected_here), ("max", &per_network)],
            )
        },
        netid: s.netid,
        quality: format!("{:.2}", s.quality),
        fidelity: s.fidelity,
        last: s.lastdate.map(date_text).unwrap_or_default(),
    }
}

fn force_form(tr: &Tr, c: ForceChoice) -> ForceForm {
    let current_net = c
        .current
        .as_ref()
        .map(|s| s.netid.clone())
        .unwrap_or_default();
    ForceForm {
        id: c.id.0,
        name: c.name,
        networks: c
            .networks
            .into_iter()
            .map(|n| {
                let selected = n.netid == current_net;
                let label = if n.mask.is_empty() {
                    n.netid.clone()
                } else {
                    format!("{} / {}", n.netid, n.mask)
                };
                (n.netid, label, selected)
            })
            .collect(),
        current: match c.current {
            None => tr.get("ipdagents.force_not_elected").to_owned(),
            Some(s) => match agents::How::of(s.ivalue) {
                agents::How::Never => tr.get("ipdagents.how_never").to_owned(),
                how => tr.fmt(
                    "ipdagents.force_current",
                    &[
                        ("how", &tr.get(&format!("ipdagents.how_{}", how.key()))),
                        ("netid", &s.netid),
                    ],
                ),
            },
        },
    }
}

async fn agents_get(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(p): Query<AgentsParams>,
) -> Response {
    let result = async {
        let q = AgentsQuery::parse(
            p.netid.as_deref(),
            p.sort.as_deref(),
            p.dir.as_deref(),
            p.page.as_deref(),
        )?;
        let view = agents::list(&state, &q).await?;
        let force = match p.computer.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() && signed.viewer.is_admin() => {
                let id = c
                    .parse::<i64>()
                    .map_err(|_| AppError::NotFound(format!("computer {c:?}")))?;
                Some(agents::force_choice(&state, id).await?)
            }
            _ => None,
        };
        let tr = &signed.ctx.tr;
        let summary = match (&q.netid, view.elected_on_netid) {
            (Some(n), Some(count)) => tr.fmt(
                "ipdagents.summary_network",
                &[("netid", n), ("n", &count), ("max", &view.per_network)],
            ),
            _ => tr.count("ipdagents.summary", view.total),
        };
        let prev =
            (q.page > 1).then(|| link(q.netid.as_deref(), q.sort_name(), q.descending, q.page - 1));
        let next = (q.page < view.pages)
            .then(|| link(q.netid.as_deref(), q.sort_name(), q.descending, q.page + 1));
        Ok::<_, AppError>(AgentsPage {
            page: PageCtx::new(&signed.ctx, &signed.viewer, "networks_agents"),
            admin: signed.viewer.is_admin(),
            headers: headers(tr, &q),
            rows: view
                .lines
                .into_iter()
                .map(|l| row(tr, l, view.per_network, view.max_alive))
                .collect(),
            netid: q.netid.clone().unwrap_or_default(),
            summary,
            off: view.per_network == 0,
            page_text: tr.fmt(
                "ipdagents.page_of",
                &[("page", &q.page), ("pages", &view.pages)],
            ),
            prev,
            next,
            force: force.map(|c| force_form(tr, c)),
        })
    }
    .await;
    page_or_error(&signed, result)
}

/// The force form.
#[derive(Deserialize)]
struct ForceParams {
    #[serde(default)]
    computer: String,
    #[serde(default)]
    netid: String,
}

async fn agents_force_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Form(f): Form<ForceParams>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let id = f
            .computer
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::bad_request("E_BAD_COMPUTER", "ipdagents.bad_computer"))?;
        agents::force(&state, &admin, id, &f.netid).await
    }
    .await;
    match result {
        Ok(netid) => done(
            &signed.ctx,
            &format!("/networks/agents?netid={netid}"),
            &signed.ctx.tr.fmt("ipdagents.forced", &[("netid", &netid)]),
        ),
        // A refused choice is a real 400 with its reason, not a flash on another page.
        Err(e) => error_page(&signed.ctx, &e),
    }
}

async fn agents_unelect_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        agents::unelect(&state, &admin, id).await
    }
    .await;
    outcome(
        &signed.ctx,
        "/networks/agents",
        result,
        "ipdagents.unelected",
    )
}

async fn agents_never_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        agents::never(&state, &admin, id).await
    }
    .await;
    outcome(
        &signed.ctx,
        "/networks/agents",
        result,
        "ipdagents.excluded",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ipdiscover::agents::{How, Replaced};
    use ocs_storage::HostId;

    #[test]
    fn every_reason_code_reads_as_words_in_english_and_french() {
        let old = |name: Option<&str>| Replaced {
            id: HostId(42),
            name: name.map(str::to_owned),
        };
        let (en, fr) = (Tr::new("en"), Tr::new("fr"));
        let cases = [
            (
                Reason::parse("free_slot", How::Automatic),
                "free slot",
                "place libre",
            ),
            (
                Reason::ReplacedStale(old(Some("pc-7"))),
                "replaced pc-7, not seen for more than 7 days",
                "a remplacé pc-7, sans nouvelles depuis plus de 7 jours",
            ),
            (
                Reason::ReplacedQuality(old(None)),
                "replaced computer #42 (deleted since), better quality",
                "a remplacé ordinateur n°42 (supprimé depuis), de meilleure qualité",
            ),
            (
                Reason::parse("forced", How::Forced),
                "forced by an administrator",
                "forcé par un administrateur",
            ),
            (
                Reason::parse("", How::Never),
                "excluded by an administrator",
                "exclu par un administrateur",
            ),
            (
                Reason::parse("", How::Automatic),
                "no reason recorded",
                "aucune raison enregistrée",
            ),
            (
                Reason::parse("moon_phase", How::Automatic),
                "recorded as moon_phase",
                "enregistré comme moon_phase",
            ),
        ];
        for (reason, english, french) in cases {
            assert_eq!(reason_text(&en, &reason, 7), english);
            assert_eq!(reason_text(&fr, &reason, 7), french);
        }
    }
}

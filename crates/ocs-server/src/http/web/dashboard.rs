//! The home page after sign-in: fleet figures and charts, each opening the list it counts.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use ocs_storage::dashboard::Repartition;

use super::chart::{bar_chart, Chart, Item};
use super::computers::date_text;
use super::search::search_url;
use super::{error_page, render, PageCtx, SignedIn};
use crate::app::dashboard::{self, Seen, CHART_VALUES};
use crate::app::i18n::Tr;
use crate::app::AppState;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home_get))
}

/// A figure of the first row: a count and the list it opens.
pub struct Figure {
    /// HTML ID.
    pub id: &'static str,
    /// What it counts.
    pub label: String,
    /// Since when, or before when (empty for the total).
    pub hint: String,
    /// The count.
    pub count: i64,
    /// The list of those computers.
    pub url: String,
}

/// A chart with its heading and what the chart leaves out.
pub struct Panel {
    /// HTML ID of the chart.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// The bars.
    pub chart: Chart,
    /// "N other values, M computers", if any.
    pub others: String,
    /// The page with every value, if there is one.
    pub more_url: Option<String>,
}

/// A recent inventory, as listed.
pub struct RecentRow {
    /// The computer page.
    pub url: String,
    /// Name (its ID when it has none).
    pub name: String,
    /// Operating system.
    pub os: String,
    /// When.
    pub at: String,
}

#[derive(Template)]
#[template(path = "dashboard/home.html")]
struct HomePage {
    page: PageCtx,
    figures: Vec<Figure>,
    panels: Vec<Panel>,
    software_note: String,
    recent: Vec<RecentRow>,
    changes: Vec<super::history::ChangeLine>,
}

async fn home_get(State(state): State<AppState>, signed: SignedIn) -> Response {
    let SignedIn { viewer, ctx } = signed;
    let d = match dashboard::dashboard(&state).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, &e),
    };
    let tr = &ctx.tr;
    let mut figures = vec![Figure {
        id: "fig-total",
        label: tr.get("dashboard.total").to_owned(),
        hint: String::new(),
        count: d.total,
        url: "/computers".to_owned(),
    }];
    figures.extend(d.seen.iter().map(|s| seen_figure(tr, s)));
    figures.push(not_seen_figure(tr, &d.not_seen));

    let software = bar_chart(
        d.top_software
            .iter()
            .map(|s| Item {
                label: s.name.clone(),
                count: s.computers,
                url: Some(format!("/software/{}/computers", s.name_id)),
            })
            .collect(),
        CHART_VALUES + 2,
    );
    let panels = vec![
        panel(
            tr,
            "chart-os",
            "dashboard.by_os",
            &d.by_os,
            Some("os"),
            None,
        ),
        panel(
            tr,
            "chart-agents",
            "dashboard.by_agent",
            &d.by_agent,
            Some("useragent"),
            None,
        ),
        panel(
            tr,
            "chart-tags",
            "dashboard.by_tag",
            &d.by_tag,
            Some("tag"),
            Some("/tags".to_owned()),
        ),
        Panel {
            id: "chart-software",
            title: tr.get("dashboard.top_software").to_owned(),
            chart: software,
            others: String::new(),
            more_url: Some("/software?sort=computers&dir=desc".to_owned()),
        },
    ];
    let software_note = match d.software_counted_at {
        Some(at) => tr.fmt("dashboard.software_counted", &[("at", &date_text(at))]),
        None => tr.get("dashboard.software_counting").to_owned(),
    };
    let recent = d
        .recent
        .iter()
        .map(|r| RecentRow {
            url: format!("/computers/{}", r.id),
            name: r.name.clone().unwrap_or_else(|| format!("#{}", r.id)),
            os: r.os.clone().unwrap_or_default(),
            at: date_text(r.at),
        })
        .collect();
    render(
        &ctx,
        StatusCode::OK,
        &HomePage {
            page: PageCtx::new(&ctx, &viewer, "home"),
            figures,
            panels,
            software_note,
            recent,
            changes: d
                .changes
                .iter()
                .map(|r| super::history::line(&ctx.tr, r))
                .collect(),
        },
    )
}

fn day_text(secs: i64) -> String {
    date_text(secs).chars().take(10).collect()
}

/// "Seen since D" is the search "last contact after D - 1" (a date criterion covers its
/// whole day).
fn seen_figure(tr: &Tr, s: &Seen) -> Figure {
    let day_before = day_text(s.since - 86_400);
    Figure {
        id: match s.days {
            1 => "fig-seen-1",
            7 => "fig-seen-7",
            _ => "fig-seen-30",
        },
        label: if s.days == 1 {
            tr.get("dashboard.seen_today").to_owned()
        } else {
            tr.n("dashboard.seen_days", s.days)
        },
        hint: tr.fmt("dashboard.since", &[("date", &day_text(s.since))]),
        count: s.computers,
        url: search_url(&[("f0", "lastcome"), ("o0", "bigger"), ("v0", &day_before)]),
    }
}

fn not_seen_figure(tr: &Tr, s: &Seen) -> Figure {
    let day = day_text(s.since);
    Figure {
        id: "fig-not-seen",
        label: tr.n("dashboard.not_seen", s.days),
        hint: tr.fmt("dashboard.before", &[("date", &day)]),
        count: s.computers,
        url: search_url(&[("f0", "lastcome"), ("o0", "smaller"), ("v0", &day)]),
    }
}

/// A chart of a repartition; each bar searches `field` equal to its value (values not
/// reported have no search, so no link).
fn panel(
    tr: &Tr,
    id: &'static str,
    title: &str,
    r: &Repartition,
    field: Option<&str>,
    more_url: Option<String>,
) -> Panel {
    let items = r
        .top
        .iter()
        .map(|(value, count)| Item {
            label: value
                .clone()
                .unwrap_or_else(|| tr.get("dashboard.unknown").to_owned()),
            count: *count,
            url: match (value, field) {
                (Some(v), Some(f)) => Some(search_url(&[("f0", f), ("o0", "equal"), ("v0", v)])),
                _ => None,
            },
        })
        .collect();
    Panel {
        id,
        title: tr.get(title).to_owned(),
        chart: bar_chart(items, CHART_VALUES),
        others: if r.other_values > 0 {
            tr.fmt(
                "dashboard.others",
                &[("values", &r.other_values), ("n", &r.others)],
            )
        } else {
            String::new()
        },
        more_url,
    }
}

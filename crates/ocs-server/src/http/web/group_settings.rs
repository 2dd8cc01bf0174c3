//! A group page's customisation block: the lines it shows (those of a computer's block, plus
//! the PROLOG, deployment and SNMP settings) and the form that saves them. The group page
//! itself belongs to the groups area, which includes `groups/_customisation.html`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use ocs_storage::{DeviceSetting, GroupId};

use super::computers::{customisation_form, setting_views as lines, SettingView};
use super::{error_page, outcome, SignedIn};
use crate::app::auth::require_admin;
use crate::app::groups::settings::{update_group_customisation, GROUP_CUSTOMISABLE};
use crate::app::i18n::Tr;
use crate::app::{AppError, AppState};

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new().route("/groups/{id}/customisation", post(group_customisation_post))
}

/// The lines of a group's customisation block, for `groups/_customisation.html` (its
/// `settings`), from the group's current settings
/// (`app::groups::settings::group_customisation`).
pub fn setting_views(tr: &Tr, current: &[DeviceSetting]) -> Vec<SettingView> {
    lines(tr, &GROUP_CUSTOMISABLE, current, &["settings", "custom"])
}

async fn group_customisation_post(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let admin = require_admin(&signed.viewer)?;
        let values = customisation_form(&GROUP_CUSTOMISABLE, &pairs)?;
        update_group_customisation(&state, &admin, GroupId(id), &values).await
    }
    .await;
    match result {
        Err(e @ AppError::NotFound(_)) => error_page(&signed.ctx, &e),
        result => outcome(
            &signed.ctx,
            &format!("/groups/{id}"),
            result,
            "settings.saved",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::web::PageCtx;
    use askama::Template;

    #[derive(Template)]
    #[template(path = "groups/_customisation.html")]
    struct Block {
        page: PageCtx,
        group_id: i64,
        settings: Vec<SettingView>,
    }

    fn page(lang: &str, is_admin: bool) -> PageCtx {
        PageCtx {
            t: Tr::new(lang),
            login: "admin".into(),
            is_admin,
            csrf: "c".repeat(64),
            nav: "groups",
            fragment: true,
            print: false,
            flash: None,
        }
    }

    fn current() -> Vec<DeviceSetting> {
        vec![
            DeviceSetting {
                name: "PROLOG_FREQ".into(),
                ivalue: Some(5),
                tvalue: None,
            },
            DeviceSetting {
                name: "IPDISCOVER".into(),
                ivalue: Some(0),
                tvalue: None,
            },
        ]
    }

    #[test]
    fn the_block_shows_every_line_with_the_current_values_in_both_languages() {
        for lang in ["en", "fr"] {
            let tr = Tr::new(lang);
            let html = Block {
                page: page(lang, true),
                group_id: 7,
                settings: setting_views(&tr, &current()),
            }
            .render()
            .unwrap();
            assert!(html.contains("action=\"/groups/7/customisation\""));
            assert!(html.contains("id=\"group-customisation-submit\""));
            for (name, _, _) in GROUP_CUSTOMISABLE.iter() {
                assert!(html.contains(&format!("name=\"{name}\"")), "{lang} {name}");
            }
            // An unusual current value is offered and chosen.
            assert!(html.contains("<option value=\"5\" selected>"), "{lang}");
            // No key is shown raw.
            assert!(
                !html.contains("settings.") && !html.contains("custom."),
                "{lang}: {html}"
            );
        }
    }

    #[test]
    fn a_group_offers_only_the_exclusion_from_ipdiscover() {
        let tr = Tr::new("en");
        let views = setting_views(&tr, &current());
        let ipdiscover = views.iter().find(|v| v.name == "IPDISCOVER").unwrap();
        let values: Vec<&str> = ipdiscover
            .choices
            .iter()
            .map(|(v, _, _)| v.as_str())
            .collect();
        assert_eq!(values, ["", "0"]);
        assert_eq!(ipdiscover.label, tr.get("settings.IPDISCOVER"));
        let latency = views
            .iter()
            .find(|v| v.name == "DOWNLOAD_FRAG_LATENCY")
            .unwrap();
        assert_eq!(latency.choices[1].1, "0 s");
    }

    #[test]
    fn read_only_accounts_see_the_block_disabled_without_a_button() {
        let tr = Tr::new("en");
        let html = Block {
            page: page("en", false),
            group_id: 7,
            settings: setting_views(&tr, &[]),
        }
        .render()
        .unwrap();
        assert!(html.contains("disabled") && !html.contains("group-customisation-submit"));
    }
}

//! Deployment statistics of a package (issue item 8): how many computers stand at each
//! status (waiting, NOTIFIED, each SUCCESS*, each ERR_* and other codes, reference §6.6),
//! the bar chart drawn server-side as SVG, and the validations that clean finished rows up.

use ocs_storage::{StoreError, Validation};
use serde::Serialize;

use crate::app::groups::Editor;
use crate::app::{AppError, AppState};

/// The status a NULL row stands for, in the statistics and in the search criterion.
pub const WAITING: &str = "WAITING";

/// One status of a package and its computers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusCount {
    /// The status (`WAITING` for a row never offered).
    pub status: String,
    /// Computers at it.
    pub computers: i64,
    /// The value of the search criterion `deployment` listing them (`FILEID:STATUS`).
    pub search: String,
}

/// The statistics of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PackageStatus {
    /// The package.
    pub fileid: String,
    /// Its name.
    pub name: String,
    /// Computers it is affected to.
    pub total: i64,
    /// Per status, waiting first.
    pub statuses: Vec<StatusCount>,
}

/// The statistics of a package of the catalogue.
pub async fn package_status(state: &AppState, fileid: &str) -> Result<PackageStatus, AppError> {
    let package = state
        .store
        .find_package(fileid)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("package {fileid} not found")))?;
    let statuses: Vec<StatusCount> = state
        .store
        .package_status_counts(fileid)
        .await?
        .into_iter()
        .map(|(status, computers)| {
            let status = status.unwrap_or_else(|| WAITING.to_owned());
            StatusCount {
                search: format!("{fileid}:{}", status.replace('*', "")),
                status,
                computers,
            }
        })
        .collect();
    Ok(PackageStatus {
        fileid: package.fileid,
        name: package.name,
        total: statuses.iter().map(|s| s.computers).sum(),
        statuses,
    })
}

/// `success`, `not_notified` or `all`.
pub fn parse_validation(kind: &str) -> Result<Validation, AppError> {
    match kind {
        "success" => Ok(Validation::Success),
        "not_notified" => Ok(Validation::NotNotified),
        "all" => Ok(Validation::All),
        _ => Err(AppError::bad_request(
            "E_BAD_VALIDATION",
            "validate success, not_notified or all",
        )),
    }
}

/// Validate success (drop SUCCESS* rows), unaffect not notified (drop waiting rows) or
/// validate all (drop every row with a result); returns how many computers lost it.
pub async fn validate(
    state: &AppState,
    by: &Editor,
    fileid: &str,
    which: Validation,
) -> Result<u64, AppError> {
    if state.store.find_package(fileid).await?.is_none() {
        return Err(StoreError::NotFound(format!("package {fileid}")).into());
    }
    let n = state.store.validate_package(fileid, which).await?;
    let entry = ocs_storage::DeploymentLogEntry {
        at: state.clock.now(),
        actor: by.label().to_owned(),
        action: "validate".to_owned(),
        fileid: fileid.to_owned(),
        detail: format!("{which:?}: {n} computer(s)"),
    };
    if let Err(e) = state.store.log_deployment(&entry).await {
        tracing::error!(error = %e, fileid, "deployment log not written");
    }
    Ok(n)
}

/// Escapes text for SVG (XML) content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A horizontal bar chart of `(label, count)`, one bar per row scaled to the largest, as a
/// standalone SVG element (no script, no external resource).
pub fn bar_chart(rows: &[(String, i64)]) -> String {
    const ROW: i64 = 24;
    const LABEL: i64 = 240;
    const BAR: i64 = 360;
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * i64::try_from(rows.len()).unwrap_or(0).max(1);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"deploy-chart\" role=\"img\" \
         width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        LABEL + BAR + 80,
        LABEL + BAR + 80
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = ROW * i64::try_from(i).unwrap_or(0);
        let width = (BAR * n.max(&0)) / max;
        let fill = if label.starts_with("SUCCESS") {
            "#2e7d32"
        } else if label.starts_with("ERR_") || label.starts_with("EXIT_CODE_") {
            "#c62828"
        } else if label == "NOTIFIED" {
            "#1565c0"
        } else {
            "#9e9e9e"
        };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{}\" width=\"{width}\" height=\"{}\" fill=\"{fill}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\">{n}</text>",
            y + 16,
            escape(label),
            y + 4,
            ROW - 8,
            LABEL + width + 6,
            y + 16
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_scales_and_escapes() {
        let svg = bar_chart(&[("SUCCESS".into(), 4), ("ERR_<x>".into(), 2)]);
        assert!(svg.starts_with("<svg"));
        assert!(
            svg.contains("width=\"360\""),
            "the largest bar is full width"
        );
        assert!(svg.contains("width=\"180\""));
        assert!(svg.contains("ERR_&lt;x&gt;"));
        assert!(!svg.contains("<x>"));
        assert!(bar_chart(&[]).ends_with("</svg>"));
    }

    #[test]
    fn validations() {
        assert_eq!(parse_validation("success").unwrap(), Validation::Success);
        assert_eq!(
            parse_validation("not_notified").unwrap(),
            Validation::NotNotified
        );
        assert_eq!(parse_validation("all").unwrap(), Validation::All);
        assert!(parse_validation("everything").is_err());
    }
}

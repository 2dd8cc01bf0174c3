//! Lazy revalidation of dynamic groups (reference §10.2): an agent request for a known device,
//! with `ENABLE_GROUPS` on and `GROUPS_CACHE_REVALIDATE` > 0, recomputes the groups whose
//! `now - revalidate_from > GROUPS_CACHE_REVALIDATE`, then sets `revalidate_from = now +
//! random(0..=GROUPS_CACHE_OFFSET)`.
//!
//! None of it is on the request's path: the request only spawns a task, at most one at a time
//! per process and at most one look for due groups every [`CHECK_EVERY_SECS`]; each due group
//! is claimed with a compare-and-set on `revalidate_from`, so that of several instances only
//! one computes it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use ocs_storage::groups::GroupKind;
use ocs_storage::GroupId;
use rand::Rng;

use crate::app::computers::parse_criteria;
use crate::app::groups::criteria;
use crate::app::options::Options;
use crate::app::{AppError, AppState};

/// Shortest interval between two looks for due groups by one process: agents come in bursts,
/// and a group's delay is counted in hours.
pub const CHECK_EVERY_SECS: i64 = 10;

/// This process's revalidation state: whether a task is running, and when groups were last
/// looked at.
#[derive(Debug, Default)]
pub struct Revalidation {
    running: AtomicBool,
    last_check: AtomicI64,
}

/// Clears the running flag when the task ends, however it ends.
struct Running(Arc<Revalidation>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

/// A random `0..=max` (0 for a non-positive `max`).
pub fn random_offset(max: i64) -> i64 {
    if max <= 0 {
        0
    } else {
        rand::thread_rng().gen_range(0..=max)
    }
}

/// Called at each agent request once its device is looked up: starts the recomputation of
/// due groups off the request's path when the rules above say so. Never waits, never fails.
pub fn after_agent_request(state: &AppState, options: &Options, known_device: bool) {
    let revalidate = options.int("GROUPS_CACHE_REVALIDATE");
    if !known_device || !options.on("ENABLE_GROUPS") || revalidate <= 0 {
        return;
    }
    let now = state.clock.now();
    let reval = &state.group_revalidation;
    if now - reval.last_check.load(Ordering::Acquire) < CHECK_EVERY_SECS {
        return;
    }
    if reval.running.swap(true, Ordering::AcqRel) {
        return;
    }
    reval.last_check.store(now, Ordering::Release);
    let running = Running(Arc::clone(reval));
    let state = state.clone();
    let offset_max = options.int("GROUPS_CACHE_OFFSET");
    tokio::spawn(async move {
        let _running = running;
        if let Err(e) = revalidate_due(&state, revalidate, || random_offset(offset_max)).await {
            tracing::warn!(code = e.code(), error = %e, "group revalidation failed");
        }
    });
}

/// Recomputes every dynamic group due at the clock's `now` that this caller manages to
/// claim; returns those it computed. `offset` draws each group's extra delay.
pub async fn revalidate_due(
    state: &AppState,
    revalidate: i64,
    mut offset: impl FnMut() -> i64,
) -> Result<Vec<GroupId>, AppError> {
    let now = state.clock.now();
    let mut computed = Vec::new();
    for (group, seen_from) in state.store.list_groups_due(now, revalidate).await? {
        if !state.store.claim_group(group, seen_from, now).await? {
            continue;
        }
        match compute(state, group, now, offset()).await {
            Ok(n) => {
                tracing::debug!(group = group.0, members = n, "group revalidated");
                computed.push(group);
            }
            // A group deleted meanwhile is nothing to report.
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(computed)
}

/// Computes a dynamic group's members from its stored criteria at `now`; criteria that no
/// longer parse (a field deleted since) give no computed member. Returns the computed
/// members.
pub async fn compute(
    state: &AppState,
    group: GroupId,
    now: i64,
    offset: i64,
) -> Result<u64, AppError> {
    let record = state.store.get_group(group).await?;
    if record.kind != GroupKind::Dynamic {
        return Err(AppError::bad_request(
            "E_NOT_DYNAMIC",
            format!(
                "{:?} is a static group: there is nothing to compute",
                record.name
            ),
        ));
    }
    let fields = state.store.list_accountinfo_fields().await?;
    let parsed = record
        .criteria
        .as_deref()
        .ok_or_else(|| AppError::bad_request("E_NO_CRITERIA", "no criteria"))
        .and_then(criteria::decode)
        .and_then(|rows| parse_criteria(&rows, &fields));
    let criteria = match parsed {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(group = group.0, error = %e, "the group's criteria cannot be used: it has no computed member");
            None
        }
    };
    Ok(state
        .store
        .evaluate_group(group, criteria.as_deref(), now, offset)
        .await?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use std::sync::atomic::AtomicI64;

    use ocs_storage::{FleetSpec, OptionRow, Store, StoreOptions};

    use super::*;
    use crate::app::computers::CriterionInput;
    use crate::app::groups::{create, Editor, GroupInput};
    use crate::app::Clock;
    use crate::config::Config;

    struct FixedClock(AtomicI64);

    impl Clock for FixedClock {
        fn now(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    const T: i64 = 1_700_000_000;

    async fn state(dir: &tempfile::TempDir) -> (AppState, Arc<FixedClock>) {
        let url = match ocs_testkit::test_database().unwrap() {
            Some(url) => url,
            None => format!("sqlite:{}", dir.path().join("groups.db").display()),
        };
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let config = Config::default();
        let clock = Arc::new(FixedClock(AtomicI64::new(T)));
        let state = AppState {
            store,
            intake: Arc::new(crate::app::agent::intake::Intake::new(&config)),
            config: Arc::new(config),
            clock: clock.clone(),
            password_permits: crate::app::auth::password_hashing_permits(),
            agent_auth: Arc::default(),
            token_uses: Arc::default(),
            contacts: Arc::default(),
            group_revalidation: Arc::default(),
        };
        (state, clock)
    }

    async fn fleet(state: &AppState, computers: usize, seed: u64) {
        state
            .store
            .populate_synthetic(
                FleetSpec {
                    computers,
                    software_per_computer: 3,
                    seed,
                },
                |_| {},
            )
            .await
            .unwrap();
    }

    fn windows() -> Vec<CriterionInput> {
        vec![CriterionInput {
            field: "os".into(),
            op: "equal".into(),
            value: "Microsoft Windows*".into(),
            value2: String::new(),
        }]
    }

    async fn members(state: &AppState, g: GroupId) -> usize {
        state
            .store
            .matching_computer_ids(&[], Some(g))
            .await
            .unwrap()
            .len()
    }

    async fn windows_count(state: &AppState) -> usize {
        let fields = state.store.list_accountinfo_fields().await.unwrap();
        let c = parse_criteria(&windows(), &fields).unwrap();
        state
            .store
            .matching_computer_ids(&c, None)
            .await
            .unwrap()
            .len()
    }

    fn options(revalidate: i64, enabled: bool) -> Options {
        Options::from_rows(&[
            OptionRow {
                name: "GROUPS_CACHE_REVALIDATE".into(),
                ivalue: Some(revalidate),
                tvalue: None,
            },
            OptionRow {
                name: "ENABLE_GROUPS".into(),
                ivalue: Some(i64::from(enabled)),
                tvalue: None,
            },
        ])
    }

    #[tokio::test]
    async fn a_dynamic_group_is_recomputed_only_once_its_delay_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let (state, clock) = state(&dir).await;
        fleet(&state, 30, 1).await;
        let g = create(
            &state,
            &Editor::cli(),
            &GroupInput {
                name: "Windows".into(),
                description: String::new(),
                kind: GroupKind::Dynamic,
                criteria: windows(),
            },
        )
        .await
        .unwrap();
        let before = windows_count(&state).await;
        assert!(before > 0);
        assert_eq!(members(&state, g).await, before);
        // Fix the offset: revalidate_from = T + 100.
        compute(&state, g, T, 100).await.unwrap();
        fleet(&state, 30, 2).await;
        let after = windows_count(&state).await;
        assert!(after > before);
        // now - revalidate_from = 500, not more than 500: not due.
        clock.0.store(T + 600, Ordering::SeqCst);
        assert_eq!(revalidate_due(&state, 500, || 7).await.unwrap(), []);
        assert_eq!(members(&state, g).await, before);
        clock.0.store(T + 601, Ordering::SeqCst);
        assert_eq!(revalidate_due(&state, 500, || 7).await.unwrap(), [g]);
        assert_eq!(members(&state, g).await, after);
        let record = state.store.get_group(g).await.unwrap();
        assert_eq!(
            (record.computed_at, record.revalidate_from),
            (T + 601, T + 608)
        );
        // Due again only after another whole delay.
        clock.0.store(T + 1108, Ordering::SeqCst);
        assert_eq!(revalidate_due(&state, 500, || 7).await.unwrap(), []);
    }

    #[tokio::test]
    async fn agent_requests_start_revalidation_only_when_the_options_allow() {
        let dir = tempfile::tempdir().unwrap();
        let (state, clock) = state(&dir).await;
        fleet(&state, 10, 3).await;
        let g = create(
            &state,
            &Editor::cli(),
            &GroupInput {
                name: "Windows".into(),
                description: String::new(),
                kind: GroupKind::Dynamic,
                criteria: windows(),
            },
        )
        .await
        .unwrap();
        compute(&state, g, T, 0).await.unwrap();
        clock.0.store(T + 10_000, Ordering::SeqCst);
        let checked = || state.group_revalidation.last_check.load(Ordering::SeqCst);
        // Unknown device, groups disabled, lazy revalidation off: nothing starts.
        after_agent_request(&state, &options(60, true), false);
        after_agent_request(&state, &options(60, false), true);
        after_agent_request(&state, &options(0, true), true);
        assert_eq!(checked(), 0);
        after_agent_request(&state, &options(60, true), true);
        assert_eq!(checked(), T + 10_000);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while state.store.get_group(g).await.unwrap().computed_at != T + 10_000 {
            assert!(std::time::Instant::now() < deadline, "not recomputed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Within CHECK_EVERY_SECS of the last look, a request does not look again.
        clock.0.store(T + 10_005, Ordering::SeqCst);
        after_agent_request(&state, &options(1, true), true);
        assert_eq!(checked(), T + 10_000);
    }
}

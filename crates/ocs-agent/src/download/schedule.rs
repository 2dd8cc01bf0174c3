//! Which packages get a turn in each cycle of a period, as the Unix agent schedules them:
//! while any priority-0 package is pending, only those get turns (one step each per cycle,
//! and no cycle latency); otherwise a package of priority P gets a step on cycle i
//! (1-based) when `i % P == 0`, so priority 1 moves every cycle and priority 10 once per
//! ten. A "step" is one fragment, or the build and run once every fragment is there.
//!
//! Pure functions only: the caller does the steps and the sleeping.

/// A package waiting for steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// FILEID.
    pub id: String,
    /// `PRI` from the info file (0 to 10).
    pub priority: u8,
}

/// What one cycle does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// The packages that take a step, in order.
    pub ids: Vec<String>,
    /// Whether the cycle latency follows the cycle (not after a cycle of priority-0
    /// packages, which the Unix agent runs back to back).
    pub cycle_latency: bool,
}

/// The turn of cycle `cycle` (1-based) for the pending packages, which the caller keeps in
/// a stable order (by FILEID).
pub fn turn(cycle: u32, pending: &[Pending]) -> Turn {
    let urgent: Vec<String> = pending
        .iter()
        .filter(|p| p.priority == 0)
        .map(|p| p.id.clone())
        .collect();
    if !urgent.is_empty() {
        return Turn {
            ids: urgent,
            cycle_latency: false,
        };
    }
    Turn {
        ids: pending
            .iter()
            .filter(|p| cycle % u32::from(p.priority) == 0)
            .map(|p| p.id.clone())
            .collect(),
        cycle_latency: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, priority: u8) -> Pending {
        Pending {
            id: id.into(),
            priority,
        }
    }

    #[test]
    fn priority_zero_takes_every_cycle_alone() {
        let pending = [p("1", 5), p("2", 0), p("3", 1), p("4", 0)];
        for cycle in 1..=10 {
            let t = turn(cycle, &pending);
            assert_eq!(t.ids, ["2", "4"]);
            assert!(!t.cycle_latency);
        }
    }

    #[test]
    fn priorities_share_a_period_by_modulo() {
        let pending = [p("1", 1), p("2", 2), p("3", 5), p("4", 10)];
        let steps: Vec<Vec<String>> = (1..=10).map(|i| turn(i, &pending).ids).collect();
        assert_eq!(steps[0], ["1"]);
        assert_eq!(steps[1], ["1", "2"]);
        assert_eq!(steps[4], ["1", "3"]);
        assert_eq!(steps[9], ["1", "2", "3", "4"]);
        let count = |id: &str| steps.iter().filter(|s| s.iter().any(|x| x == id)).count();
        assert_eq!(
            (count("1"), count("2"), count("3"), count("4")),
            (10, 5, 2, 1)
        );
        assert!(turn(1, &pending).cycle_latency);
        assert!(turn(3, &[]).ids.is_empty());
    }
}

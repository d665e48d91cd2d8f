//! A deployment's life as one enum and one transition function, so Base (which persists every
//! transition before showing it) and dployrd (which drives most of them) agree on what may
//! follow what.
//!
//! ```text
//! queued -> fetching -> building -> starting -> health_checking -> live -> superseded
//!    |          |           |           |               |            \-> rolled_back
//!    +----------+-----------+-----------+---------------+-> failed | cancelled | timed_out
//! ```
//!
//! `fetching -> starting` skips the build (static sites, images). A superseded or rolled-back
//! deployment whose release is still kept can be made live again by a rollback. Repeating the
//! current state is accepted and changes nothing, because the agent retransmits after reconnects.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeployState {
    Queued,
    Fetching,
    Building,
    Starting,
    HealthChecking,
    Live,
    Failed,
    Cancelled,
    TimedOut,
    Superseded,
    RolledBack,
}

/// A transition the state machine forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a deployment cannot go from {from} to {to}")]
pub struct BadTransition {
    pub from: DeployState,
    pub to: DeployState,
}

crate::names::wire_names!(DeployState, "deployment state" {
    Queued => "queued",
    Fetching => "fetching",
    Building => "building",
    Starting => "starting",
    HealthChecking => "health_checking",
    Live => "live",
    Failed => "failed",
    Cancelled => "cancelled",
    TimedOut => "timed_out",
    Superseded => "superseded",
    RolledBack => "rolled_back",
});

impl DeployState {
    /// Work is under way: it must end in `live` or a failure, and Base times it out otherwise.
    pub fn in_progress(self) -> bool {
        matches!(
            self,
            DeployState::Queued
                | DeployState::Fetching
                | DeployState::Building
                | DeployState::Starting
                | DeployState::HealthChecking
        )
    }

    /// Ended without ever serving.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            DeployState::Failed | DeployState::Cancelled | DeployState::TimedOut
        )
    }

    /// The one transition function: `Ok(to)` if `self -> to` is allowed.
    pub fn next(self, to: DeployState) -> Result<DeployState, BadTransition> {
        use DeployState::*;
        let allowed = self == to
            || match (self, to) {
                (from, Failed | Cancelled | TimedOut) => from.in_progress(),
                (Queued, Fetching | Superseded) => true,
                (Fetching, Building | Starting) => true,
                (Building, Starting) => true,
                (Starting, HealthChecking | Live) => true,
                (HealthChecking, Live) => true,
                (Live, Superseded | RolledBack) => true,
                (Superseded | RolledBack, Live) => true,
                _ => false,
            };
        if allowed {
            Ok(to)
        } else {
            Err(BadTransition { from: self, to })
        }
    }
}

impl DeployState {
    /// The steps from `self` to `to` when `to` lies further along the way to `live` (a report
    /// that skipped steps, e.g. after a reconnect): `[next, …, to]`, each a valid transition.
    /// `None` when `to` is not ahead of `self` on that path.
    pub fn path_to(self, to: DeployState) -> Option<Vec<DeployState>> {
        use DeployState::*;
        const WAY: [DeployState; 6] = [Queued, Fetching, Building, Starting, HealthChecking, Live];
        let from = WAY.iter().position(|s| *s == self)?;
        let until = WAY.iter().position(|s| *s == to)?;
        (until > from).then(|| WAY[from + 1..=until].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::DeployState::*;
    use super::*;

    #[test]
    fn the_happy_path_is_allowed_step_by_step() {
        // Every state from queued to live, in declaration order, then on to superseded.
        let path: Vec<_> = DeployState::ALL[..=5]
            .iter()
            .copied()
            .chain([Superseded])
            .collect();
        assert_eq!(path[5], Live);
        for pair in path.windows(2) {
            assert_eq!(pair[0].next(pair[1]), Ok(pair[1]), "{:?}", pair);
        }
    }

    #[test]
    fn only_work_in_progress_can_fail_and_finished_work_cannot_restart() {
        for from in DeployState::ALL {
            for to in [Failed, Cancelled, TimedOut] {
                assert_eq!(
                    from.next(to).is_ok(),
                    from.in_progress() || from == to,
                    "{from} -> {to}"
                );
            }
        }
        for done in [Failed, Cancelled, TimedOut] {
            for to in [Queued, Fetching, Building, Live] {
                assert!(done.next(to).is_err(), "{done} -> {to}");
            }
        }
        assert!(Live.next(Building).is_err());
        assert!(Queued.next(Live).is_err());
    }

    #[test]
    fn repeats_are_harmless_and_rollback_can_revive_a_kept_release() {
        for s in DeployState::ALL {
            assert_eq!(s.next(s), Ok(s));
        }
        assert_eq!(Superseded.next(Live), Ok(Live));
        assert_eq!(Live.next(RolledBack), Ok(RolledBack));
    }

    #[test]
    fn a_report_that_skipped_steps_is_walked_step_by_step() {
        let path = Building.path_to(Live).unwrap();
        assert_eq!(path, [Starting, HealthChecking, Live]);
        let mut at = Building;
        for step in path {
            at = at.next(step).unwrap();
        }
        assert_eq!(at, Live);
        assert_eq!(Live.path_to(Building), None);
        assert_eq!(Failed.path_to(Live), None);
        assert_eq!(Queued.path_to(Failed), None);
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        crate::names::assert_names_match_serde(
            &DeployState::ALL,
            DeployState::as_str,
            DeployState::parse,
        );
    }
}

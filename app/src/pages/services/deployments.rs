//! A service's deployments, newest first: state, ref and commit, when and by whom, every step it
//! went through with how long each took, why it ended when it failed, Cancel while it is in
//! progress and Rollback on a kept release that served before (Member and up), Logs, which
//! shows that deployment's output in the log viewer, and the build plan dployrd chose (folded).

use leptos::prelude::*;
use proto::api::{Deployment, Transition};
use proto::deploy::DeployState;

use crate::api::services::{CancelDeployment, RollbackService};
use crate::components::events::short_time;
use crate::components::forms::{FormError, error_of};
use crate::components::time::{between, epoch_ms};

/// Releases dployrd keeps (the live one included); older ones cannot be rolled back to.
const KEPT_RELEASES: usize = 5;

/// The badge colour of a state: in progress, good, bad or over.
fn tone(s: DeployState) -> &'static str {
    match s {
        DeployState::Live => "good",
        DeployState::Failed | DeployState::TimedOut => "bad",
        DeployState::Cancelled | DeployState::Superseded | DeployState::RolledBack => "over",
        _ => "busy",
    }
}

fn label(s: DeployState) -> String {
    s.as_str().replace('_', " ")
}

/// Deployments whose release dployrd still keeps and that could be made live again: among the
/// newest [`KEPT_RELEASES`] that ever went live, those superseded or rolled back since.
pub fn rollback_targets(list: &[Deployment]) -> Vec<String> {
    list.iter()
        .filter(|d| d.transitions.iter().any(|t| t.state == DeployState::Live))
        .take(KEPT_RELEASES)
        .filter(|d| matches!(d.state, DeployState::Superseded | DeployState::RolledBack))
        .map(|d| d.id.clone())
        .collect()
}

#[component]
pub fn DeploymentList(
    service_id: String,
    deployments: Signal<Vec<Deployment>>,
    may_cancel: Signal<bool>,
    /// The deployment whose logs the viewer shows (`None`: the whole service's).
    selected: RwSignal<Option<String>>,
    /// Whether the person may read logs (the Logs buttons are hidden otherwise).
    may_read_logs: Signal<bool>,
) -> impl IntoView {
    let cancel = ServerAction::<CancelDeployment>::new();
    let rollback = ServerAction::<RollbackService>::new();
    let error = error_of(cancel.value());
    let rollback_error = error_of(rollback.value());
    let service_id = StoredValue::new(service_id);
    view! {
        <section class="card" aria-labelledby="deployments-title">
            <div class="card-header">
                <h2 id="deployments-title">"Deployments"</h2>
                <span class="count">{move || deployments.get().len()}</span>
            </div>
            <div class="card-body">
                <FormError error />
                <FormError error=rollback_error />
                {move || {
                    let list = deployments.get();
                    if list.is_empty() {
                        view! { <p class="empty-text">"Not deployed yet."</p> }.into_any()
                    } else {
                        let may = may_cancel.get();
                        let logs = may_read_logs.get();
                        let targets = if may { rollback_targets(&list) } else { Vec::new() };
                        view! {
                            <ol class="deployment-list">
                                {list.into_iter().map(|d| {
                                    let actions = Actions {
                                        cancel: may.then_some(cancel),
                                        rollback: targets.contains(&d.id).then(|| (rollback, service_id.get_value())),
                                        logs: logs.then_some(selected),
                                    };
                                    view! { <DeploymentItem d actions selected /> }
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}

/// The buttons one deployment offers; `None` hides one.
struct Actions {
    cancel: Option<ServerAction<CancelDeployment>>,
    rollback: Option<(ServerAction<RollbackService>, String)>,
    logs: Option<RwSignal<Option<String>>>,
}

#[component]
fn DeploymentItem(
    d: Deployment,
    actions: Actions,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let state = d.state.as_str();
    let what = d.git_ref.clone().unwrap_or_else(|| "default branch".into());
    let commit = d
        .commit
        .as_deref()
        .map(|c| c.chars().take(10).collect::<String>());
    let reason = matches!(
        d.state,
        DeployState::Failed | DeployState::Cancelled | DeployState::TimedOut
    )
    .then(|| d.reason.clone())
    .flatten();
    let plan = (!d.plan.is_empty()).then(|| d.plan.join("\n"));
    let id = d.id.clone();
    let total = total_time(&d.transitions, d.state);
    let is_selected = {
        let id = d.id.clone();
        move || selected.get().as_deref() == Some(id.as_str())
    };
    let cancel = actions.cancel.filter(|_| d.state.in_progress()).map(|cancel| {
        let id = id.clone();
        view! {
            <button type="button" class="btn btn-secondary btn-small deployment-cancel"
                disabled=move || cancel.pending().get()
                on:click=move |_| { cancel.dispatch(CancelDeployment { deployment_id: id.clone() }); }>
                "Cancel"
            </button>
        }
    });
    let rollback = actions.rollback.map(|(rollback, service_id)| {
        let id = id.clone();
        view! {
            <button type="button" class="btn btn-secondary btn-small deployment-rollback"
                disabled=move || rollback.pending().get()
                title="Serve this release again, without a build"
                on:click=move |_| {
                    rollback.dispatch(RollbackService {
                        service_id: service_id.clone(),
                        deployment_id: id.clone(),
                    });
                }>
                {move || if rollback.pending().get() { "Rolling back…" } else { "Rollback" }}
            </button>
        }
    });
    let logs = actions.logs.map(|selected| {
        let id = id.clone();
        view! {
            <button type="button" class="btn btn-secondary btn-small deployment-logs"
                on:click=move |_| {
                    selected.set(Some(id.clone()));
                    if let Some(el) = document().get_element_by_id("logs") {
                        el.scroll_into_view();
                    }
                }>
                "Logs"
            </button>
        }
    });
    view! {
        <li class="deployment" class:selected=is_selected data-deployment=d.id.clone() data-state=state>
            <div class="deployment-head">
                <span class=format!("state state-{}", tone(d.state)) data-state=state>{label(d.state)}</span>
                <span class="mono">{what}</span>
                {commit.map(|c| view! { <span class="mono muted" title="commit">{c}</span> })}
                <time class="muted" datetime=d.created_at.clone()>{short_time(&d.created_at)}</time>
                {total.map(|t| view! { <span class="muted deployment-total" title="queued to live or to its end">{t}</span> })}
                <span class="deployment-actions">{logs}{rollback}{cancel}</span>
            </div>
            <Steps transitions=d.transitions.clone() in_progress=d.state.in_progress() />
            {reason.map(|r| view! { <p class="deployment-reason" role="note">{r}</p> })}
            {plan.map(|p| view! {
                <details class="build-plan" data-testid="build-plan">
                    <summary>"Build plan"</summary>
                    <pre>{p}</pre>
                </details>
            })}
        </li>
    }
}

/// Queued to the end (or to now, while in progress: then nothing is said).
fn total_time(transitions: &[Transition], state: DeployState) -> Option<String> {
    if state.in_progress() {
        return None;
    }
    let end = transitions
        .iter()
        .find(|t| t.state == state)
        .or(transitions.last())?;
    between(&transitions.first()?.at, &end.at)
}

/// One step a deployment went through: how long it lasted (until the next step), or that it is
/// the one under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub state: DeployState,
    pub took: Option<String>,
    pub current: bool,
}

/// Each step with how long it lasted. A final step (live, failed…) has no duration; the last
/// step of a deployment still in progress is marked current.
pub fn steps(transitions: &[Transition], in_progress: bool) -> Vec<Step> {
    let n = transitions.len();
    transitions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let next = transitions.get(i + 1);
            Step {
                state: t.state,
                took: next.and_then(|next| {
                    Some(crate::components::time::duration_text(
                        epoch_ms(&next.at)? - epoch_ms(&t.at)?,
                    ))
                }),
                current: in_progress && i + 1 == n,
            }
        })
        .collect()
}

#[component]
fn Steps(transitions: Vec<Transition>, in_progress: bool) -> impl IntoView {
    view! {
        <ol class="steps" aria-label="Steps">
            {steps(&transitions, in_progress).into_iter().map(|s| view! {
                <li class=format!("step step-{}", tone(s.state)) class:step-current=s.current
                    data-step=s.state.as_str()>
                    <span class="step-name">{label(s.state)}</span>
                    {s.took.map(|t| view! { <span class="step-took">{t}</span> })}
                    {s.current.then(|| view! { <span class="step-took">"…"</span> })}
                </li>
            }).collect_view()}
        </ol>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(state: DeployState, at: &str) -> Transition {
        Transition {
            state,
            at: format!("2026-11-27T10:00:{at}Z"),
        }
    }

    fn dep(id: &str, state: DeployState, went_live: bool) -> Deployment {
        let mut transitions = vec![t(DeployState::Queued, "00.000")];
        if went_live {
            transitions.push(t(DeployState::Live, "01.000"));
        }
        Deployment {
            id: id.into(),
            service_id: "svc".into(),
            state,
            git_ref: None,
            commit: None,
            reason: None,
            created_by: None,
            created_at: "2026-11-27T10:00:00.000Z".into(),
            transitions,
            plan: Vec::new(),
        }
    }

    #[test]
    fn each_step_lasts_until_the_next() {
        use DeployState::*;
        let ts = [
            t(Queued, "00.000"),
            t(Fetching, "00.250"),
            t(Building, "01.250"),
            t(Starting, "13.000"),
        ];
        let s = steps(&ts, true);
        let took: Vec<Option<&str>> = s.iter().map(|s| s.took.as_deref()).collect();
        assert_eq!(took, [Some("250 ms"), Some("1 s"), Some("11 s"), None]);
        assert!(s[3].current && !s[2].current);
        assert!(!steps(&ts, false)[3].current);
        let done = [t(Queued, "00.000"), t(Failed, "02.500")];
        assert_eq!(total_time(&done, Failed).as_deref(), Some("2 s"));
        assert_eq!(total_time(&ts, Starting), None, "in progress");
    }

    #[test]
    fn rollback_is_offered_on_kept_releases_that_served_before() {
        use DeployState::*;
        let list = [
            dep("d8", Failed, false),
            dep("d7", Live, true),
            dep("d6", Superseded, true),
            dep("d5", RolledBack, true),
            dep("d4", Cancelled, false),
            dep("d3", Superseded, true),
            dep("d2", Superseded, true),
            dep("d1", Superseded, true),
        ];
        // The newest five that went live are d7 (live), d6, d5, d3 and d2; d1 is no longer kept.
        assert_eq!(rollback_targets(&list), ["d6", "d5", "d3", "d2"]);
    }
}

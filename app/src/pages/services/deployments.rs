//! A service's deployments, newest first: state, ref and commit, when and by whom, every step it
//! went through with how long each took, why it ended when it failed, and Cancel while it is in
//! progress (Member and up).

use leptos::prelude::*;
use proto::api::{Deployment, Transition};
use proto::deploy::DeployState;

use crate::api::services::CancelDeployment;
use crate::components::events::short_time;
use crate::components::forms::{FormError, error_of};
use crate::components::time::between;

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

#[component]
pub fn DeploymentList(
    deployments: Signal<Vec<Deployment>>,
    may_cancel: Signal<bool>,
) -> impl IntoView {
    let cancel = ServerAction::<CancelDeployment>::new();
    let error = error_of(cancel.value());
    view! {
        <section class="card" aria-labelledby="deployments-title">
            <div class="card-header">
                <h2 id="deployments-title">"Deployments"</h2>
                <span class="count">{move || deployments.get().len()}</span>
            </div>
            <div class="card-body">
                <FormError error />
                {move || {
                    let list = deployments.get();
                    if list.is_empty() {
                        view! { <p class="empty-text">"Not deployed yet."</p> }.into_any()
                    } else {
                        let may = may_cancel.get();
                        view! {
                            <ol class="deployment-list">
                                {list.into_iter().map(|d| view! { <DeploymentItem d cancel may_cancel=may /> }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}

#[component]
fn DeploymentItem(
    d: Deployment,
    cancel: ServerAction<CancelDeployment>,
    may_cancel: bool,
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
    let id = d.id.clone();
    view! {
        <li class="deployment" data-deployment=d.id.clone() data-state=state>
            <div class="deployment-head">
                <span class=format!("state state-{}", tone(d.state)) data-state=state>{label(d.state)}</span>
                <span class="mono">{what}</span>
                {commit.map(|c| view! { <span class="mono muted" title="commit">{c}</span> })}
                <time class="muted" datetime=d.created_at.clone()>{short_time(&d.created_at)}</time>
                {(may_cancel && d.state.in_progress()).then(|| view! {
                    <button type="button" class="btn btn-secondary btn-small deployment-cancel"
                        disabled=move || cancel.pending().get()
                        on:click=move |_| { cancel.dispatch(CancelDeployment { deployment_id: id.clone() }); }>
                        "Cancel"
                    </button>
                })}
            </div>
            <Steps transitions=d.transitions.clone() />
            {reason.map(|r| view! { <p class="deployment-reason" role="note">{r}</p> })}
        </li>
    }
}

/// Each step with the time since the one before it.
#[component]
fn Steps(transitions: Vec<Transition>) -> impl IntoView {
    let mut previous: Option<String> = None;
    let steps: Vec<_> = transitions
        .into_iter()
        .map(|t| {
            let took = previous.as_deref().and_then(|p| between(p, &t.at));
            previous = Some(t.at.clone());
            (t.state, took)
        })
        .collect();
    view! {
        <ol class="steps" aria-label="Steps">
            {steps.into_iter().map(|(s, took)| view! {
                <li class=format!("step step-{}", tone(s)) data-step=s.as_str()>
                    {took.map(|t| view! { <span class="step-took">"+" {t}</span> })}
                    <span class="step-name">{label(s)}</span>
                </li>
            }).collect_view()}
        </ol>
    }
}

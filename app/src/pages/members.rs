//! `/c/{cluster}/members`: who is in the cluster (Members and up). Owners and Admins also
//! change roles, remove people and invite by link (the link is shown to copy: it is the only
//! time it exists in clear), and revoke pending invitations. Admins manage Members and Guests
//! only; `control` refuses the rest anyway. Guests are refused the page by the server.

use leptos::prelude::*;
use leptos_meta::Title;
use proto::api::{Member, Role};

use crate::api::team::{
    ChangeMemberRole, CreateInvite, RemoveMember, RevokeInvite, list_invites, list_members,
    permission_matrix,
};
use crate::components::forms::{
    ConfirmButton, Field, FormError, ShownOnce, SubmitButton, error_of, refetched, value_of,
};
use crate::components::loaded::Loaded;
use crate::components::page::PageHeader;
use crate::components::two_factor::{StepUpDialog, step_up_retry};
use crate::pages::services::{Powers, powers};

/// Owners manage everyone; Admins, Members and Guests only (as `control` rules).
fn may_manage(me: Option<Role>, role: Role) -> bool {
    match me {
        Some(Role::Owner) => true,
        Some(Role::Admin) => matches!(role, Role::Member | Role::Guest),
        _ => false,
    }
}

const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Guest];

#[component]
pub fn MembersPage() -> impl IntoView {
    let Powers {
        cluster_id,
        role: me,
        manage,
        ..
    } = powers();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let members = refetched(
        cluster_id,
        [change.version(), remove.version()],
        list_members,
    );
    // Making someone Owner and removing a member need a recent code when two-factor is on.
    let (asking_change, change_again) = step_up_retry(change);
    let (asking_remove, remove_again) = step_up_retry(remove);
    let change_error = error_of(change.value());
    let remove_error = error_of(remove.value());
    view! {
        <Title text="Members" />
        <PageHeader title="Members">"People in this cluster and their roles."</PageHeader>
        <FormError error=change_error />
        <FormError error=remove_error />
        <StepUpDialog open=asking_change done=change_again />
        <StepUpDialog open=asking_remove done=remove_again />
        <Loaded resource=members keep=true let:list>
            <table class="table members-table" id="members-table">
                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th></th></tr></thead>
                <tbody>
                    {list
                        .members
                        .into_iter()
                        .map(|m| view! { <MemberRow m me cluster_id change remove /> })
                        .collect_view()}
                </tbody>
            </table>
        </Loaded>
        {move || manage.get().then(|| view! { <Invitations cluster_id me /> })}
        <Matrix />
    }
}

/// What each role may do, from the table `control` enforces.
#[component]
fn Matrix() -> impl IntoView {
    let table = Resource::new(|| (), |_| permission_matrix());
    view! {
        <section class="settings-section" aria-labelledby="matrix-title">
            <h2 id="matrix-title">"What each role may do"</h2>
            <Loaded resource=table keep=true inline=true quiet=true let:rows>
                <table class="table" id="permission-matrix">
                    <thead><tr><th>"Action"</th>
                        {ROLES.iter().map(|r| view! { <th class="matrix-cell">{r.label()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|(action, roles)| {
                            let cells = ROLES.iter().map(|r| {
                                let yes = roles.contains(r);
                                view! { <td class="matrix-cell">{if yes { "✓" } else { "" }}</td> }
                            }).collect_view();
                            view! { <tr><td class="mono">{action}</td>{cells}</tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            </Loaded>
        </section>
    }
}

#[component]
fn MemberRow(
    m: Member,
    me: Signal<Option<Role>>,
    cluster_id: Signal<String>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let role = m.role;
    let user = StoredValue::new(m.user_id.clone());
    let name = m.name.clone();
    let controls = move || {
        may_manage(me.get(), role).then(|| {
            let options = ROLES
                .iter()
                .filter(|r| may_manage(me.get(), **r))
                .map(|r| view! { <option value=r.as_str() selected=*r == role>{r.label()}</option> })
                .collect_view();
            let name = name.clone();
            view! {
                <select class="role-select" aria-label="Role"
                    on:change=move |ev| {
                        change.dispatch(ChangeMemberRole {
                            cluster_id: cluster_id.get(),
                            user_id: user.get_value(),
                            role: event_target_value(&ev),
                        });
                    }>
                    {options}
                </select>
                <ConfirmButton class="btn btn-link btn-danger-link member-remove"
                    question=format!("Remove {name} from this cluster?")
                    act=move || {
                        remove.dispatch(RemoveMember { cluster_id: cluster_id.get(), user_id: user.get_value() });
                    }>
                    "Remove"
                </ConfirmButton>
            }
        })
    };
    view! {
        <tr data-email=m.email.clone() data-role=role.as_str()>
            <td>{m.name.clone()}</td>
            <td class="mono">{m.email.clone()}</td>
            <td><span class=format!("badge badge-{}", role.as_str())>{role.label()}</span></td>
            <td class="muted">{m.joined_at.get(..10).unwrap_or_default().to_string()}</td>
            <td class="row-actions">{controls}</td>
        </tr>
    }
}

#[component]
fn Invitations(cluster_id: Signal<String>, me: Signal<Option<Role>>) -> impl IntoView {
    let invite = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let pending = refetched(
        cluster_id,
        [invite.version(), revoke.version()],
        list_invites,
    );
    let error = error_of(invite.value());
    let made = value_of(invite.value());
    let link = move || {
        made.get()
            .map(|made| (made.invite_url, made.emailed.then_some(made.invite.email)))
    };
    let options = move || {
        ROLES
            .iter()
            .filter(|r| may_manage(me.get(), **r))
            .map(|r| {
                view! { <option value=r.as_str() selected=*r == Role::Member>{r.label()}</option> }
            })
            .collect_view()
    };
    view! {
        <section class="settings-section" aria-labelledby="invite-title">
            <h2 id="invite-title">"Invite someone"</h2>
            <p class="section-text">
                "They get a link that works once, for 7 days, for this email address. Copy it and send it to them."
            </p>
            <ActionForm action=invite attr:class="form" attr:id="invite-form">
                <input type="hidden" name="cluster_id" value=move || cluster_id.get() />
                <Field id="invite-email" label="Email" name="email" error kind="email" required=true
                    autocomplete="off" />
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role">{options}</select>
                </div>
                <FormError error />
                <SubmitButton label="Create invitation link" busy_label="Creating…"
                    pending=invite.pending().into() class="btn btn-primary" />
            </ActionForm>
            {move || link().map(|(value, emailed_to)| view! {
                {emailed_to.map(|to| view! { <p class="form-success" id="invite-emailed">"Emailed to " {to} "."</p> })}
                <ShownOnce id="invite-link" label="Invitation link (shown once)" value />
            })}
            <h3>"Pending invitations"</h3>
            <Loaded resource=pending keep=true inline=true quiet=true let:list>
                {if list.invites.is_empty() {
                    view! { <p class="muted" id="no-invites">"None."</p> }.into_any()
                } else {
                            let rows = list.invites.into_iter().map(|i| {
                                let id = i.id.clone();
                                view! {
                                    <tr data-email=i.email.clone()>
                                        <td class="mono">{i.email.clone()}</td>
                                        <td>{i.role.label()}</td>
                                        <td class="muted">{format!("until {}", i.expires_at.get(..10).unwrap_or_default())}</td>
                                        <td class="row-actions">
                                            <button type="button" class="btn btn-link btn-danger-link"
                                                on:click=move |_| {
                                                    revoke.dispatch(RevokeInvite { cluster_id: cluster_id.get(), invite_id: id.clone() });
                                                }>
                                                "Revoke"
                                            </button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view();
                            view! { <table class="table" id="invites-table"><tbody>{rows}</tbody></table> }.into_any()
                }}
            </Loaded>
        </section>
    }
}

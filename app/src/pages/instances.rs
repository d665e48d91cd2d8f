//! `/c/{cluster}/instances`: the cluster's servers with live status. The server renders the
//! list; once hydrated, a WebSocket (`/api/v1/clusters/{id}/instances/live`) pushes the fresh
//! list whenever an agent connects or drops, so nobody polls. Admins add a server (and get its
//! one-time install command with a copy button) or remove one (after confirming). Below the
//! list, every member sees each server's headroom and a chosen server's charts
//! ([`super::headroom`]).

use leptos::prelude::*;
use leptos_meta::Title;
use proto::api::{Instance, InstanceList, InstanceStatus};

use crate::api::{CreateInstance, DeleteInstance, SetInstanceConsole, list_instances};
use crate::components::events::short_time;
use crate::components::forms::{ConfirmButton, Field, FormError, SubmitButton, error_of, value_of};
use crate::components::live::follow;
use crate::components::loaded::Loaded;
use crate::components::page::{ColumnHeads, PageHeader};
use crate::pages::headroom::InstanceMetrics;
use crate::pages::services::powers;

#[component]
pub fn InstancesPage() -> impl IntoView {
    let p = powers();
    let cluster_id = move || p.cluster_id.get();
    let may_manage = move || p.manage.get();
    let initial = Resource::new_blocking(cluster_id, list_instances);
    let live: RwSignal<Option<InstanceList>> = RwSignal::new(None);
    follow(
        move || format!("/api/v1/clusters/{}/instances/live", cluster_id()),
        live,
    );

    let add = ServerAction::<CreateInstance>::new();
    let add_error = error_of(add.value());
    let made = value_of(add.value());
    let remove = ServerAction::<DeleteInstance>::new();
    let switch = ServerAction::<SetInstanceConsole>::new();

    view! {
        <Title text="Instances" />
        <PageHeader title="Instances">
            "Servers running dployrd. They dial out to this dashboard: no inbound port, no SSH."
        </PageHeader>
        <Loaded resource=initial let:first>
            {
                let first = StoredValue::new(first);
                // A memo: a pushed list equal to the one shown (the socket's first frame,
                // usually) leaves the table as it is instead of rebuilding it.
                let rows = Memo::new(move |_| {
                    live.get().map(|l| l.instances).unwrap_or_else(|| first.get_value())
                });
                view! {
                    <section class="card" aria-labelledby="instances-list-title">
                        <div class="card-header">
                            <h2 id="instances-list-title">"Servers"</h2>
                            <span class="count" id="instance-count">{move || rows.with(Vec::len)}</span>
                        </div>
                        <div class="card-body">
                            {move || {
                                let list = rows.get();
                                if list.is_empty() {
                                    view! {
                                        <p class="empty-text">"No instances yet. Add your first server below."</p>
                                    }
                                        .into_any()
                                } else {
                                    view! { <InstanceTable list remove switch cluster=cluster_id() may_manage=may_manage() /> }.into_any()
                                }
                            }}
                        </div>
                    </section>
                }
            }
        </Loaded>
        <InstanceMetrics cluster_id=Signal::derive(cluster_id) />
        {move || may_manage().then(|| view! {
            <section class="settings-section" aria-labelledby="add-instance-title">
                <h2 id="add-instance-title">"Add an instance"</h2>
                <p class="section-text">
                    "Name the server, then run the command on it as root. The join token works once and expires in an hour."
                </p>
                <ActionForm action=add attr:class="form">
                    <FormError error=add_error />
                    <input type="hidden" name="cluster_id" value=cluster_id() />
                    <Field id="instance-name" label="Name" name="name" error=add_error required=true
                        placeholder="e.g. web-1" maxlength=proto::rules::NAME_MAX />
                    <SubmitButton label="Create install command" busy_label="Creating…" pending=add.pending().into() class="btn btn-primary" />
                </ActionForm>
                {move || made.get().map(|made| view! { <InstallCommand command=made.install_command /> })}
            </section>
        })}
    }
}

#[component]
fn InstanceTable(
    list: Vec<Instance>,
    remove: ServerAction<DeleteInstance>,
    switch: ServerAction<SetInstanceConsole>,
    cluster: String,
    may_manage: bool,
) -> impl IntoView {
    view! {
        <table class="table instance-table">
            <thead>
                <tr>
                    <ColumnHeads names=&["Name", "Status", "Host", "Agent", "Last seen"] />
                    {may_manage.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|i| {
                        let (label, class) = match i.status {
                            InstanceStatus::Online => ("online", "status status-online"),
                            InstanceStatus::Offline => ("offline", "status status-offline"),
                            InstanceStatus::Pending => ("pending", "status status-pending"),
                        };
                        let host = i.host.as_ref().map(|h| {
                            format!("{} · {} · {} · {} CPU · {:.1} GiB", h.hostname, h.os, h.arch, h.cpus, h.memory_bytes as f64 / (1u64 << 30) as f64)
                        });
                        let id = i.id.clone();
                        let name = i.name.clone();
                        view! {
                            <tr data-instance=i.id.clone()>
                                <td class="instance-name">{i.name.clone()}</td>
                                <td><span class=class data-status=label>{label}</span></td>
                                <td class="muted">{host.unwrap_or_else(|| "waiting for the agent".into())}</td>
                                <td class="muted">{i.agent_version.clone().unwrap_or_else(|| "–".into())}</td>
                                <td class="muted">{i.last_seen_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
                                {may_manage.then(|| {
                                    let on = i.console_enabled;
                                    let console = format!("/c/{cluster}/instances/{}/console", i.id);
                                    let switch_id = i.id.clone();
                                    view! {
                                    <td class="row-actions">
                                        {(on && i.status == InstanceStatus::Online).then(|| view! {
                                            <a class="btn btn-secondary btn-small instance-console" href=console>"Console"</a>
                                        })}
                                        <button type="button" class="btn btn-secondary btn-small console-switch"
                                            data-on=if on { "true" } else { "false" }
                                            title="Whether Admins may open consoles on this server"
                                            on:click=move |_| {
                                                switch.dispatch(SetInstanceConsole { instance_id: switch_id.clone(), enabled: !on });
                                            }>
                                            {if on { "Turn console off" } else { "Turn console on" }}
                                        </button>
                                        <ConfirmButton class="btn btn-danger btn-small"
                                            question=format!("Remove {name}? Its agent is disconnected at once and can never reconnect with this identity.")
                                            act=move || {
                                                remove.dispatch(DeleteInstance { instance_id: id.clone() });
                                            }>
                                            "Remove"
                                        </ConfirmButton>
                                    </td>
                                }})}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn InstallCommand(command: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let text = command.clone();
    view! {
        <div class="install-command">
            <p class="section-text">"Run this on the server (as root):"</p>
            <code class="cmd" id="install-command">{command}</code>
            <button type="button" class="btn btn-secondary btn-small" id="copy-install-command"
                on:click=move |_| {
                    copy_to_clipboard(&text);
                    set_copied.set(true);
                }>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

fn copy_to_clipboard(text: &str) {
    let _ = window().navigator().clipboard().write_text(text);
}

//! The inputs of a service's settings, shared by the create form and the Settings section so
//! both read and validate the same. Inputs are named `f[…]` (the server functions take a
//! [`ServiceFields`] named `f`), and each error from `control` shows under the input it names.

use leptos::prelude::*;
use proto::api::Instance;
use proto::service::{Runtime, ServiceKind};

use crate::components::forms::{FieldError, FormError};
use crate::error::AppError;
use crate::service_fields::ServiceFields;

/// The `<option>`s of a choice that may be left to detection: `detect` (the empty value), then
/// `values`; `current` is selected.
fn detected_or<const N: usize>(
    detect: &'static str,
    current: &str,
    values: [&'static str; N],
) -> impl IntoView + use<N> {
    let options = values.map(|v| view! { <option value=v selected=current == v>{v}</option> });
    view! {
        <option value="" selected=current.is_empty()>{detect}</option>
        {options.into_iter().collect_view()}
    }
}

/// One labelled text input with its error slot. `field` is the name errors use.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    input: &'static str,
    field: &'static str,
    value: String,
    error: Signal<Option<AppError>>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let message = Signal::derive(move || error.get().and_then(|e| e.for_field(field)));
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="text" name=input value=value placeholder=placeholder required=required
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=error_id.clone() />
            {(!hint.is_empty()).then(|| view! { <p class="field-hint">{hint}</p> })}
            <FieldMessage id=error_id message />
        </div>
    }
}

#[component]
fn FieldMessage(id: String, message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! { <p class="field-error" id=id.clone() role="alert">{m}</p> }
        })
    }
}

/// The settings inputs. `instances` is `Some` on the create form only (a service stays on its
/// instance).
#[component]
pub fn ServiceInputs(
    initial: ServiceFields,
    error: Signal<Option<AppError>>,
    #[prop(optional)] instances: Option<Vec<Instance>>,
) -> impl IntoView {
    let for_field =
        move |f: &'static str| Signal::derive(move || error.get().and_then(|e| e.for_field(f)));
    let source = RwSignal::new(initial.source.clone());
    let health = RwSignal::new(initial.health.clone());
    let i = initial.clone();
    view! {
        <FormError error />
        <TextField id="svc-name" label="Name" input="f[name]" field="name" value=i.name.clone() error required=true
            placeholder="e.g. api" hint="Lowercase letters, digits and hyphens; it becomes part of the host name." />
        {instances.map(|list| {
            let chosen = i.instance_id.clone();
            view! {
                <div class="field">
                    <label for="svc-instance">"Instance"</label>
                    <select id="svc-instance" name="f[instance_id]" required
                        aria-describedby="svc-instance-error">
                        {list.into_iter().map(|ins| {
                            let selected = ins.id == chosen;
                            view! { <option value=ins.id.clone() selected=selected>{ins.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <FieldError id="svc-instance-error" message=for_field("instance_id") />
                </div>
            }
        })}
        <fieldset class="field fieldset">
            <legend>"Source"</legend>
            <div class="choice-row">
                <label><input type="radio" name="f[source]" value="git" checked=i.source != "image"
                    on:change=move |_| source.set("git".into()) />" Git repository"</label>
                <label><input type="radio" name="f[source]" value="image" checked=i.source == "image"
                    on:change=move |_| source.set("image".into()) />" Container image"</label>
            </div>
            <div class="field-row" hidden=move || source.get() == "image">
                <div class="field grow">
                    <label for="svc-git-url">"Git URL"</label>
                    <input id="svc-git-url" type="text" name="f[git_url]" value=i.git_url.clone()
                        placeholder="https://github.com/you/app.git" aria-describedby="svc-source-error" />
                </div>
                <div class="field">
                    <label for="svc-git-branch">"Branch"</label>
                    <input id="svc-git-branch" type="text" name="f[git_branch]" value=i.git_branch.clone() />
                </div>
            </div>
            <div class="field" hidden=move || source.get() == "image">
                <label for="svc-root">"Root directory"</label>
                <input id="svc-root" type="text" name="f[root_dir]" value=i.root_dir.clone()
                    placeholder="the top of the repository" aria-describedby="svc-root-error svc-root-hint" />
                <p class="field-hint" id="svc-root-hint">
                    "The app's folder in a monorepo, like apps/api: detection, build, start, dployr.toml, files and console start there."
                </p>
                <FieldError id="svc-root-error" message=for_field("root_dir") />
            </div>
            <div class="field" hidden=move || source.get() != "image">
                <label for="svc-image">"Image"</label>
                <input id="svc-image" type="text" name="f[image]" value=i.image.clone()
                    placeholder="nginx:1.27" aria-describedby="svc-source-error" />
            </div>
            <FieldError id="svc-source-error" message=for_field("source") />
        </fieldset>
        <div class="field">
            <label for="svc-runtime">"Runtime"</label>
            <select id="svc-runtime" name="f[runtime]" aria-describedby="svc-runtime-error">
                {detected_or(
                    "Detect from the files",
                    &i.runtime,
                    Runtime::ALL.map(Runtime::as_str),
                )}
            </select>
            <FieldError id="svc-runtime-error" message=for_field("runtime") />
        </div>
        <div class="field-row">
            <div class="field">
                <label for="svc-kind">"Kind"</label>
                <select id="svc-kind" name="f[kind]" aria-describedby="svc-kind-error svc-kind-hint">
                    {detected_or("Detect", &i.kind, ServiceKind::ALL.map(ServiceKind::as_str))}
                </select>
                <p class="field-hint" id="svc-kind-hint">
                    "Web apps get a port and domains; workers run in the background; static sites are files."
                </p>
                <FieldError id="svc-kind-error" message=for_field("kind") />
            </div>
            <div class="field grow" hidden=move || source.get() == "image">
                <label for="svc-runtime-version">"Runtime version"</label>
                <input id="svc-runtime-version" type="text" name="f[runtime_version]"
                    value=i.runtime_version.clone() placeholder="20, 3.12, >=18"
                    aria-describedby="svc-runtime-version-error svc-runtime-version-hint" />
                <p class="field-hint" id="svc-runtime-version-hint">
                    "Empty: what the repository asks for (engines.node, .python-version, go.mod…)."
                </p>
                <FieldError id="svc-runtime-version-error" message=for_field("runtime_version") />
            </div>
        </div>
        <TextField id="svc-build" label="Build command" input="f[build_command]" field="build_command"
            value=i.build_command.clone() error placeholder="the runtime's default" />
        <TextField id="svc-start" label="Start command" input="f[start_command]" field="start_command"
            value=i.start_command.clone() error placeholder="the runtime's default" />
        <TextField id="svc-port" label="Port" input="f[port]" field="port" value=i.port.clone() error
            hint="Only for images: the port the container listens on. Other runtimes get PORT." />
        <div class="field">
            <label for="svc-env">"Environment"</label>
            <textarea id="svc-env" name="f[env]" rows="4" spellcheck="false" placeholder="KEY=value, one a line"
                aria-describedby="svc-env-error">{i.env.clone()}</textarea>
            <FieldError id="svc-env-error" message=for_field("env") />
        </div>
        <div class="field-row">
            <div class="field">
                <label for="svc-health">"Health check"</label>
                <select id="svc-health" name="f[health]" on:change=move |ev| health.set(event_target_value(&ev))>
                    <option value="http" selected=i.health == "http">"HTTP"</option>
                    <option value="tcp" selected=i.health == "tcp">"TCP connect"</option>
                    <option value="none" selected=i.health == "none">"None"</option>
                </select>
            </div>
            <div class="field grow" hidden=move || health.get() != "http">
                <label for="svc-health-path">"Path"</label>
                <input id="svc-health-path" type="text" name="f[health_path]" value=i.health_path.clone()
                    placeholder="/healthz" aria-describedby="svc-health-error" />
            </div>
        </div>
        <FieldError id="svc-health-error" message=for_field("health_check") />
        <TextField id="svc-domains" label="Domains" input="f[domains]" field="domains" value=i.domains.clone()
            error placeholder="api.example.com, www.example.com" />
        <fieldset class="field fieldset">
            <legend>"Resources"</legend>
            <p class="field-hint">
                "Empty: no limit. A process over its memory limit is killed; CPU is in thousandths of a CPU (500 is half a CPU). Builds run at a lower CPU priority than services."
            </p>
            <div class="field-row">
                <TextField id="svc-memory" label="Memory (MB)" input="f[memory_mb]" field="memory_mb"
                    value=i.memory_mb.clone() error placeholder="no limit" />
                <TextField id="svc-cpu" label="CPU (millis)" input="f[cpu_millis]" field="cpu_millis"
                    value=i.cpu_millis.clone() error placeholder="no limit" />
            </div>
            <div class="field-row">
                <TextField id="svc-build-memory" label="Build memory (MB)" input="f[build_memory_mb]"
                    field="build_memory_mb" value=i.build_memory_mb.clone() error placeholder="no limit" />
                <TextField id="svc-build-cpu" label="Build CPU (millis)" input="f[build_cpu_millis]"
                    field="build_cpu_millis" value=i.build_cpu_millis.clone() error placeholder="no limit" />
            </div>
        </fieldset>
    }
}

//! A service's Domains card: each custom domain with where it stands (pending with the reason,
//! verified, its certificate issued and expiring in N days or failed with the CA's reason), the
//! DNS records to create (copyable), and for Admins and Owners Verify, Remove and an Add form.

use leptos::prelude::*;
use proto::api::{CertificateStatus, DnsRecord, Domain, DomainList, DomainStatus};

use crate::api::domains::{AddDomain, RemoveDomain, VerifyDomain, get_domains};
use crate::components::forms::{Field, FormError, SubmitButton, error_of, refetched};
use crate::components::loaded::Loaded;

/// Created at the service page's top level, not inside a Suspense body (see `show`).
#[component]
pub fn DomainsPanel(service_id: String, may: Signal<bool>) -> impl IntoView {
    let add = ServerAction::<AddDomain>::new();
    let verify = ServerAction::<VerifyDomain>::new();
    let remove = ServerAction::<RemoveDomain>::new();
    let id = StoredValue::new(service_id);
    let list = refetched(
        Signal::stored(id.get_value()),
        [add.version(), verify.version(), remove.version()],
        get_domains,
    );
    let add_error = error_of(add.value());
    let act_error = Signal::derive(move || {
        error_of(verify.value())
            .get()
            .or(error_of(remove.value()).get())
    });
    view! {
        <section class="settings-section domains-section" aria-labelledby="domains-title">
            <h2 id="domains-title">"Domains"</h2>
            <p class="section-text">
                "A domain is routed to this service once its TXT record proves you control it."
            </p>
            <Loaded resource=list keep=true inline=true let:l>
                <DomainRows l verify remove may service_id=id.get_value() />
            </Loaded>
            <FormError error=act_error />
            {move || may.get().then(|| view! {
                <ActionForm action=add attr:class="form domains-form" attr:id="domains-form">
                    <input type="hidden" name="service_id" value=id.get_value() />
                    <Field id="domains-name" label="Add a domain" name="name" error=add_error
                        class="mono" autocomplete="off" placeholder="app.example.com" />
                    <label class="checkbox">
                        <input type="checkbox" name="hsts" value="on" />
                        " Send Strict-Transport-Security"
                    </label>
                    <FormError error=add_error />
                    <SubmitButton label="Add domain" busy_label="Adding…"
                        pending=add.pending().into() class="btn btn-primary" />
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn DomainRows(
    l: DomainList,
    verify: ServerAction<VerifyDomain>,
    remove: ServerAction<RemoveDomain>,
    may: Signal<bool>,
    service_id: String,
) -> impl IntoView {
    if l.domains.is_empty() {
        return view! { <p class="muted" id="domains-empty">"No custom domains yet."</p> }
            .into_any();
    }
    let rows = l
        .domains
        .into_iter()
        .map(|d| {
            let svc = service_id.clone();
            view! { <DomainRow d verify remove may service_id=svc /> }
        })
        .collect_view();
    view! { <ul class="domain-list" id="domains-list">{rows}</ul> }.into_any()
}

#[component]
fn DomainRow(
    d: Domain,
    verify: ServerAction<VerifyDomain>,
    remove: ServerAction<RemoveDomain>,
    may: Signal<bool>,
    service_id: String,
) -> impl IntoView {
    let pending = d.status == DomainStatus::Pending;
    let (name_v, name_r, svc_v, svc_r) = (
        d.name.clone(),
        d.name.clone(),
        service_id.clone(),
        service_id,
    );
    let records = d.records.clone();
    view! {
        <li class="domain" data-domain=d.name.clone() data-status=d.status.as_str()>
            <div class="domain-head">
                <span class="mono domain-name">{d.name.clone()}</span>
                <span class=format!("badge badge-{}", d.status.as_str())>{status_text(&d)}</span>
                <span class="muted domain-cert">{certificate_text(&d)}</span>
                {move || may.get().then(|| {
                    let (n, s) = (name_v.clone(), svc_v.clone());
                    let (n2, s2) = (name_r.clone(), svc_r.clone());
                    view! {
                        {pending.then(|| view! {
                            <button type="button" class="btn btn-secondary domain-verify"
                                on:click=move |_| { verify.dispatch(VerifyDomain { service_id: s.clone(), name: n.clone() }); }>
                                "Verify"
                            </button>
                        })}
                        <button type="button" class="btn btn-link btn-danger-link domain-remove"
                            on:click=move |_| {
                                let question = format!("Remove {n2}? It stops being routed at once.");
                                if window().confirm_with_message(&question).unwrap_or(false) {
                                    remove.dispatch(RemoveDomain { service_id: s2.clone(), name: n2.clone() });
                                }
                            }>
                            "Remove"
                        </button>
                    }
                })}
            </div>
            {pending.then(|| view! { <Records records /> })}
        </li>
    }
}

/// The records to create at the DNS provider, each value copyable.
#[component]
fn Records(records: Vec<DnsRecord>) -> impl IntoView {
    let rows = records
        .into_iter()
        .map(|r| {
            let copy = r.value.clone();
            view! {
                <tr>
                    <td class="mono">{r.kind}</td>
                    <td class="mono">{r.name}</td>
                    <td class="mono record-value">{r.value}</td>
                    <td>
                        <button type="button" class="btn btn-secondary btn-small"
                            on:click=move |_| { let _ = window().navigator().clipboard().write_text(&copy); }>
                            "Copy"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table dns-records">
            <thead><tr><th>"Type"</th><th>"Name"</th><th>"Value"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn status_text(d: &Domain) -> String {
    match d.status {
        DomainStatus::Verified => "verified".into(),
        DomainStatus::Pending => match &d.last_error {
            Some(why) => format!("pending: {why}"),
            None => "pending".into(),
        },
    }
}

fn certificate_text(d: &Domain) -> String {
    let c = &d.certificate;
    match c.status {
        CertificateStatus::None => String::new(),
        CertificateStatus::Issued => match c.expires_at.as_deref().and_then(days_until) {
            Some(days) => format!("certificate issued, expiring in {days} days"),
            None => "certificate issued".into(),
        },
        CertificateStatus::Failed => format!(
            "certificate failed: {}",
            c.reason.as_deref().unwrap_or("no reason given")
        ),
    }
}

/// Whole days from now until an RFC 3339 time.
fn days_until(rfc3339: &str) -> Option<i64> {
    let at = crate::components::time::epoch_ms(rfc3339)?;
    Some((at - now_ms()).div_euclid(86_400_000))
}

fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

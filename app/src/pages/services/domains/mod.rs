//! A service's Domains card: its default host (with its certificate), each custom domain with where
//! it stands (pending with the reason, verified, its certificate issued and expiring in N days or
//! failed with the CA's reason, or the team's uploaded one), whether HTTPS answers send HSTS, the
//! DNS records to create (copyable), and for Admins and Owners Verify, the HSTS switch, Upload
//! certificate ([`certificate`]), Remove and an Add form.

mod certificate;

use leptos::prelude::*;
use proto::api::{CertificateStatus, DefaultHost, DnsRecord, Domain, DomainList, DomainStatus};

use crate::api::domains::{
    AddDomain, RemoveDomain, SetDomainHsts, UploadDomainCertificate, VerifyDomain, get_domains,
};
use crate::components::forms::{Field, FormError, SubmitButton, error_of, refetched};
use crate::components::loaded::Loaded;
use certificate::{CertificateForm, certificate_text};

/// What a domain row's buttons act through: one action each for the whole card, so the list
/// is fetched again after any of them.
#[derive(Clone, Copy)]
struct RowActions {
    verify: ServerAction<VerifyDomain>,
    remove: ServerAction<RemoveDomain>,
    hsts: ServerAction<SetDomainHsts>,
    upload: ServerAction<UploadDomainCertificate>,
    /// The domain whose certificate form is open.
    uploading: RwSignal<Option<String>>,
}

/// Created at the service page's top level, not inside a Suspense body (see `show`).
#[component]
pub fn DomainsPanel(service_id: String, may: Signal<bool>) -> impl IntoView {
    let add = ServerAction::<AddDomain>::new();
    let acts = RowActions {
        verify: ServerAction::new(),
        remove: ServerAction::new(),
        hsts: ServerAction::new(),
        upload: ServerAction::new(),
        uploading: RwSignal::new(None),
    };
    let id = StoredValue::new(service_id);
    let list = refetched(
        Signal::stored(id.get_value()),
        [
            add.version(),
            acts.verify.version(),
            acts.remove.version(),
            acts.hsts.version(),
            acts.upload.version(),
        ],
        get_domains,
    );
    let add_error = error_of(add.value());
    let act_error = Signal::derive(move || {
        error_of(acts.verify.value())
            .get()
            .or(error_of(acts.remove.value()).get())
            .or(error_of(acts.hsts.value()).get())
    });
    view! {
        <section class="settings-section domains-section" aria-labelledby="domains-title">
            <h2 id="domains-title">"Domains"</h2>
            <p class="section-text">
                "A domain is routed to this service once its TXT record proves you control it."
            </p>
            <Loaded resource=list keep=true inline=true let:l>
                <DomainRows l acts may service_id=id.get_value() />
            </Loaded>
            <FormError error=act_error />
            // Outside the list: fetching the list again (after a refused upload too) keeps
            // what was pasted here.
            {move || may.get().then(|| view! {
                <CertificateForm upload=acts.upload uploading=acts.uploading service_id=id.get_value() />
            })}
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
    acts: RowActions,
    may: Signal<bool>,
    service_id: String,
) -> impl IntoView {
    let default_host = l.default_host.map(|h| view! { <DefaultHostRow h /> });
    if l.domains.is_empty() {
        return view! {
            {default_host}
            <p class="muted" id="domains-empty">"No custom domains yet."</p>
        }
        .into_any();
    }
    let rows = l
        .domains
        .into_iter()
        .map(|d| {
            let svc = service_id.clone();
            view! { <DomainRow d acts may service_id=svc /> }
        })
        .collect_view();
    view! {
        {default_host}
        <ul class="domain-list" id="domains-list">{rows}</ul>
    }
    .into_any()
}

/// `<service>.<ingress domain>`: always routed, and certified when the ingress domain has a
/// wildcard record; nothing to add, verify or remove.
#[component]
fn DefaultHostRow(h: DefaultHost) -> impl IntoView {
    let cert = match (h.wildcard, h.certificate.status) {
        (false, _) => {
            let parent = h.name.split_once('.').map_or("", |(_, p)| p);
            format!("HTTP only: *.{parent} has no DNS record, so no CA could reach this host")
        }
        (true, CertificateStatus::None) => "certificate not issued yet".into(),
        (true, _) => certificate_text(&h.certificate),
    };
    let status = h.certificate.status.as_str();
    let name = h.name.clone();
    view! {
        <div class="domain default-host" id="domains-default-host" data-domain=h.name
            data-cert=status>
            <div class="domain-head">
                <span class="mono domain-name">{name}</span>
                <span class="badge badge-verified">"default host"</span>
                <span class="muted domain-cert">{cert}</span>
            </div>
        </div>
    }
}

#[component]
fn DomainRow(d: Domain, acts: RowActions, may: Signal<bool>, service_id: String) -> impl IntoView {
    let pending = d.status == DomainStatus::Pending;
    let hsts = d.hsts;
    let target = StoredValue::new((service_id, d.name.clone()));
    let records = d.records.clone();
    let buttons = move || {
        may.get().then(|| {
            let (service_id, name) = target.get_value();
            view! {
                {pending.then(|| view! {
                    <button type="button" class="btn btn-secondary domain-verify"
                        on:click=move |_| {
                            let (service_id, name) = target.get_value();
                            acts.verify.dispatch(VerifyDomain { service_id, name });
                        }>
                        "Verify"
                    </button>
                })}
                <button type="button" class="btn btn-secondary btn-small domain-hsts" role="switch"
                    aria-checked=hsts.to_string()
                    title="Send Strict-Transport-Security on HTTPS answers"
                    on:click=move |_| {
                        let (service_id, name) = target.get_value();
                        acts.hsts.dispatch(SetDomainHsts { service_id, name, hsts: !hsts });
                    }>
                    {if hsts { "HSTS on" } else { "HSTS off" }}
                </button>
                <button type="button" class="btn btn-secondary btn-small domain-upload"
                    on:click=move |_| {
                        // A new form: not closed by the previous upload's success.
                        acts.upload.value().set(None);
                        acts.uploading.set(Some(target.get_value().1));
                    }>
                    "Upload certificate"
                </button>
                <button type="button" class="btn btn-link btn-danger-link domain-remove"
                    on:click=move |_| {
                        let question = format!("Remove {name}? It stops being routed at once.");
                        if window().confirm_with_message(&question).unwrap_or(false) {
                            let (service_id, name) = (service_id.clone(), name.clone());
                            acts.remove.dispatch(RemoveDomain { service_id, name });
                        }
                    }>
                    "Remove"
                </button>
            }
        })
    };
    view! {
        <li class="domain" data-domain=d.name.clone() data-status=d.status.as_str()
            data-hsts=hsts.to_string()>
            <div class="domain-head">
                <span class="mono domain-name">{d.name.clone()}</span>
                <span class=format!("badge badge-{}", d.status.as_str())>{status_text(&d)}</span>
                <span class="muted domain-cert">{certificate_text(&d.certificate)}</span>
                {move || (hsts && !may.get()).then(|| view! { <span class="muted">"HSTS on"</span> })}
                {buttons}
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

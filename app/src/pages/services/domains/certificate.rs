//! A domain's certificate in the Domains card: the line saying which one serves (issued by ACME
//! or uploaded, its issuer and days left, or why the last attempt failed), and the form that
//! uploads the team's own. The key goes in once: the form closes after a successful upload and
//! nothing ever shows it again.

use leptos::prelude::*;
use proto::api::{CertificateStatus, DomainCertificate};

use crate::api::domains::UploadDomainCertificate;
use crate::components::forms::{
    FieldError, FormError, SubmitButton, error_of, field_error, value_of,
};

/// The form for the domain in `uploading` (opened by its row's Upload certificate), until the
/// upload succeeds or the person cancels; then the upload's outcome.
#[component]
pub fn CertificateForm(
    upload: ServerAction<UploadDomainCertificate>,
    uploading: RwSignal<Option<String>>,
    service_id: String,
) -> impl IntoView {
    let error = error_of(upload.value());
    let chain_err = field_error(error, "chain_pem");
    let key_err = field_error(error, "key_pem");
    let done = value_of(upload.value());
    let service_id = StoredValue::new(service_id);
    // A memo: a refused upload changes the action's value but not which form is open, so the
    // form (and what was pasted in it) stays.
    let open = Memo::new(move |_| uploading.get().filter(|_| done.get().is_none()));
    let form = move || {
        let name = open.get()?;
        Some(view! {
            <ActionForm action=upload attr:class="form certificate-form" attr:id="certificate-form">
                <h3 class="certificate-title">"Certificate for " <span class="mono">{name.clone()}</span></h3>
                <p class="section-text">
                    "Served instead of one from Let's Encrypt. The key is stored encrypted and "
                    "never shown again."
                </p>
                <input type="hidden" name="service_id" value=service_id.get_value() />
                <input type="hidden" name="name" value=name />
                <PemField id="certificate-chain" name="chain_pem" rows="6"
                    label="Certificate chain (PEM, the domain's first)"
                    placeholder="-----BEGIN CERTIFICATE-----" message=chain_err />
                <PemField id="certificate-key" name="key_pem" rows="4"
                    label="Private key (PEM, unencrypted)"
                    placeholder="-----BEGIN PRIVATE KEY-----" message=key_err />
                <FormError error />
                <div class="page-actions">
                    <SubmitButton label="Upload certificate" busy_label="Uploading…"
                        pending=upload.pending().into() class="btn btn-primary" />
                    <button type="button" class="btn btn-secondary" id="certificate-cancel"
                        on:click=move |_| uploading.set(None)>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        })
    };
    let outcome = move || {
        done.get().map(|d| {
            view! {
                <p class="form-success" role="status" id="certificate-uploaded">
                    "Certificate uploaded for " <span class="mono">{d.name}</span>
                    ": the key is stored encrypted and will not be shown again."
                </p>
            }
        })
    };
    view! { {form} {outcome} }
}

/// A textarea for PEM text with its message under it (`{id}-error`).
#[component]
fn PemField(
    id: &'static str,
    name: &'static str,
    rows: &'static str,
    label: &'static str,
    placeholder: &'static str,
    message: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <textarea id=id name=name rows=rows class="mono" spellcheck="false" autocomplete="off"
                required=true placeholder=placeholder
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=error_id.clone()></textarea>
            <FieldError id=error_id message />
        </div>
    }
}

/// Which certificate serves the domain, or why none does.
pub fn certificate_text(c: &DomainCertificate) -> String {
    let from = c
        .issuer
        .as_deref()
        .map(|i| format!(" from {i}"))
        .unwrap_or_default();
    let expiring = match c.expires_at.as_deref().and_then(days_until) {
        Some(days) => format!(", expiring in {days} days"),
        None => String::new(),
    };
    match (c.status, c.uploaded) {
        (CertificateStatus::None, false) => String::new(),
        (CertificateStatus::None, true) => {
            format!("uploaded certificate{from}{expiring}, not serving yet")
        }
        (CertificateStatus::Issued, true) => format!("uploaded certificate{from}{expiring}"),
        (CertificateStatus::Issued, false) => format!("certificate issued{from}{expiring}"),
        (CertificateStatus::Failed, _) => format!(
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

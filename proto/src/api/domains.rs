//! REST bodies of a service's custom domains (`/api/v1/services/{id}/domains`): what a team
//! adds, the DNS records it must create, whether the name is verified yet, and the certificate
//! the instance reported for it. An uploaded certificate's key goes in once and never comes out.

use serde::{Deserialize, Serialize};

/// Where a domain stands. Only a `verified` domain is routed to its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    /// Added; waiting for its TXT record to be seen.
    Pending,
    /// The TXT record was seen: the domain is routed and gets a certificate.
    Verified,
}

crate::names::wire_names!(DomainStatus, "domain status" {
    Pending => "pending",
    Verified => "verified",
});

/// The certificate dployrd reported for the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    /// Nothing reported yet.
    None,
    /// A certificate serves; see `expires_at` and `issuer`.
    Issued,
    /// The last attempt failed; see `reason` and `retry_at`.
    Failed,
}

crate::names::wire_names!(CertificateStatus, "certificate status" {
    None => "none",
    Issued => "issued",
    Failed => "failed",
});

/// A DNS record the team creates at its DNS provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DnsRecord {
    /// `A`, `AAAA`, `CNAME` or `TXT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The full name, e.g. `_dployr.app.example.com`.
    pub name: String,
    pub value: String,
    /// Why this record: "proves you own the domain", "points the domain at the instance".
    pub purpose: String,
}

/// The certificate side of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainCertificate {
    pub status: CertificateStatus,
    /// RFC 3339 `notAfter` of the certificate serving; with `status` `none` and `uploaded`,
    /// of the uploaded certificate the instance has not reported serving yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Who issued that certificate (its issuer's common name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The CA's or the network's reason for the last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 3339: when the instance tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
    /// A certificate the team uploaded (rather than one from ACME).
    #[serde(default)]
    pub uploaded: bool,
}

/// `GET /api/v1/services/{id}/domains` items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Domain {
    /// Lower case, no trailing dot; `*.example.com` for a wildcard.
    pub name: String,
    pub service_id: String,
    pub status: DomainStatus,
    /// `dployr-verify=<token>`, the value of the TXT record at `_dployr.<name>`.
    pub verification: String,
    /// What to create at the DNS provider: the TXT record always, and A/AAAA or CNAME when
    /// Base knows where the instance is.
    pub records: Vec<DnsRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked_at: Option<String>,
    /// Why the last check did not verify it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub certificate: DomainCertificate,
    /// HTTPS answers carry `Strict-Transport-Security`.
    pub hsts: bool,
    pub created_at: String,
}

/// `GET /api/v1/services/{id}/domains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainList {
    pub domains: Vec<Domain>,
    /// The service's default host, when its instance has a public ingress domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_host: Option<DefaultHost>,
}

/// `<service>.<instance's ingress domain>`: routed to the service without being added or
/// verified (the instance's operator owns the ingress domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefaultHost {
    pub name: String,
    /// The ingress domain has a wildcard DNS record, so the instance gets a certificate for
    /// this host. Without one no CA could reach it, and none is asked.
    pub wildcard: bool,
    /// What the instance reported of this host's certificate (`none` before any report).
    pub certificate: DomainCertificate,
}

write_body! {
    /// `POST /api/v1/services/{id}/domains`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(deny_unknown_fields)]
    pub struct AddDomainRequest {
        /// A host name (`app.example.com`) or a one-level wildcard (`*.example.com`).
        name: String,
        /// Send `Strict-Transport-Security` on HTTPS answers.
        hsts: bool = default,
    }
}

write_body! {
    /// `PATCH /api/v1/services/{id}/domains/{name}`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(deny_unknown_fields)]
    pub struct UpdateDomainRequest {
        set hsts: bool,
    }
}

write_body! {
    /// `PUT /api/v1/services/{id}/domains/{name}/certificate`: a certificate to serve instead
    /// of one from ACME. The key is stored sealed and never shown again.
    #[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(deny_unknown_fields)]
    pub struct UploadCertificateRequest {
        /// PEM: the leaf first, then intermediates.
        chain_pem: String,
        /// PEM private key (PKCS#8, SEC1 or PKCS#1).
        key_pem: String,
    }
}

impl std::fmt::Debug for UploadCertificateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadCertificateRequest")
            .field("key_pem", &"[redacted]")
            .finish_non_exhaustive()
    }
}

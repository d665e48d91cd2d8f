//! `dployr domains list|add|verify|remove`: a service's custom domains. `add` and `list` print
//! the DNS records to create; `verify` says why a domain is still pending.

use proto::api::{
    AddDomainRequest, CertificateStatus, Domain, DomainCertificate, DomainList, DomainStatus,
};
use reqwest::Method;

use super::Ctx;
use crate::args::DomainsCmd;
use crate::error::Result;
use crate::output::Paint;

pub async fn domains(ctx: &Ctx, cmd: DomainsCmd) -> Result<()> {
    match cmd {
        DomainsCmd::List { service } => {
            let svc = ctx.service(service).await?;
            let list: DomainList = ctx
                .api
                .get(&format!("/services/{}/domains", svc.id))
                .await?;
            if ctx.out.printed_json(&list) {
                return Ok(());
            }
            let default_host = list.default_host.iter().map(|h| {
                let cert = if h.wildcard {
                    certificate(&h.certificate)
                } else {
                    "- (no wildcard DNS record: HTTP only)".into()
                };
                vec![
                    h.name.clone(),
                    ctx.out.paint("default host", Paint::Green),
                    cert,
                ]
            });
            let rows: Vec<Vec<String>> = default_host
                .chain(
                    list.domains
                        .iter()
                        .map(|d| vec![d.name.clone(), status(ctx, d), certificate(&d.certificate)]),
                )
                .collect();
            ctx.out.table(&["DOMAIN", "STATUS", "CERTIFICATE"], &rows);
            for d in list
                .domains
                .iter()
                .filter(|d| d.status == DomainStatus::Pending)
            {
                records(d);
            }
            Ok(())
        }
        DomainsCmd::Add {
            service,
            domain,
            hsts,
        } => {
            let svc = ctx.service(Some(service)).await?;
            let path = format!("/services/{}/domains", svc.id);
            let body = AddDomainRequest { name: domain, hsts };
            let added: Domain = ctx.api.send(Method::POST, &path, &body).await?;
            if ctx.out.printed_json(&added) {
                return Ok(());
            }
            println!("Added {} to {} (pending).", added.name, svc.spec.name);
            records(&added);
            println!(
                "Then: dployr domains verify {} {}",
                svc.spec.name, added.name
            );
            Ok(())
        }
        DomainsCmd::Verify { service, domain } => {
            let svc = ctx.service(Some(service)).await?;
            let path = format!("/services/{}/domains/{domain}/verify", svc.id);
            let d: Domain = ctx.api.call(ctx.api.request(Method::POST, &path)).await?;
            if ctx.out.printed_json(&d) {
                return Ok(());
            }
            match d.status {
                DomainStatus::Verified => {
                    println!("{} is verified and routed to {}.", d.name, svc.spec.name)
                }
                DomainStatus::Pending => {
                    println!(
                        "{} is still pending: {}",
                        d.name,
                        d.last_error.as_deref().unwrap_or("not checked yet")
                    );
                    records(&d);
                }
            }
            Ok(())
        }
        DomainsCmd::Remove { service, domain } => {
            let svc = ctx.service(Some(service)).await?;
            let path = format!("/services/{}/domains/{domain}", svc.id);
            ctx.api.send_no_content(Method::DELETE, &path).await?;
            if !ctx.out.json {
                println!("Removed {domain} from {}.", svc.spec.name);
            }
            Ok(())
        }
    }
}

fn status(ctx: &Ctx, d: &Domain) -> String {
    match d.status {
        DomainStatus::Verified => ctx.out.paint("verified", Paint::Green),
        DomainStatus::Pending => ctx.out.paint("pending", Paint::Yellow),
    }
}

fn certificate(c: &DomainCertificate) -> String {
    let expires = c.expires_at.as_deref().unwrap_or("?");
    match c.status {
        CertificateStatus::None if c.uploaded => {
            format!("uploaded, expires {expires}, not serving yet")
        }
        CertificateStatus::None => "-".into(),
        CertificateStatus::Issued if c.uploaded => format!("uploaded, expires {expires}"),
        CertificateStatus::Issued => format!("issued, expires {expires}"),
        CertificateStatus::Failed => format!("failed: {}", c.reason.as_deref().unwrap_or("?")),
    }
}

/// The records to create, one per line, ready to copy.
fn records(d: &Domain) {
    println!("Create these DNS records for {}:", d.name);
    for r in &d.records {
        println!("  {:<5} {}  {}", r.kind, r.name, r.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_column_says_issued_uploaded_or_failed() {
        let cert = |status, uploaded| DomainCertificate {
            status,
            expires_at: Some("2027-03-01T00:00:00Z".into()),
            issuer: Some("R11".into()),
            reason: None,
            retry_at: None,
            uploaded,
        };
        let issued = certificate(&cert(CertificateStatus::Issued, false));
        assert_eq!(issued, "issued, expires 2027-03-01T00:00:00Z");
        let uploaded = certificate(&cert(CertificateStatus::Issued, true));
        assert_eq!(uploaded, "uploaded, expires 2027-03-01T00:00:00Z");
        let waiting = certificate(&cert(CertificateStatus::None, true));
        assert_eq!(
            waiting,
            "uploaded, expires 2027-03-01T00:00:00Z, not serving yet"
        );
        let none = DomainCertificate {
            expires_at: None,
            ..cert(CertificateStatus::None, false)
        };
        assert_eq!(certificate(&none), "-");
    }
}

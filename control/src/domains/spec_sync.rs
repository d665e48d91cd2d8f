//! A service's `spec.domains` and its domain rows say the same thing: the settings form, the
//! CLI's `--domain`, `dployr.toml` and REST still set `domains`, and each name becomes a row
//! (pending until verified); the domains API keeps `spec.domains` up to date in turn. What is
//! routed is decided by the rows alone ([`super::routing`]).

use proto::api::{AuditAction, DomainStatus};
use serde_json::json;

use super::{held_elsewhere, new_row};
use crate::events::{NewEvent, record};
use crate::store::Tx;
use crate::store::domains::{self as sql, DomainRow};
use crate::store::services::{self as services_sql, ServiceRow};
use crate::{Actor, Base, DomainError, clock};

/// How long another cluster's unverified claim on a name blocks a new one: a week.
pub const PENDING_CLAIM_MS: i64 = 7 * 24 * 3600 * 1000;

impl Base {
    /// Inserts a pending domain for `svc`, or the conflict that stops it. The lookup and the
    /// insert share `tx`; a concurrent add of the same name fails the UNIQUE constraint and is
    /// reported as the same conflict.
    pub(crate) async fn insert_domain(
        tx: &mut Tx<'_>,
        svc: &ServiceRow,
        name: &str,
        hsts: bool,
    ) -> Result<DomainRow, DomainError> {
        let now = clock::now_ms();
        if let Some(holder) = sql::by_name(&mut **tx, name).await? {
            let held_by = services_sql::by_id(&mut **tx, &holder.service_id)
                .await?
                .map(|s| s.name)
                .unwrap_or_default();
            if !Base::stale_claim(&holder, svc, now) {
                return Err(held_elsewhere(svc, &holder, &held_by));
            }
            // Nobody proved this name for a week: another cluster's claim on it stops blocking
            // the team that can (a squatted pending name would otherwise be lost for good).
            sql::delete(&mut **tx, &holder.id).await?;
            remove_from_spec(tx, &holder.service_id, name).await?;
            let details = json!({ "domain": name, "service": held_by,
                "reason": "never verified, and claimed by another cluster" });
            let client = crate::ClientInfo::default();
            let event = NewEvent {
                cluster_id: Some(&holder.cluster_id),
                actor_user_id: None,
                actor_token_id: None,
                client: &client,
                action: AuditAction::DomainRemove,
                target: Some(&holder.service_id),
                details,
            };
            record(&mut **tx, event).await?;
        }
        let row = new_row(svc, name, hsts, now);
        sql::insert(&mut **tx, &row).await.map_err(|e| {
            if crate::store::is_unique_violation(&e) {
                DomainError::Conflict(format!("{name} was just added to another service"))
            } else {
                e.into()
            }
        })?;
        Ok(row)
    }

    /// Whether `holder` is another cluster's claim left unverified past
    /// [`PENDING_CLAIM_MS`], which a new claim replaces.
    fn stale_claim(holder: &DomainRow, svc: &ServiceRow, now: i64) -> bool {
        holder.cluster_id != svc.cluster_id
            && holder.status == DomainStatus::Pending
            && now - holder.created_at > PENDING_CLAIM_MS
    }

    /// Makes the service's rows match `names` (its new `spec.domains`): adds the missing ones
    /// pending, removes the ones no longer listed, each with its event. Returns whether a
    /// verified one went (its instance must be told).
    pub(crate) async fn sync_spec_domains(
        tx: &mut Tx<'_>,
        actor: &Actor,
        svc: &ServiceRow,
        names: &[String],
    ) -> Result<bool, DomainError> {
        let held = sql::of_service(&mut **tx, &svc.id).await?;
        let mut verified_gone = false;
        for row in held.iter().filter(|r| !names.contains(&r.name)) {
            sql::delete(&mut **tx, &row.id).await?;
            verified_gone |= row.status == DomainStatus::Verified;
            let details = json!({ "domain": row.name, "service": svc.name });
            let e = NewEvent::by(
                actor,
                &svc.cluster_id,
                AuditAction::DomainRemove,
                &svc.id,
                details,
            );
            record(&mut **tx, e).await?;
        }
        for name in names.iter().filter(|n| !held.iter().any(|r| &r.name == *n)) {
            Base::insert_domain(tx, svc, name, false).await?;
            let details = json!({ "domain": name, "service": svc.name });
            let e = NewEvent::by(
                actor,
                &svc.cluster_id,
                AuditAction::DomainAdd,
                &svc.id,
                details,
            );
            record(&mut **tx, e).await?;
        }
        Ok(verified_gone)
    }
}

/// Adds `name` to the stored `spec.domains` of the service.
pub(crate) async fn add_to_spec(
    tx: &mut Tx<'_>,
    service_id: &str,
    name: &str,
) -> Result<(), DomainError> {
    edit_spec(tx, service_id, |d| {
        if !d.iter().any(|n| n == name) {
            d.push(name.to_string());
            d.sort();
        }
    })
    .await
}

/// Removes `name` from the stored `spec.domains` of the service.
pub(crate) async fn remove_from_spec(
    tx: &mut Tx<'_>,
    service_id: &str,
    name: &str,
) -> Result<(), DomainError> {
    edit_spec(tx, service_id, |d| d.retain(|n| n != name)).await
}

async fn edit_spec(
    tx: &mut Tx<'_>,
    service_id: &str,
    change: impl FnOnce(&mut Vec<String>),
) -> Result<(), DomainError> {
    let Some(row) = services_sql::by_id(&mut **tx, service_id).await? else {
        return Err(DomainError::NotFound("service"));
    };
    let mut spec = crate::services::spec_of(&row.spec)?;
    change(&mut spec.domains);
    let json = serde_json::to_string(&spec).map_err(|e| DomainError::Internal(Box::new(e)))?;
    services_sql::set_spec(&mut **tx, service_id, &json, clock::now_ms()).await?;
    Ok(())
}

//! A service's environment: plain variables (their values live in the service's spec, which
//! deployments copy) and write-only secrets (sealed in `service_env`, opened only for the deploy
//! order that goes to the service's own instance). Who set what and when is kept per variable;
//! every change is an audit event naming the variable, never its value, and marks the service
//! "env changed, redeploy to apply" until its next deployment.
//!
//! Listing and changing need `services.env` (Members and up); Guests see no values or names.
//! The names that change what code runs (`proto::loader_env`: `LD_*`, `NODE_OPTIONS`, `PATH`,
//! …) also need `services.loader_env` (Admins and up), however they are set: one variable, a
//! `.env` import, or the settings' `env` (which needs `services.manage`, Admins and up, anyway).

pub mod dotenv;

use std::collections::BTreeMap;

use proto::api::{AuditAction, EnvList, EnvVar, ImportEnvRequest, SetEnvRequest};
use proto::loader_env::is_loader_env;
use proto::service::check_env_name;
use proto::wire::Secrets;
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::rbac::{ManageEnv, ManageLoaderEnv};
use crate::secrets::Sealed;
use crate::store::Tx;
use crate::store::env::{self as sql, EnvRow};
use crate::store::services::{self as services_sql, ServiceRow};
use crate::{Actor, Base, DomainError, clock};

/// Variables per service, plain and secret together.
pub const MAX_VARS: usize = 200;
/// Longest value, plain or secret.
pub const MAX_VALUE: usize = 32 * 1024;

/// What a secret is bound to when sealed: a sealed value copied to another row does not open.
fn context(service_id: &str, name: &str) -> String {
    format!("{service_id}/{name}")
}

fn check_value(name: &str, value: &str) -> Result<(), DomainError> {
    if value.len() > MAX_VALUE {
        return Err(DomainError::invalid(
            "value",
            format!("{name}: values are at most 32 KiB"),
        ));
    }
    if value.contains('\0') {
        return Err(DomainError::invalid(
            "value",
            format!("{name}: values cannot contain NUL bytes"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), DomainError> {
    check_env_name(name).map_err(|m| DomainError::invalid("key", m))
}

/// One change to apply: set (plain or secret) or remove.
enum Change<'a> {
    Set {
        name: &'a str,
        value: &'a str,
        secret: bool,
    },
    Unset {
        name: &'a str,
    },
}

impl Base {
    /// The service, if the actor may see it and change its environment.
    async fn env_service(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<(ServiceRow, crate::rbac::May<ManageEnv>), DomainError> {
        self.service_for::<ManageEnv>(actor, service_id).await
    }

    /// The service's variables: names, whether secret, plain values, who set them and when.
    pub async fn list_env(&self, actor: &Actor, service_id: &str) -> Result<EnvList, DomainError> {
        let (svc, _) = self.env_service(actor, service_id).await?;
        let spec = crate::services::spec_of(&svc.spec)?;
        let rows = sql::of_service(self.store.pool(), &svc.id).await?;
        let mut meta: BTreeMap<&str, &EnvRow> = rows.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut vars: Vec<EnvVar> = Vec::new();
        for (name, value) in &spec.env {
            let m = meta.remove(name.as_str()).filter(|m| m.secret == 0);
            vars.push(EnvVar {
                key: name.clone(),
                secret: false,
                value: Some(value.clone()),
                updated_at: clock::rfc3339(m.map_or(svc.created_at, |m| m.updated_at)),
                updated_by: m.and_then(|m| m.updated_by_name.clone()),
            });
        }
        for m in meta.values().filter(|m| m.secret == 1) {
            vars.push(EnvVar {
                key: m.name.clone(),
                secret: true,
                value: None,
                updated_at: clock::rfc3339(m.updated_at),
                updated_by: m.updated_by_name.clone(),
            });
        }
        vars.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(EnvList {
            vars,
            changed_since_deploy: svc.env_changed_at.is_some(),
        })
    }

    /// Sets one variable (a secret when `req.secret`), replacing any variable of that name.
    pub async fn set_env(
        &self,
        actor: &Actor,
        service_id: &str,
        name: &str,
        req: SetEnvRequest,
    ) -> Result<(), DomainError> {
        check_name(name)?;
        check_value(name, &req.value)?;
        let change = Change::Set {
            name,
            value: &req.value,
            secret: req.secret,
        };
        self.change_env(actor, service_id, vec![change], AuditAction::EnvSet)
            .await
    }

    /// Removes one variable or secret.
    pub async fn unset_env(
        &self,
        actor: &Actor,
        service_id: &str,
        name: &str,
    ) -> Result<(), DomainError> {
        check_name(name)?;
        self.change_env(
            actor,
            service_id,
            vec![Change::Unset { name }],
            AuditAction::EnvUnset,
        )
        .await
    }

    /// Sets every variable of a `.env` text at once (all or nothing).
    pub async fn import_env(
        &self,
        actor: &Actor,
        service_id: &str,
        req: ImportEnvRequest,
    ) -> Result<EnvList, DomainError> {
        let pairs = dotenv::parse(&req.dotenv)
            .map_err(|e| DomainError::invalid("dotenv", e.to_string()))?;
        if pairs.is_empty() {
            return Err(DomainError::invalid("dotenv", "no KEY=value lines found"));
        }
        for (name, value) in &pairs {
            check_name(name)?;
            check_value(name, value)?;
        }
        let changes = pairs
            .iter()
            .map(|(name, value)| Change::Set {
                name,
                value,
                secret: req.secret,
            })
            .collect();
        self.change_env(actor, service_id, changes, AuditAction::EnvImport)
            .await?;
        self.list_env(actor, service_id).await
    }

    async fn change_env(
        &self,
        actor: &Actor,
        service_id: &str,
        changes: Vec<Change<'_>>,
        action: AuditAction,
    ) -> Result<(), DomainError> {
        let (svc, may) = self.env_service(actor, service_id).await?;
        for change in &changes {
            let (Change::Set { name, .. } | Change::Unset { name }) = *change;
            if is_loader_env(name) && may.also::<ManageLoaderEnv>().is_err() {
                return Err(DomainError::ForbiddenBecause(format!(
                    "{name} changes what code the service runs: only an Admin may set or remove it"
                )));
            }
        }
        let now = clock::now_ms();
        let mut tx = self.store.begin().await?;
        let mut row = services_sql::by_id(&mut *tx, &svc.id)
            .await?
            .ok_or(DomainError::NotFound("service"))?;
        let mut spec = crate::services::spec_of(&row.spec)?;
        let mut secrets: Vec<String> = sql::of_service(&mut *tx, &row.id)
            .await?
            .into_iter()
            .filter(|r| r.secret == 1)
            .map(|r| r.name)
            .collect();
        let mut names: Vec<(&str, bool)> = Vec::new();
        for change in &changes {
            match *change {
                Change::Set {
                    name,
                    value,
                    secret,
                } => {
                    let (sealed, key_id) = if secret {
                        spec.env.remove(name);
                        secrets.retain(|s| s != name);
                        secrets.push(name.to_string());
                        let Sealed { key_id, data } =
                            self.keyring.seal(&context(&row.id, name), value);
                        (Some(data), Some(key_id))
                    } else {
                        secrets.retain(|s| s != name);
                        spec.env.insert(name.to_string(), value.to_string());
                        (None, None)
                    };
                    let meta = EnvRow {
                        service_id: row.id.clone(),
                        name: name.to_string(),
                        secret: i64::from(secret),
                        sealed,
                        key_id,
                        updated_at: now,
                        updated_by: Some(actor.user.id.clone()),
                        updated_by_name: None,
                    };
                    sql::upsert(&mut *tx, &meta).await?;
                    names.push((name, secret));
                }
                Change::Unset { name } => {
                    let was_plain = spec.env.remove(name).is_some();
                    let had_row = sql::delete(&mut *tx, &row.id, name).await?;
                    if !was_plain && !had_row {
                        return Err(DomainError::NotFound("variable"));
                    }
                    secrets.retain(|s| s != name);
                    names.push((name, false));
                }
            }
        }
        if spec.env.len() + secrets.len() > MAX_VARS {
            return Err(DomainError::invalid(
                "env",
                format!("a service has at most {MAX_VARS} variables and secrets"),
            ));
        }
        row.spec = serde_json::to_string(&spec).map_err(|e| DomainError::Internal(Box::new(e)))?;
        row.updated_at = now;
        services_sql::update(&mut *tx, &row).await?;
        sql::set_changed(&mut *tx, &row.id, Some(now)).await?;
        let details = match names.as_slice() {
            [(name, secret)] if action != AuditAction::EnvImport => {
                json!({ "key": name, "secret": secret })
            }
            _ => json!({
                "keys": names.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
                "secret": names.iter().any(|(_, s)| *s),
            }),
        };
        record(
            &mut *tx,
            NewEvent::by(actor, may.cluster_id(), action, &row.id, details),
        )
        .await?;
        tx.commit().await?;
        self.activity.changed(may.cluster_id());
        Ok(())
    }

    /// Keeps `service_env` in step when the settings replace the plain variables wholesale
    /// (create, or `PATCH` with `env`): new or changed names are recorded as set by `user_id`
    /// now, removed ones forgotten, and a variable that was a secret becomes plain. Returns
    /// whether anything changed.
    pub(crate) async fn env_replaced(
        tx: &mut Tx<'_>,
        service_id: &str,
        old: &BTreeMap<String, String>,
        new: &BTreeMap<String, String>,
        user_id: &str,
    ) -> Result<bool, DomainError> {
        let now = clock::now_ms();
        let mut changed = false;
        for (name, value) in new {
            if old.get(name) == Some(value) {
                continue;
            }
            let meta = EnvRow {
                service_id: service_id.to_string(),
                name: name.clone(),
                secret: 0,
                sealed: None,
                key_id: None,
                updated_at: now,
                updated_by: Some(user_id.to_string()),
                updated_by_name: None,
            };
            sql::upsert(&mut **tx, &meta).await?;
            changed = true;
        }
        for name in old.keys().filter(|k| !new.contains_key(*k)) {
            sql::delete(&mut **tx, service_id, name).await?;
            changed = true;
        }
        if changed {
            sql::set_changed(&mut **tx, service_id, Some(now)).await?;
        }
        Ok(changed)
    }

    /// Notes, in the transaction that makes a deployment, that it takes the current variables.
    pub(crate) async fn env_applied(tx: &mut Tx<'_>, service_id: &str) -> Result<(), DomainError> {
        sql::set_changed(&mut **tx, service_id, None).await?;
        Ok(())
    }

    /// Opens the service's secrets for a deploy order to its own instance. The only place a
    /// secret is decrypted.
    pub(crate) async fn secrets_for_order(&self, service_id: &str) -> Result<Secrets, DomainError> {
        let rows = sql::of_service(self.store.pool(), service_id).await?;
        let mut out = BTreeMap::new();
        for r in rows.into_iter().filter(|r| r.secret == 1) {
            let sealed = Sealed {
                key_id: r.key_id.unwrap_or_default(),
                data: r.sealed.unwrap_or_default(),
            };
            let value = self
                .keyring
                .open(&context(service_id, &r.name), &sealed)
                .map_err(|e| {
                    DomainError::Conflict(format!("the secret {} cannot be opened: {e}", r.name))
                })?;
            out.insert(r.name, value);
        }
        Ok(Secrets(out))
    }

    /// Seals every secret (and every webhook secret) again under the current master key (after
    /// `rotate-key` made a new one). Returns how many were resealed; all or none (one
    /// transaction).
    pub async fn reseal_secrets(&self) -> Result<usize, DomainError> {
        let mut tx = self.store.begin().await?;
        let rows = sql::all_secrets(&mut *tx).await?;
        let mut n = 0;
        for r in rows {
            let ctx = context(&r.service_id, &r.name);
            let sealed = Sealed {
                key_id: r.key_id.clone().unwrap_or_default(),
                data: r.sealed.clone().unwrap_or_default(),
            };
            let value = self.keyring.open(&ctx, &sealed).map_err(|e| {
                DomainError::Conflict(format!(
                    "the secret {} of service {} cannot be opened: {e}",
                    r.name, r.service_id
                ))
            })?;
            let fresh = self.keyring.seal(&ctx, &value);
            sql::reseal(&mut *tx, &r.service_id, &r.name, &fresh.data, &fresh.key_id).await?;
            n += 1;
        }
        n += self.reseal_webhooks(&mut tx).await?;
        n += self.reseal_uploaded_keys(&mut tx).await?;
        n += self.reseal_channels(&mut tx).await?;
        n += self.reseal_totp(&mut tx).await?;
        tx.commit().await?;
        Ok(n)
    }
}

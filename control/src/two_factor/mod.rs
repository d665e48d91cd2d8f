//! Two-factor sign-in with TOTP (issue 21): enrolment with a QR code and a confirming code, ten
//! single-use backup codes shown once, turning it off, and an Owner's requirement that every
//! member of a cluster has it. The secret is sealed under the master key like service secrets
//! and never shown again after enrolment.
//!
//! - [`totp`]: RFC 6238 codes, the `otpauth://` URI and its QR code in SVG.
//! - [`codes`]: backup codes and the one check of a typed code (rate-limited like passwords).
//! - [`sign_in`]: the second step of a sign-in, and step-up for sensitive actions.

pub mod codes;
pub mod sign_in;
pub mod totp;

use std::time::Instant;

use proto::api::{AuditAction, BackupCodes, TwoFactorSetup, TwoFactorStatus};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::rbac::{RequireTwoFactor, ViewCluster, authorize};
use crate::store::two_factor as sql;
use crate::store::{Tx, is_unique_violation};
use crate::{Actor, Base, DomainError};

/// The name authenticator apps show above the codes.
pub const ISSUER: &str = "dployr";
const ALREADY_ON: &str = "two-factor sign-in is already on";
const NOT_STARTED: &str = "start the setup again: no setup is waiting for a code";

impl Base {
    /// Whether the actor's account has two-factor on, and how many backup codes remain.
    pub async fn two_factor_status(&self, actor: &Actor) -> Result<TwoFactorStatus, DomainError> {
        actor.require_session()?;
        let pool = self.store.pool();
        let enabled = sql::enabled(pool, &actor.user.id).await?;
        let left = sql::codes_left(pool, &actor.user.id).await?;
        Ok(TwoFactorStatus {
            enabled,
            backup_codes_left: if enabled { left as u32 } else { 0 },
        })
    }

    /// Starts an enrolment: a new secret (replacing an unconfirmed one), shown this once as
    /// text, `otpauth://` URI and QR code. Two-factor is on only after
    /// [`Base::confirm_two_factor`].
    pub async fn start_two_factor(&self, actor: &Actor) -> Result<TwoFactorSetup, DomainError> {
        actor.require_session()?;
        let user = &actor.user;
        let secret = totp::to_base32(&totp::new_secret());
        let sealed = self.keyring.seal(&Self::totp_context(&user.id), &secret);
        let mut tx = self.store.begin().await?;
        sql::drop_pending(&mut *tx, &user.id).await?;
        sql::start(
            &mut *tx,
            &user.id,
            &sealed.data,
            &sealed.key_id,
            self.clock.now_ms(),
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DomainError::Conflict(ALREADY_ON.into())
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        let otpauth_uri = totp::otpauth_uri(ISSUER, &user.email, &secret);
        let qr_svg = totp::qr_svg(&otpauth_uri)
            .ok_or_else(|| DomainError::Internal("an otpauth URI too long for a QR code".into()))?;
        Ok(TwoFactorSetup {
            secret,
            otpauth_uri,
            qr_svg,
        })
    }

    /// Confirms an enrolment with a code from the app: two-factor is on, the session counts as
    /// stepped up, and ten backup codes come back (shown once, stored hashed).
    pub async fn confirm_two_factor(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<BackupCodes, DomainError> {
        actor.require_session()?;
        let user = &actor.user;
        let slot = self
            .limiter
            .reserve(&user.email, actor.client.ip.as_deref(), Instant::now())
            .map_err(|retry_after| DomainError::RateLimited { retry_after })?;
        let row = sql::totp_of(self.store.pool(), &user.id)
            .await?
            .ok_or_else(|| DomainError::Conflict(NOT_STARTED.into()))?;
        if row.enabled_at.is_some() {
            return Err(DomainError::Conflict(ALREADY_ON.into()));
        }
        let now = self.clock.now_ms();
        let Some(step) = totp::matching_step(&self.open_totp(&row)?, code, now) else {
            slot.failed(Instant::now());
            return Err(DomainError::invalid("code", codes::WRONG_CODE));
        };
        let backup: Vec<String> = (0..codes::BACKUP_CODES)
            .map(|_| codes::new_backup_code())
            .collect();
        let mut tx = self.store.begin().await?;
        if !sql::enable(&mut *tx, &user.id, step, now).await? {
            return Err(DomainError::Conflict(ALREADY_ON.into()));
        }
        self.replace_backup_codes(&mut tx, &user.id, &backup, now)
            .await?;
        sql::set_step_up(&mut *tx, &actor.session_hash, now).await?;
        let e = NewEvent::account(
            &user.id,
            &actor.client,
            AuditAction::UserTwoFactorEnabled,
            json!({}),
        );
        record(&mut *tx, e).await?;
        tx.commit().await?;
        Ok(BackupCodes {
            backup_codes: backup,
        })
    }

    async fn replace_backup_codes(
        &self,
        tx: &mut Tx<'_>,
        user_id: &str,
        backup: &[String],
        now: i64,
    ) -> Result<(), DomainError> {
        sql::delete_codes(&mut **tx, user_id).await?;
        for code in backup {
            let hash = codes::backup_hash(code).expect("a new backup code reads back");
            sql::insert_code(&mut **tx, user_id, &hash, now).await?;
        }
        Ok(())
    }

    /// Ten new backup codes replacing the old ones (all of them, used or not), shown this once;
    /// needs a step-up in the last 5 minutes.
    pub async fn regenerate_backup_codes(&self, actor: &Actor) -> Result<BackupCodes, DomainError> {
        actor.require_session()?;
        let user_id = &actor.user.id;
        if !sql::enabled(self.store.pool(), user_id).await? {
            return Err(DomainError::Conflict(codes::NOT_ON.into()));
        }
        self.require_step_up(actor).await?;
        let backup: Vec<String> = (0..codes::BACKUP_CODES)
            .map(|_| codes::new_backup_code())
            .collect();
        let mut tx = self.store.begin().await?;
        self.replace_backup_codes(&mut tx, user_id, &backup, self.clock.now_ms())
            .await?;
        let e = NewEvent::account(
            user_id,
            &actor.client,
            AuditAction::UserTwoFactorCodesRenewed,
            json!({}),
        );
        record(&mut *tx, e).await?;
        tx.commit().await?;
        Ok(BackupCodes {
            backup_codes: backup,
        })
    }

    /// Turns two-factor off (needs a step-up). Refused while a cluster the person belongs to
    /// requires it.
    pub async fn disable_two_factor(&self, actor: &Actor) -> Result<(), DomainError> {
        actor.require_session()?;
        self.require_step_up(actor).await?;
        let user_id = &actor.user.id;
        if sql::requiring_clusters(self.store.pool(), user_id).await? > 0 {
            return Err(DomainError::Conflict(
                "a cluster you belong to requires two-factor sign-in: leave it, or ask its Owner \
                 to lift the requirement, before turning it off"
                    .into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        if !sql::delete_totp(&mut *tx, user_id).await? {
            return Err(DomainError::Conflict(codes::NOT_ON.into()));
        }
        sql::delete_codes(&mut *tx, user_id).await?;
        let e = NewEvent::account(
            user_id,
            &actor.client,
            AuditAction::UserTwoFactorDisabled,
            json!({}),
        );
        record(&mut *tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the cluster requires two-factor sign-in of its members.
    pub async fn cluster_requires_two_factor(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<bool, DomainError> {
        let may = authorize::<ViewCluster>(&self.store, actor, cluster_id).await?;
        Ok(sql::required(self.store.pool(), may.cluster_id()).await?)
    }

    /// An Owner requires (or stops requiring) two-factor sign-in of the cluster's members;
    /// members without it are then refused every action in the cluster. The Owner must have it
    /// on first, so nobody locks themselves out.
    pub async fn set_cluster_two_factor(
        &self,
        actor: &Actor,
        cluster_id: &str,
        required: bool,
    ) -> Result<(), DomainError> {
        let may = authorize::<RequireTwoFactor>(&self.store, actor, cluster_id).await?;
        if required && !sql::enabled(self.store.pool(), &actor.user.id).await? {
            return Err(DomainError::Conflict(
                "turn on two-factor sign-in for your own account first".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        sql::set_required(&mut *tx, may.cluster_id(), required).await?;
        let state = if required { "on" } else { "off" };
        let e = may.event(
            actor,
            AuditAction::ClusterRequire2fa,
            may.cluster_id(),
            json!({ "state": state }),
        );
        record(&mut *tx, e).await?;
        tx.commit().await?;
        // Open live views of members without two-factor end at their next re-authorization.
        self.access_changed();
        Ok(())
    }

    /// Seals every TOTP secret again under the current master key, in the rotation's
    /// transaction (see [`Base::reseal_secrets`]).
    pub(crate) async fn reseal_totp(&self, tx: &mut Tx<'_>) -> Result<usize, DomainError> {
        let rows = sql::all_totp(&mut **tx).await?;
        for r in &rows {
            let ctx = Self::totp_context(&r.user_id);
            let sealed = crate::secrets::Sealed {
                key_id: r.key_id.clone(),
                data: r.sealed.clone(),
            };
            let secret = self.keyring.open(&ctx, &sealed).map_err(|e| {
                DomainError::Conflict(format!(
                    "the two-factor secret of {} cannot be opened: {e}",
                    r.user_id
                ))
            })?;
            let fresh = self.keyring.seal(&ctx, &secret);
            sql::reseal(&mut **tx, &r.user_id, &fresh.data, &fresh.key_id).await?;
        }
        Ok(rows.len())
    }
}

//! Backup codes (ten, single use, 80 random bits each, kept as SHA-256 like tokens) and the one
//! check of a code a person typed, TOTP or backup, counted by the login limiter so guessing
//! codes is as slow as guessing passwords.

use std::time::Instant;

use data_encoding::BASE32_NOPAD;
use rand::RngCore;

use super::totp;
use crate::auth::token::hash_token;
use crate::store::Tx;
use crate::store::two_factor as sql;
use crate::store::users::UserRow;
use crate::{Base, ClientInfo, DomainError};

/// How many backup codes an enrolment gives.
pub const BACKUP_CODES: usize = 10;
/// The one message for a code that is wrong (or a backup code used already).
pub const WRONG_CODE: &str =
    "that code is not right: check the time on your device, or use a backup code";
const REPLAYED: &str = "this code was used already: wait for the next one";
pub(crate) const NOT_ON: &str = "two-factor sign-in is not on for this account";

/// Which kind of code passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    Totp,
    /// A backup code, now spent; `left` remain.
    Backup {
        left: i64,
    },
}

impl Used {
    pub fn as_str(self) -> &'static str {
        match self {
            Used::Totp => "totp",
            Used::Backup { .. } => "backup_code",
        }
    }
}

/// A new backup code as shown once: `abcd-efgh-ijkl-mnop`.
pub fn new_backup_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let raw = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
    raw.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("base32 is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a backup code as typed (dashes, spaces and case ignored); `None` when it
/// cannot be one.
pub fn backup_hash(typed: &str) -> Option<String> {
    let clean: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    (clean.len() == 16).then(|| hash_token(&clean))
}

impl Base {
    /// The seal context of a person's TOTP secret: it opens for this account only.
    pub(crate) fn totp_context(user_id: &str) -> String {
        format!("totp/{user_id}")
    }

    /// The raw TOTP secret of `row`.
    pub(crate) fn open_totp(&self, row: &sql::TotpRow) -> Result<Vec<u8>, DomainError> {
        let sealed = crate::secrets::Sealed {
            key_id: row.key_id.clone(),
            data: row.sealed.clone(),
        };
        let b32 = self
            .keyring
            .open(&Self::totp_context(&row.user_id), &sealed)
            .map_err(|e| DomainError::Internal(Box::new(e)))?;
        totp::from_base32(&b32)
            .ok_or_else(|| DomainError::Internal("a stored TOTP secret is not base32".into()))
    }

    /// Checks `code` (a TOTP code or a backup code) for `user` inside `tx` and spends it: the
    /// TOTP step cannot be used again, the backup code is gone. Failures count in the login
    /// limiter for the account and the IP.
    pub(crate) async fn check_code(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRow,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Used, DomainError> {
        let slot = self
            .limiter
            .reserve(&user.email, client.ip.as_deref(), Instant::now())
            .map_err(|retry_after| DomainError::RateLimited { retry_after })?;
        let now = self.clock.now_ms();
        let row = sql::totp_of(&mut **tx, &user.id)
            .await?
            .filter(|r| r.enabled_at.is_some())
            .ok_or_else(|| DomainError::Conflict(NOT_ON.into()))?;
        let secret = self.open_totp(&row)?;
        if let Some(step) = totp::matching_step(&secret, code, now) {
            if sql::take_step(&mut **tx, &user.id, step).await? {
                return Ok(Used::Totp);
            }
            slot.failed(Instant::now());
            return Err(DomainError::invalid("code", REPLAYED));
        }
        if let Some(hash) = backup_hash(code)
            && sql::use_code(&mut **tx, &user.id, &hash, now).await?
        {
            let left = sql::codes_left(&mut **tx, &user.id).await?;
            return Ok(Used::Backup { left });
        }
        slot.failed(Instant::now());
        tracing::info!(user.id = %user.id, "wrong two-factor code");
        Err(DomainError::invalid("code", WRONG_CODE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_codes_are_long_and_read_back_however_typed() {
        let code = new_backup_code();
        assert_eq!(code.len(), 19, "{code}");
        let hash = backup_hash(&code).unwrap();
        assert_eq!(
            backup_hash(&code.to_uppercase().replace('-', " ")),
            Some(hash)
        );
        assert_eq!(backup_hash("123456"), None);
        assert_ne!(new_backup_code(), code);
    }
}

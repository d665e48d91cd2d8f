//! Password hashing with argon2id. Parameters follow OWASP's 2024 guidance (19 MiB, 2 passes,
//! 1 lane); BENCHMARKS.md records what one hash costs here. Hashing runs on the blocking pool and
//! a semaphore caps how many run at once, so a burst of logins cannot exhaust memory
//! (19 MiB each) or starve the async workers.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::DomainError;

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

#[derive(Debug, Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the account does not exist so
    /// "unknown email" costs the same time as "wrong password".
    decoy: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    let params =
        Params::new(MEMORY_KIB, PASSES, LANES, None).expect("constant argon2 params are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(e.to_string().into()))
}

fn verify_now(hash: &str, password: &str) -> bool {
    // Verification takes its parameters from the stored hash, so old hashes keep working if
    // the constants above are raised.
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Hasher {
        let decoy =
            hash_now(&crate::auth::token::random_token()).expect("hashing a random password");
        Hasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            decoy: Arc::new(decoy),
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, DomainError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|e| DomainError::Internal(Box::new(e)))?
    }

    /// Checks `password` against `hash`, or against the decoy when there is no account.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> bool {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let known = hash.is_some();
        let hash = hash
            .map(str::to_owned)
            .unwrap_or_else(|| self.decoy.as_str().to_owned());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_now(&hash, &password))
            .await
            .unwrap_or(false);
        ok && known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id_with_our_params() {
        let h = Hasher::new(2);
        let hash = h.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(h.verify(Some(&hash), "correct horse battery").await);
        assert!(!h.verify(Some(&hash), "correct horse batterY").await);
        assert!(!h.verify(Some("not a hash"), "x").await);
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let h = Hasher::new(1);
        assert!(!h.verify(None, "anything at all").await);
    }

    #[tokio::test]
    async fn same_password_gets_different_salts() {
        let h = Hasher::new(2);
        assert_ne!(
            h.hash("correct horse battery").await.unwrap(),
            h.hash("correct horse battery").await.unwrap()
        );
    }
}

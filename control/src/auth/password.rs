//! Password hashing with argon2id. Parameters follow OWASP's 2024 guidance (19 MiB, 2 passes,
//! 1 lane); BENCHMARKS.md records what one hash costs here. Hashing runs on a few dedicated
//! threads fed by a bounded queue, never on the async workers: a burst of logins then waits its
//! turn instead of starving requests, and memory stays at (threads x 19 MiB). On tokio's blocking
//! pool every new thread kept its own 19 MiB glibc arena, and RSS grew to 240 MiB.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{mpsc, oneshot};

use crate::DomainError;

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

#[derive(Debug, Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password, verified against when the account does not exist so
    /// "unknown email" costs the same time as "wrong password".
    decoy: Arc<String>,
}

type Job = Box<dyn FnOnce() + Send>;

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
    /// Starts `threads` hashing threads; they end when the last clone of the `Hasher` is dropped.
    pub fn new(threads: usize) -> Hasher {
        let (jobs, queue) = mpsc::channel::<Job>(1024);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().expect("hash queue lock").blocking_recv();
                        match job {
                            Some(job) => job(),
                            None => return,
                        }
                    }
                })
                .expect("spawning a hashing thread");
        }
        let decoy =
            hash_now(&crate::auth::token::random_token()).expect("hashing a random password");
        Hasher {
            jobs,
            decoy: Arc::new(decoy),
        }
    }

    /// Runs `f` on a hashing thread and waits for its result without blocking the runtime.
    async fn on_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        // Waits (asynchronously) only when 1024 hashes are already queued.
        self.jobs
            .send(job)
            .await
            .map_err(|_| DomainError::Internal("hashing threads are gone".into()))?;
        rx.await
            .map_err(|_| DomainError::Internal("hashing thread dropped a job".into()))
    }

    pub async fn hash(&self, password: &str) -> Result<String, DomainError> {
        let password = password.to_owned();
        self.on_pool(move || hash_now(&password)).await?
    }

    /// Checks `password` against `hash`, or against the decoy when there is no account.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> bool {
        let known = hash.is_some();
        let hash = hash
            .map(str::to_owned)
            .unwrap_or_else(|| self.decoy.as_str().to_owned());
        let password = password.to_owned();
        let ok = self
            .on_pool(move || verify_now(&hash, &password))
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

//! The ACME account: created once per CA directory and kept in `<state dir>/account.json`
//! (0600, in a 0700 folder) so restarts reuse it; created again when the directory URL
//! changes or the CA no longer knows it.

use std::io;
use std::path::{Path, PathBuf};

use instant_acme::{Account, AccountCredentials, ExternalAccountKey, NewAccount};
use serde::{Deserialize, Serialize};

use super::options::AcmeOptions;

const FILE: &str = "account.json";

/// What `account.json` holds: the directory the account belongs to and its key.
#[derive(Serialize, Deserialize)]
struct Stored {
    directory: String,
    credentials: AccountCredentials,
}

/// The account's file.
pub fn path(options: &AcmeOptions) -> PathBuf {
    options.state_dir.join(FILE)
}

/// The stored account if it belongs to `options.directory`, else a new one (stored).
pub async fn load_or_create(options: &AcmeOptions) -> Result<Account, instant_acme::Error> {
    let file = path(options);
    match std::fs::read(&file) {
        Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
            Ok(stored) if stored.directory == options.directory => {
                return builder(options)?.from_credentials(stored.credentials).await;
            }
            Ok(stored) => tracing::info!(
                old = %stored.directory, new = %options.directory,
                "ACME directory changed: creating a new account"
            ),
            Err(e) => tracing::warn!(file = %file.display(), error = %e,
                "ACME account file unreadable: creating a new account"),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(instant_acme::Error::Other(Box::new(e))),
    }
    create(options).await
}

/// Registers a new account and stores it, replacing any other.
pub async fn create(options: &AcmeOptions) -> Result<Account, instant_acme::Error> {
    let contact = options.email.as_ref().map(|e| format!("mailto:{e}"));
    let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
    let binding = options
        .eab
        .as_ref()
        .map(|eab| ExternalAccountKey::new(eab.kid.clone(), &eab.hmac_key));
    let (account, credentials) = builder(options)?
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            options.directory.clone(),
            binding.as_ref(),
        )
        .await?;
    let stored = Stored {
        directory: options.directory.clone(),
        credentials,
    };
    let json = serde_json::to_vec_pretty(&stored)?;
    store(&options.state_dir, &json).map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
    tracing::info!(id = %account.id(), directory = %options.directory, "ACME account created");
    Ok(account)
}

fn builder(options: &AcmeOptions) -> Result<instant_acme::AccountBuilder, instant_acme::Error> {
    match &options.ca_root {
        Some(root) => Account::builder_with_root(root),
        None => Account::builder(),
    }
}

/// Writes `account.json` 0600 (through a temporary file) in a 0700 `dir`.
fn store(dir: &Path, json: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let temp = dir.join("account.json.tmp");
    // A leftover with other permissions would keep them: start from nothing.
    let _ = std::fs::remove_file(&temp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    f.write_all(json)?;
    f.sync_all()?;
    std::fs::rename(&temp, dir.join(FILE))
}

//! `dployrd run`'s ACME flags. ACME is on when `--acme-directory` or `--acme-email` is given.

use std::path::{Path, PathBuf};

use super::options::{AcmeOptions, ChallengeKind, LETS_ENCRYPT};

/// Certificates for services' domains by ACME.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// The ACME CA's directory URL; turns ACME on. Let's Encrypt:
    /// https://acme-v02.api.letsencrypt.org/directory (staging:
    /// https://acme-staging-v02.api.letsencrypt.org/directory), or a private CA's.
    #[arg(long, env = "DPLOYRD_ACME_DIRECTORY")]
    pub acme_directory: Option<String>,
    /// Contact email for the ACME account; turns ACME on (with Let's Encrypt unless
    /// --acme-directory says otherwise).
    #[arg(long, env = "DPLOYRD_ACME_EMAIL")]
    pub acme_email: Option<String>,
    /// A PEM root certificate to trust for the ACME directory's HTTPS (private CAs, pebble).
    #[arg(long, env = "DPLOYRD_ACME_CA_ROOT")]
    pub acme_ca_root: Option<PathBuf>,
    /// How the CA checks the domain: http-01 (port 80) or tls-alpn-01 (port 443).
    #[arg(long, env = "DPLOYRD_ACME_CHALLENGE", default_value = "http-01")]
    pub acme_challenge: ChallengeKind,
}

impl Args {
    /// The options these flags give (the account kept in `<data_dir>/acme`), `None` when
    /// ACME is off; an error for a malformed directory URL or email.
    pub fn options(&self, data_dir: &Path) -> anyhow::Result<Option<AcmeOptions>> {
        if self.acme_directory.is_none() && self.acme_email.is_none() {
            return Ok(None);
        }
        let directory = self.acme_directory.as_deref().unwrap_or(LETS_ENCRYPT);
        let parsed = url::Url::parse(directory)
            .map_err(|e| anyhow::anyhow!("--acme-directory {directory:?} is not a URL: {e}"))?;
        if parsed.scheme() != "https" {
            anyhow::bail!("--acme-directory must be an https:// URL, not {directory:?}");
        }
        if let Some(email) = &self.acme_email {
            let valid = email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
                && !email.contains([' ', ',', '\n']);
            if !valid {
                anyhow::bail!("--acme-email {email:?} is not an email address");
            }
        }
        if let Some(root) = &self.acme_ca_root
            && !root.is_file()
        {
            anyhow::bail!("--acme-ca-root {} is not a readable file", root.display());
        }
        let mut options = AcmeOptions::new(data_dir.join("acme"));
        options.directory = directory.to_string();
        options.email = self.acme_email.clone();
        options.ca_root = self.acme_ca_root.clone();
        options.challenge = self.acme_challenge;
        Ok(Some(options))
    }
}

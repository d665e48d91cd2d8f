//! `dployrd run`'s ACME flags. ACME is on when `--acme-directory` or `--acme-email` is given.

use std::path::{Path, PathBuf};

use base64::Engine;

use super::options::{AcmeOptions, ChallengeKind, ExternalAccount, LETS_ENCRYPT};

/// A flag's value that cannot be used, said with the flag's name.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadFlag(String);

macro_rules! bad {
    ($($arg:tt)*) => { return Err(BadFlag(format!($($arg)*))) };
}

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
    /// External Account Binding key ID, for CAs that require one (ZeroSSL: from its
    /// dashboard's "Developer" page); with --acme-eab-hmac-key.
    #[arg(long, env = "DPLOYRD_ACME_EAB_KID")]
    pub acme_eab_kid: Option<String>,
    /// External Account Binding HMAC key, base64url as the CA gives it; with --acme-eab-kid.
    /// Prefer the environment variable: a flag shows in `ps`.
    #[arg(long, env = "DPLOYRD_ACME_EAB_HMAC_KEY", hide_env_values = true)]
    pub acme_eab_hmac_key: Option<String>,
}

impl Args {
    /// The options these flags give (the account kept in `<data_dir>/acme`), `None` when
    /// ACME is off; an error for a malformed directory URL or email.
    pub fn options(&self, data_dir: &Path) -> Result<Option<AcmeOptions>, BadFlag> {
        if self.acme_directory.is_none() && self.acme_email.is_none() {
            return Ok(None);
        }
        let directory = self.acme_directory.as_deref().unwrap_or(LETS_ENCRYPT);
        match url::Url::parse(directory) {
            Err(e) => bad!("--acme-directory {directory:?} is not a URL: {e}"),
            Ok(url) if url.scheme() != "https" => {
                bad!("--acme-directory must be an https:// URL, not {directory:?}")
            }
            Ok(_) => {}
        }
        if let Some(email) = &self.acme_email {
            let valid = email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
                && !email.contains([' ', ',', '\n']);
            if !valid {
                bad!("--acme-email {email:?} is not an email address");
            }
        }
        if let Some(root) = &self.acme_ca_root
            && !root.is_file()
        {
            bad!("--acme-ca-root {} is not a readable file", root.display());
        }
        let mut options = AcmeOptions::new(data_dir.join("acme"));
        options.directory = directory.to_string();
        options.email = self.acme_email.clone();
        options.ca_root = self.acme_ca_root.clone();
        options.challenge = self.acme_challenge;
        options.eab = self.eab()?;
        Ok(Some(options))
    }

    fn eab(&self) -> Result<Option<ExternalAccount>, BadFlag> {
        let (kid, key) = match (&self.acme_eab_kid, &self.acme_eab_hmac_key) {
            (None, None) => return Ok(None),
            (Some(kid), Some(key)) => (kid.trim(), key.trim()),
            _ => bad!("--acme-eab-kid and --acme-eab-hmac-key go together"),
        };
        if kid.is_empty() {
            bad!("--acme-eab-kid is empty");
        }
        let engine = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let hmac_key = match engine.decode(key.trim_end_matches('=')) {
            Ok(bytes) if !bytes.is_empty() => bytes,
            // The key itself is never repeated in the message.
            _ => bad!("--acme-eab-hmac-key is not a base64url key (as the CA gives it)"),
        };
        Ok(Some(ExternalAccount {
            kid: kid.to_owned(),
            hmac_key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        acme: Args,
    }

    fn options(args: &[&str]) -> anyhow::Result<Option<AcmeOptions>> {
        let cli = Cli::try_parse_from(std::iter::once("dployrd").chain(args.iter().copied()))?;
        Ok(cli.acme.options(Path::new("/data"))?)
    }

    #[test]
    fn acme_is_off_without_a_directory_or_an_email() {
        assert!(options(&[]).unwrap().is_none());
        assert!(
            options(&["--acme-challenge", "tls-alpn-01"])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn an_email_alone_means_lets_encrypt_over_http01() {
        let o = options(&["--acme-email", "ops@example.com"])
            .unwrap()
            .unwrap();
        assert_eq!(o.directory, LETS_ENCRYPT);
        assert_eq!(o.email.as_deref(), Some("ops@example.com"));
        assert_eq!(o.challenge, ChallengeKind::Http01);
        assert_eq!(o.state_dir, Path::new("/data/acme"));
    }

    #[test]
    fn a_directory_and_a_challenge_are_taken() {
        let staging = super::super::options::LETS_ENCRYPT_STAGING;
        let o = options(&[
            "--acme-directory",
            staging,
            "--acme-challenge",
            "tls-alpn-01",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.directory, staging);
        assert_eq!(o.challenge, ChallengeKind::TlsAlpn01);
        assert!(o.email.is_none());
    }

    #[test]
    fn an_external_account_binding_takes_both_flags_and_a_base64url_key() {
        let zerossl = super::super::options::ZEROSSL;
        let with = |extra: &[&str]| {
            let mut args = vec!["--acme-directory", zerossl];
            args.extend_from_slice(extra);
            options(&args)
        };
        let o = with(&[
            "--acme-eab-kid",
            "kid-1",
            "--acme-eab-hmac-key",
            "aGVsbG8_-w",
        ])
        .unwrap()
        .unwrap();
        let eab = o.eab.unwrap();
        assert!(
            !format!("{eab:?}").contains("aGVsbG8"),
            "the key stays out of Debug"
        );
        assert_eq!(
            (eab.kid.as_str(), eab.hmac_key),
            ("kid-1", b"hello?\xfb".to_vec())
        );
        assert!(with(&[]).unwrap().unwrap().eab.is_none());
        let err = |extra: &[&str]| with(extra).unwrap_err().to_string();
        assert!(err(&["--acme-eab-kid", "kid-1"]).contains("go together"));
        assert!(err(&["--acme-eab-hmac-key", "aGVsbG8"]).contains("go together"));
        let bad = err(&["--acme-eab-kid", "k", "--acme-eab-hmac-key", "not base64!"]);
        assert!(
            bad.contains("base64url") && !bad.contains("not base64!"),
            "{bad}"
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_flag_named() {
        let err = |args: &[&str]| options(args).unwrap_err().to_string();
        assert!(err(&["--acme-directory", "http://ca.test/dir"]).contains("https://"));
        assert!(err(&["--acme-directory", "not a url"]).contains("--acme-directory"));
        assert!(err(&["--acme-email", "nobody"]).contains("--acme-email"));
        assert!(
            err(&[
                "--acme-email",
                "a@b.c",
                "--acme-ca-root",
                "/nonexistent.pem"
            ])
            .contains("--acme-ca-root")
        );
        assert!(err(&["--acme-email", "a@b.c", "--acme-challenge", "dns-01"]).contains("dns-01"));
    }
}

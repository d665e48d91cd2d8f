//! Base's TLS flags (`--tls off|acme|files` and what each mode needs) and the checks that turn
//! a contradictory combination into a clear error before anything is served.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use agent::acme::{AcmeOptions, ChallengeKind};

/// Whether Base itself terminates TLS on its listener.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain HTTP (local development, or a proxy in front terminates TLS).
    #[default]
    Off,
    /// A certificate for the public URL's host from an ACME CA (Let's Encrypt by default).
    Acme,
    /// The certificate and key in `--tls-cert` and `--tls-key` (PEM), reloaded when they change.
    Files,
}

/// HTTPS for Base's own listener.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// Serve HTTPS on --listen: off (plain HTTP; put a proxy in front for TLS and list it with
    /// --trusted-proxy), acme (a certificate for the public URL's host by ACME) or files
    /// (--tls-cert and --tls-key).
    #[arg(long = "tls", env = "DPLOYR_TLS", value_enum, default_value_t = TlsMode::Off)]
    pub mode: TlsMode,
    /// With --tls files: the certificate chain, PEM, leaf first.
    #[arg(long, env = "DPLOYR_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// With --tls files: the certificate's private key, PEM.
    #[arg(long, env = "DPLOYR_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// With --tls acme: the CA's directory URL (default Let's Encrypt production).
    #[arg(long, env = "DPLOYR_ACME_DIRECTORY")]
    pub acme_directory: Option<String>,
    /// With --tls acme: the account's contact email.
    #[arg(long, env = "DPLOYR_ACME_EMAIL")]
    pub acme_email: Option<String>,
    /// With --tls acme: a PEM root to trust for the directory's HTTPS (private CAs, pebble).
    #[arg(long, env = "DPLOYR_ACME_CA_ROOT")]
    pub acme_ca_root: Option<PathBuf>,
    /// With --tls acme: http-01 (the CA fetches a token from --http-listen, port 80) or
    /// tls-alpn-01 (answered on --listen itself, which must then be reachable on port 443).
    #[arg(long, env = "DPLOYR_ACME_CHALLENGE", default_value = "http-01")]
    pub acme_challenge: ChallengeKind,
    /// With --tls acme: External Account Binding key ID, for CAs that require it (ZeroSSL).
    #[arg(long, env = "DPLOYR_ACME_EAB_KID")]
    pub acme_eab_kid: Option<String>,
    /// With --tls acme: External Account Binding HMAC key, base64url (prefer the environment
    /// variable: a flag shows in `ps`).
    #[arg(long, env = "DPLOYR_ACME_EAB_HMAC_KEY", hide_env_values = true)]
    pub acme_eab_hmac_key: Option<String>,
    /// With TLS on: a plain-HTTP listener that answers ACME HTTP-01 challenges and redirects
    /// everything else to the https public URL (default 0.0.0.0:80 with acme and http-01).
    #[arg(long, env = "DPLOYR_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
}

/// A TLS setting that cannot work, said with the flag to change.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error(
        "--tls {mode} makes Base serve HTTPS, so the public URL must be https://… \
         (it is {url}): set DPLOYR_PUBLIC_URL"
    )]
    PlainPublicUrl { mode: &'static str, url: String },
    #[error("--tls files needs both --tls-cert and --tls-key (DPLOYR_TLS_CERT, DPLOYR_TLS_KEY)")]
    MissingFiles,
    #[error("--tls acme needs a public URL with a DNS name, not {0:?} (ACME CAs certify names)")]
    NotADomain(String),
    #[error("{flag} is set but --tls is off: set DPLOYR_TLS=files or acme, or drop {flag}")]
    Unused { flag: &'static str },
    #[error("{0}")]
    Acme(String),
}

impl TlsMode {
    fn as_str(self) -> &'static str {
        match self {
            TlsMode::Off => "off",
            TlsMode::Acme => "acme",
            TlsMode::Files => "files",
        }
    }
}

/// 0.0.0.0:80, where ACME CAs send HTTP-01 validations.
const PORT_80: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 80);

impl TlsArgs {
    /// The plain-HTTP listener to bind beside the TLS one, if any.
    pub fn plain_listen(&self) -> Option<SocketAddr> {
        match self.mode {
            TlsMode::Off => None,
            TlsMode::Files => self.http_listen,
            TlsMode::Acme => self
                .http_listen
                .or((self.acme_challenge == ChallengeKind::Http01).then_some(PORT_80)),
        }
    }

    /// Refuses settings that contradict each other or the public URL.
    pub fn check(&self, public_url: &url::Url) -> Result<(), TlsConfigError> {
        if self.mode == TlsMode::Off {
            let unused = [
                ("--tls-cert", self.tls_cert.is_some()),
                ("--tls-key", self.tls_key.is_some()),
                ("--http-listen", self.http_listen.is_some()),
            ];
            return match unused.into_iter().find(|(_, set)| *set) {
                Some((flag, _)) => Err(TlsConfigError::Unused { flag }),
                None => Ok(()),
            };
        }
        if public_url.scheme() != "https" {
            return Err(TlsConfigError::PlainPublicUrl {
                mode: self.mode.as_str(),
                url: public_url.to_string(),
            });
        }
        match self.mode {
            TlsMode::Files if self.tls_cert.is_none() || self.tls_key.is_none() => {
                Err(TlsConfigError::MissingFiles)
            }
            TlsMode::Acme if !matches!(public_url.host(), Some(url::Host::Domain(_))) => Err(
                TlsConfigError::NotADomain(public_url.host_str().unwrap_or("").to_string()),
            ),
            _ => Ok(()),
        }
    }

    /// The ACME client's options, the account kept in `<tls_dir>/acme`.
    pub fn acme_options(&self, tls_dir: &Path) -> Result<AcmeOptions, TlsConfigError> {
        let args = agent::acme::Args {
            acme_directory: Some(
                self.acme_directory
                    .clone()
                    .unwrap_or_else(|| agent::acme::options::LETS_ENCRYPT.to_string()),
            ),
            acme_email: self.acme_email.clone(),
            acme_ca_root: self.acme_ca_root.clone(),
            acme_challenge: self.acme_challenge,
            acme_eab_kid: self.acme_eab_kid.clone(),
            acme_eab_hmac_key: self.acme_eab_hmac_key.clone(),
        };
        match args.options(tls_dir) {
            Ok(Some(options)) => Ok(options),
            Ok(None) => unreachable!("a directory is always given, so ACME is on"),
            Err(e) => Err(TlsConfigError::Acme(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        tls: TlsArgs,
    }

    fn args(flags: &[&str]) -> TlsArgs {
        Cli::try_parse_from(std::iter::once("dployr-server").chain(flags.iter().copied()))
            .unwrap()
            .tls
    }

    fn url(u: &str) -> url::Url {
        u.parse().unwrap()
    }

    #[test]
    fn off_is_the_default_and_refuses_tls_only_flags() {
        let off = args(&[]);
        assert_eq!(off.mode, TlsMode::Off);
        assert!(off.check(&url("http://127.0.0.1:8080")).is_ok());
        assert_eq!(off.plain_listen(), None);
        let err = args(&["--tls-cert", "/c.pem"])
            .check(&url("https://base.example.com"))
            .unwrap_err();
        assert!(err.to_string().contains("--tls-cert"), "{err}");
    }

    #[test]
    fn tls_needs_an_https_public_url() {
        let err = args(&["--tls", "files", "--tls-cert", "/c", "--tls-key", "/k"])
            .check(&url("http://base.example.com"))
            .unwrap_err();
        assert!(err.to_string().contains("must be https://"), "{err}");
        assert!(err.to_string().contains("DPLOYR_PUBLIC_URL"), "{err}");
    }

    #[test]
    fn files_needs_both_files_and_acme_needs_a_name() {
        let https = url("https://base.example.com");
        let err = args(&["--tls", "files", "--tls-cert", "/c"]).check(&https);
        assert!(matches!(err, Err(TlsConfigError::MissingFiles)));
        let err = args(&["--tls", "acme"]).check(&url("https://192.0.2.1"));
        assert!(matches!(err, Err(TlsConfigError::NotADomain(_))));
        assert!(args(&["--tls", "acme"]).check(&https).is_ok());
    }

    #[test]
    fn acme_over_http01_listens_on_port_80_unless_told() {
        assert_eq!(args(&["--tls", "acme"]).plain_listen(), Some(PORT_80));
        let alpn = args(&["--tls", "acme", "--acme-challenge", "tls-alpn-01"]);
        assert_eq!(alpn.plain_listen(), None);
        let told = args(&["--tls", "acme", "--http-listen", "127.0.0.1:8081"]);
        assert_eq!(told.plain_listen(), Some("127.0.0.1:8081".parse().unwrap()));
        assert_eq!(args(&["--tls", "files"]).plain_listen(), None);
    }

    #[test]
    fn acme_options_default_to_lets_encrypt_and_keep_the_account_under_tls() {
        let o = args(&["--tls", "acme"])
            .acme_options(Path::new("/data/tls"))
            .unwrap();
        assert_eq!(o.directory, agent::acme::options::LETS_ENCRYPT);
        assert_eq!(o.state_dir, Path::new("/data/tls/acme"));
        let err = args(&["--tls", "acme", "--acme-directory", "http://ca.test/dir"])
            .acme_options(Path::new("/data/tls"))
            .unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }
}

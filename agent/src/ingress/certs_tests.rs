//! The certificate store against real certificates made with rcgen.

use super::*;

/// A self-signed certificate for `names`: (chain PEM, key PEM).
pub(crate) fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_installed_certificate_is_stored_private_and_loads_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Certificates::open(dir.path().join("certs")).unwrap();
    let (chain, key) = self_signed(&["App.Example.com"]);
    let info = store
        .install("app.example.com.", &chain, &key, false)
        .unwrap();
    assert!(info.not_after_ms > info.not_before_ms);
    assert!(!info.uploaded);
    let folder = dir.path().join("certs/app.example.com");
    assert_eq!(mode(&dir.path().join("certs")), 0o700);
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("key.pem")), 0o600);
    assert_eq!(mode(&folder.join("chain.pem")), 0o600);

    let again = Certificates::open(dir.path().join("certs")).unwrap();
    assert_eq!(again.info("APP.example.com"), Some(info));
    again.remove("app.example.com").unwrap();
    assert!(again.info("app.example.com").is_none());
    assert!(!folder.exists());
}

#[test]
fn a_wrong_name_a_foreign_key_or_garbage_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Certificates::open(dir.path()).unwrap();
    let (chain, key) = self_signed(&["other.example.com"]);
    let (_, foreign_key) = self_signed(&["app.example.com"]);
    assert!(matches!(
        store.install("app.example.com", &chain, &key, true),
        Err(CertError::WrongName { .. })
    ));
    assert!(matches!(
        store.install("other.example.com", &chain, &foreign_key, true),
        Err(CertError::Mismatch)
    ));
    assert!(matches!(
        store.install("other.example.com", "junk", &key, true),
        Err(CertError::Chain)
    ));
    assert!(matches!(
        store.install("other.example.com", &chain, "junk", true),
        Err(CertError::Key)
    ));
    assert!(matches!(
        store.install("../etc", &chain, &key, true),
        Err(CertError::Domain(_))
    ));
    assert!(store.domains().is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_wildcard_certificate_covers_one_level() {
    let dir = tempfile::tempdir().unwrap();
    let store = Certificates::open(dir.path()).unwrap();
    let (chain, key) = self_signed(&["*.apps.example.com"]);
    store
        .install("*.apps.example.com", &chain, &key, true)
        .unwrap();
    assert!(store.info("*.apps.example.com").unwrap().uploaded);
    let (chain, key) = self_signed(&["*.apps.example.com"]);
    store
        .install("web.apps.example.com", &chain, &key, false)
        .unwrap();
}

#[test]
fn challenge_answers_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = Certificates::open(dir.path()).unwrap();
    store.set_http01("tok", "tok.thumb");
    assert_eq!(store.http01("tok").as_deref(), Some("tok.thumb"));
    store.clear_http01("tok");
    assert_eq!(store.http01("tok"), None);
}

//! Two-factor sign-in on SQLite and PostgreSQL: enrolment confirmed by a code this test computes
//! from the secret (its own RFC 6238, not the crate's), sign-in with a code and with a backup
//! code (refused the second time), a replayed code refused, step-up stale after 5 minutes on the
//! injected clock and fresh after a code, and a cluster that requires two-factor.

mod common;

use std::time::Duration;

use common::{TestDb, person};
use control::auth::LoginOutcome;
use control::clock::Clock;
use control::store::memberships;
use control::{Actor, Base, BaseConfig, ClientInfo, DomainError};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use proto::api::{CreateTokenRequest, Role};

const PASSWORD: &str = "correct horse battery";

/// RFC 6238 with SHA-1, 6 digits, 30 s steps, written out here so the test does not check the
/// server's code against itself.
fn code(secret_b32: &str, now_ms: i64) -> String {
    let key = BASE32_NOPAD.decode(secret_b32.as_bytes()).unwrap();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&(now_ms / 30_000).to_be_bytes());
    let d = mac.finalize().into_bytes();
    let o = (d[19] & 0xf) as usize;
    let n = u32::from_be_bytes([d[o] & 0x7f, d[o + 1], d[o + 2], d[o + 3]]) % 1_000_000;
    format!("{n:06}")
}

fn base(db: &TestDb, clock: &Clock) -> Base {
    let mut cfg = BaseConfig::new("http://127.0.0.1:8080".parse().unwrap());
    cfg.open_signup = true;
    // The tests type wrong codes on purpose; the limiter has its own tests.
    cfg.login_failures_per_account = 50;
    cfg.login_failures_per_ip = 50;
    Base::new(db.store.clone(), cfg).with_clock(clock.clone())
}

fn token_req() -> CreateTokenRequest {
    CreateTokenRequest {
        name: "ci".into(),
        role: Role::Admin,
        expires_in_days: None,
    }
}

/// Signs in with the password; the challenge the second step needs.
async fn challenge(base: &Base, email: &str) -> String {
    match base
        .login(email, PASSWORD, &ClientInfo::default())
        .await
        .unwrap()
    {
        LoginOutcome::NeedsCode(c) => {
            assert_eq!(c.expires_in_secs, 300);
            c.token
        }
        LoginOutcome::SignedIn(_) => panic!("{email} signed in without a code"),
    }
}

async fn signed_in(base: &Base, challenge: &str, code: &str) -> Result<Actor, DomainError> {
    let done = base
        .login_with_code(challenge, code, &ClientInfo::default())
        .await?;
    base.authenticate(&done.session.token, ClientInfo::default())
        .await
}

/// Enrols `actor`: the secret (base32) and the backup codes.
async fn enrol(base: &Base, actor: &Actor, clock: &Clock) -> (String, Vec<String>) {
    let setup = base.start_two_factor(actor).await.unwrap();
    assert!(
        setup.otpauth_uri.starts_with("otpauth://totp/"),
        "{}",
        setup.otpauth_uri
    );
    assert!(
        setup
            .otpauth_uri
            .contains(&format!("secret={}", setup.secret))
    );
    assert!(setup.qr_svg.contains("<svg"), "the QR code is SVG");
    let codes = base
        .confirm_two_factor(actor, &code(&setup.secret, clock.now_ms()))
        .await
        .unwrap();
    assert_eq!(codes.backup_codes.len(), 10);
    (setup.secret, codes.backup_codes)
}

async fn sign_in_with_codes_and_step_up(db: &TestDb) {
    let clock = Clock::manual(control::clock::now_ms());
    let base = base(db, &clock);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    assert!(!base.two_factor_status(&ana).await.unwrap().enabled);

    // A wrong code does not turn it on; the right one does.
    let setup = base.start_two_factor(&ana).await.unwrap();
    let later = code(&setup.secret, clock.now_ms() + 10 * 60_000);
    let err = base.confirm_two_factor(&ana, &later).await.unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { field: "code", .. }),
        "{err:?}"
    );
    assert!(!base.two_factor_status(&ana).await.unwrap().enabled);
    let (secret, backup) = enrol(&base, &ana, &clock).await;
    assert_ne!(
        secret, setup.secret,
        "a new setup replaces the unconfirmed one"
    );
    let status = base.two_factor_status(&ana).await.unwrap();
    assert!(status.enabled);
    assert_eq!(status.backup_codes_left, 10);

    // The code that confirmed the enrolment cannot be used again in its step.
    let err = base
        .step_up(&ana, &code(&secret, clock.now_ms()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { field: "code", .. }),
        "{err:?}"
    );

    // The password alone opens no session; a wrong code neither.
    clock.advance(Duration::from_secs(30));
    let ch = challenge(&base, "ana@example.com").await;
    let wrong = code(&secret, clock.now_ms() + 5 * 60_000);
    let err = signed_in(&base, &ch, &wrong).await.unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { field: "code", .. }),
        "{err:?}"
    );
    let ana2 = signed_in(&base, &ch, &code(&secret, clock.now_ms()))
        .await
        .unwrap();
    let err = signed_in(&base, &ch, &code(&secret, clock.now_ms()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::Unauthorized(_)),
        "a challenge works once: {err:?}"
    );

    // A backup code signs in once.
    let ch = challenge(&base, "ana@example.com").await;
    signed_in(&base, &ch, &backup[0].to_uppercase())
        .await
        .unwrap();
    let ch = challenge(&base, "ana@example.com").await;
    let err = signed_in(&base, &ch, &backup[0]).await.unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { field: "code", .. }),
        "{err:?}"
    );
    assert_eq!(
        base.two_factor_status(&ana)
            .await
            .unwrap()
            .backup_codes_left,
        9
    );

    // Signing in with a code counts as a step-up; five minutes later it is stale.
    base.create_token(&ana2, &cluster, token_req())
        .await
        .unwrap();
    clock.advance(Duration::from_secs(5 * 60 + 1));
    let err = base
        .create_token(&ana2, &cluster, token_req())
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::StepUpRequired), "{err:?}");
    let err = base.delete_cluster(&ana2, &cluster, "x").await.unwrap_err();
    assert!(matches!(err, DomainError::StepUpRequired), "{err:?}");
    let err = base.disable_two_factor(&ana2).await.unwrap_err();
    assert!(matches!(err, DomainError::StepUpRequired), "{err:?}");
    let err = base.regenerate_backup_codes(&ana2).await.unwrap_err();
    assert!(matches!(err, DomainError::StepUpRequired), "{err:?}");
    base.step_up(&ana2, &code(&secret, clock.now_ms()))
        .await
        .unwrap();
    base.create_token(&ana2, &cluster, token_req())
        .await
        .unwrap();

    // New backup codes replace the old ones: an old unused code no longer signs in, a new one does.
    let renewed = base
        .regenerate_backup_codes(&ana2)
        .await
        .unwrap()
        .backup_codes;
    assert_eq!(renewed.len(), 10);
    assert!(renewed.iter().all(|c| !backup.contains(c)));
    let status = base.two_factor_status(&ana).await.unwrap();
    assert_eq!(status.backup_codes_left, 10);
    let ch = challenge(&base, "ana@example.com").await;
    let err = signed_in(&base, &ch, &backup[1]).await.unwrap_err();
    assert!(
        matches!(err, DomainError::Invalid { field: "code", .. }),
        "{err:?}"
    );
    signed_in(&base, &ch, &renewed[0]).await.unwrap();

    // A challenge lasts 5 minutes.
    let ch = challenge(&base, "ana@example.com").await;
    clock.advance(Duration::from_secs(5 * 60 + 1));
    let err = signed_in(&base, &ch, &code(&secret, clock.now_ms()))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Unauthorized(_)), "{err:?}");

    let actions: Vec<String> = base
        .account_events(&ana, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "user.2fa_enabled",
        "user.step_up",
        "user.2fa_backup_used",
        "user.2fa_codes_renewed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}
on_both_backends!(
    sign_in_with_codes_and_step_up,
    sign_in_with_codes_and_step_up
);

async fn a_cluster_can_require_two_factor(db: &TestDb) {
    let clock = Clock::manual(control::clock::now_ms());
    let base = base(db, &clock);
    let (ana, _, cluster) = person(&base, "ana@example.com").await;
    let (bo, bo_id, _) = person(&base, "bo@example.com").await;
    memberships::insert(
        db.store.pool(),
        &cluster,
        &bo_id,
        Role::Admin,
        clock.now_ms(),
    )
    .await
    .unwrap();

    // Only an Owner with two-factor of their own may require it.
    let err = base
        .set_cluster_two_factor(&bo, &cluster, true)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");
    let err = base
        .set_cluster_two_factor(&ana, &cluster, true)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
    let (secret, _) = enrol(&base, &ana, &clock).await;
    base.set_cluster_two_factor(&ana, &cluster, true)
        .await
        .unwrap();
    assert!(
        base.cluster_requires_two_factor(&ana, &cluster)
            .await
            .unwrap()
    );

    // Bo is refused until he turns it on; his account still works.
    let err = base.cluster_overview(&bo, &cluster).await.unwrap_err();
    assert!(matches!(err, DomainError::TwoFactorRequired), "{err:?}");
    assert_eq!(err.code(), "two_factor_required");
    enrol(&base, &bo, &clock).await;
    base.cluster_overview(&bo, &cluster).await.unwrap();

    // Ana may not turn hers off while her cluster requires it, even stepped up.
    clock.advance(Duration::from_secs(30));
    base.step_up(&ana, &code(&secret, clock.now_ms()))
        .await
        .unwrap();
    let err = base.disable_two_factor(&ana).await.unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
    base.set_cluster_two_factor(&ana, &cluster, false)
        .await
        .unwrap();
    base.disable_two_factor(&ana).await.unwrap();
    assert!(!base.two_factor_status(&ana).await.unwrap().enabled);
    // Off again: the password alone signs in.
    let out = base
        .login("ana@example.com", PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(out, LoginOutcome::SignedIn(_)), "{out:?}");
    let actions = common::actions(&base, &ana, &cluster).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "cluster.require_2fa")
            .count(),
        2,
        "{actions:?}"
    );
}
on_both_backends!(
    a_cluster_can_require_two_factor,
    a_cluster_can_require_two_factor
);

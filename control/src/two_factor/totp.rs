//! RFC 6238 time-based one-time passwords as authenticator apps make them: HMAC-SHA1, 6 digits,
//! 30-second steps, a code accepted one step early or late (clocks drift). Written on `hmac` and
//! `sha1` (a few lines) rather than a crate, so the exact rule is here to read and tests compute
//! codes with it. Also the `otpauth://` URI and its QR code as SVG, drawn on the server so the
//! dashboard needs no QR script.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret: 160 bits, RFC 4226's recommendation for HMAC-SHA1.
pub const SECRET_BYTES: usize = 20;

/// The step `now_ms` (epoch milliseconds) falls in.
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(STEP_SECS * 1000)
}

/// The code of `step` for `secret` (RFC 4226's HOTP with the step as the counter).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        word % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The code of the current step, as an authenticator app shows it at `now_ms`.
pub fn code_now(secret: &[u8], now_ms: i64) -> String {
    code_at(secret, step_of(now_ms))
}

/// The step whose code `code` is, among the step of `now_ms` and its two neighbours; `None`
/// when it matches none. Compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now_ms);
    [now - 1, now, now + 1]
        .into_iter()
        .find(|&step| bool::from(code_at(secret, step).as_bytes().ct_eq(code.as_bytes())))
}

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The secret as people type it into an app (base32, no padding).
pub fn to_base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// The secret from its base32 form (spaces and case ignored).
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    BASE32_NOPAD.decode(clean.as_bytes()).ok()
}

/// The `otpauth://totp/…` URI apps read from the QR code: `issuer` and `account` label it.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let label = format!("{issuer}:{account}");
    let mut url = url::Url::parse("otpauth://totp/").expect("a constant URL");
    url.set_path(&label);
    url.query_pairs_mut()
        .append_pair("secret", secret_b32)
        .append_pair("issuer", issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", &DIGITS.to_string())
        .append_pair("period", &STEP_SECS.to_string());
    url.to_string()
}

/// `text` as a QR code in SVG (black on white, 200 px at least), or `None` if it is too long
/// for one.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (their 8-digit codes, last 6 digits).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (secs, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_now(secret, secs * 1000), code, "at {secs}");
        }
    }

    #[test]
    fn a_neighbouring_step_is_accepted_and_a_further_one_is_not() {
        let secret = new_secret();
        let now = 1_700_000_000_000;
        let prev = code_at(&secret, step_of(now) - 1);
        assert_eq!(matching_step(&secret, &prev, now), Some(step_of(now) - 1));
        let old = code_at(&secret, step_of(now) - 2);
        let next = code_at(&secret, step_of(now) + 1);
        // Two steps away is refused unless it happens to equal one of the three (1 in ~10^5).
        if ![
            prev.as_str(),
            next.as_str(),
            code_now(&secret, now).as_str(),
        ]
        .contains(&old.as_str())
        {
            assert_eq!(matching_step(&secret, &old, now), None);
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn base32_round_trips_and_the_uri_names_the_issuer() {
        let secret = new_secret();
        let b32 = to_base32(&secret);
        assert_eq!(b32.len(), 32);
        assert_eq!(from_base32(&b32.to_lowercase()), Some(secret));
        let uri = otpauth_uri("dployr", "ana@example.com", &b32);
        assert!(
            uri.starts_with("otpauth://totp/dployr:ana@example.com?secret="),
            "{uri}"
        );
        assert!(qr_svg(&uri).unwrap().contains("<svg"));
    }
}

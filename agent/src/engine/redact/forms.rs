//! The encoded forms a secret takes in logs when a program prints it inside something else:
//! base64 (an HTTP `Authorization: Basic` header, a Kubernetes-style value), %-encoding (a
//! database URL or a query string) and JSON string escapes. The redactor scrubs each of them
//! like the plain value (audit L3).

const B64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every encoded form of `value` worth looking for, except `value` itself.
pub fn encoded(value: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for alphabet in [B64_STD, B64_URL] {
        forms.push(base64(value.as_bytes(), alphabet, true));
        // Inside a longer base64 text (`user:password`), the secret starts at any byte offset:
        // the characters that encode only its bits are the same whatever surrounds it.
        for offset in 0..3 {
            forms.push(base64_core(value.as_bytes(), offset, alphabet));
        }
    }
    forms.push(percent(value, true, false));
    forms.push(percent(value, false, false));
    forms.push(percent(value, true, true));
    if let Ok(json) = serde_json::to_string(value) {
        let inner = &json[1..json.len() - 1];
        forms.push(inner.replace('/', "\\/"));
        forms.push(inner.to_string());
    }
    forms.retain(|f| f != value && !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// The base64 characters that depend only on `bytes` when `offset` other bytes precede them
/// and unknown bytes follow.
fn base64_core(bytes: &[u8], offset: usize, alphabet: &[u8; 64]) -> String {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let all = base64(&padded, alphabet, false);
    let first = (8 * offset).div_ceil(6);
    let last = 8 * padded.len() / 6;
    all.get(first..last.max(first))
        .unwrap_or_default()
        .to_string()
}

/// `value` with every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`; `form`
/// writes a space as `+` (HTML forms).
fn percent(value: &str, upper: bool, form: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_the_standard_encoding() {
        assert_eq!(base64(b"user:pass", B64_STD, true), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab", B64_STD, true), "YWI=");
        assert_eq!(base64(b"a?>", B64_URL, false), "YT8-");
    }

    #[test]
    fn the_core_is_found_at_any_offset() {
        let secret = b"correct-horse";
        for prefix in ["", "u:", "us:", "use:"] {
            let mut text = prefix.as_bytes().to_vec();
            text.extend_from_slice(secret);
            text.extend_from_slice(b"!tail");
            let whole = base64(&text, B64_STD, true);
            let found = (0..3).any(|o| whole.contains(&base64_core(secret, o, B64_STD)));
            assert!(found, "{prefix:?}: {whole}");
        }
    }

    #[test]
    fn percent_and_json_forms() {
        let forms = encoded("p@ss w/\"rd");
        assert!(
            forms.contains(&"p%40ss%20w%2F%22rd".to_string()),
            "{forms:?}"
        );
        assert!(forms.contains(&"p%40ss+w%2F%22rd".to_string()), "{forms:?}");
        assert!(forms.contains(&"p@ss w\\/\\\"rd".to_string()), "{forms:?}");
    }
}

//! A release's response head as the direct path reads it: the head the client gets (hop-by-hop
//! headers dropped, `Date` added if missing, `Connection: close` when the client's connection
//! ends with it, HSTS over HTTPS for services that ask) and how the body after it is framed, so the upstream connection can be reused
//! once the body has passed.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use super::super::proxy::{HSTS, is_hop_by_hop};
use super::request::{Asked, put_header};

/// More headers than this and the answer is a bad gateway (hyper's client takes up to 100).
const MAX_HEADERS: usize = 100;

/// What the bytes read so far from the release hold.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Head {
    /// Not the whole head yet.
    Partial,
    /// An informational (1xx) response of this length, not passed on; the final one follows.
    Interim(usize),
    Final(Answer),
    /// `101 Switching Protocols`, though the direct path never asks for an upgrade.
    UnaskedUpgrade,
    Invalid(&'static str),
}

/// A final response head, rewritten for the client.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) head_len: usize,
    pub(super) framing: Framing,
    /// The release's connection can carry another request once the body has passed.
    pub(super) reusable: bool,
    /// The client's connection ends with this answer.
    pub(super) close_client: bool,
}

/// Where the body that follows a head ends (RFC 9112 §6.3).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(super) enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// At the end of the connection: neither the release's nor the client's is reused.
    UntilClose,
}

/// Reads the head at the start of `bytes` (the answer to a request that `asked`) and, if it is
/// the final one, writes the client's head to `out`.
pub(super) fn parse(bytes: &[u8], asked: &Asked, out: &mut Vec<u8>) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let head_len = match res.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Invalid("malformed response head"),
    };
    let (Some(status), Some(version)) = (res.code, res.version) else {
        return Head::Invalid("malformed response head");
    };
    match status {
        101 => return Head::UnaskedUpgrade,
        100..=199 => return Head::Interim(head_len),
        _ => {}
    }

    let headers = &*res.headers;
    let named = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    };
    let connection_options = || named("connection").flat_map(|h| h.value.split(|b| *b == b','));
    let upstream_close =
        connection_options().any(|o| o.trim_ascii().eq_ignore_ascii_case(b"close"));
    let chunked = named("transfer-encoding")
        .next_back()
        .map(|h| last_coding_is_chunked(h.value));
    let mut length = None;
    for header in named("content-length") {
        let value = std::str::from_utf8(header.value).ok();
        match value.and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
            _ => return Head::Invalid("invalid Content-Length"),
        }
    }
    let framing = if asked.head || status == 204 || status == 304 {
        Framing::Empty
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) | (None, None) => Framing::UntilClose,
            (None, Some(n)) => Framing::Length(n),
        }
    };
    let close_client = asked.close || framing == Framing::UntilClose;

    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&[
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(res.reason.unwrap_or_default().as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut dated = false;
    for header in headers {
        let name = header.name;
        // Hop-by-hop headers are not passed on (RFC 9110 §7.6.1), except `Transfer-Encoding`:
        // a chunked body passes through as it came.
        let dropped = (is_hop_by_hop(name) && !name.eq_ignore_ascii_case("transfer-encoding"))
            || (chunked.is_some() && name.eq_ignore_ascii_case("content-length"))
            || (asked.hsts && name.eq_ignore_ascii_case("strict-transport-security"))
            || connection_options().any(|o| o.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
        if !dropped {
            dated |= name.eq_ignore_ascii_case("date");
            put_header(out, name.as_bytes(), header.value);
        }
    }
    if !dated {
        with_date(|date| put_header(out, b"date", date));
    }
    if asked.hsts {
        put_header(out, b"strict-transport-security", HSTS.as_bytes());
    }
    if close_client {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");

    Head::Final(Answer {
        status,
        head_len,
        framing,
        reusable: version == 1 && !upstream_close && framing != Framing::UntilClose,
        close_client,
    })
}

/// A `Transfer-Encoding` value whose last coding is `chunked` (else the body runs to the end of
/// the connection, RFC 9112 §6.3).
fn last_coding_is_chunked(value: &[u8]) -> bool {
    let last = value.rsplit(|b| *b == b',').next().unwrap_or_default();
    last.trim_ascii().eq_ignore_ascii_case(b"chunked")
}

/// Calls `f` with the current time as an HTTP date, formatted at most once a second per thread.
pub(super) fn with_date<T>(f: impl FnOnce(&[u8]) -> T) -> T {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, text)| {
        if *at != second {
            *at = second;
            *text = httpdate::fmt_http_date(now);
        }
        f(text.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(bytes: &[u8], head: bool) -> (Answer, String) {
        let mut out = Vec::new();
        let asked = Asked {
            head,
            ..Asked::default()
        };
        match parse(bytes, &asked, &mut out) {
            Head::Final(answer) => (answer, String::from_utf8(out).unwrap()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_dropped() {
        let sent =
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\n\
              X-Internal: 1\r\nDate: Sun, 06 Dec 2026 18:00:00 GMT\r\nContent-Length: 2\r\n\r\nhi";
        let (answer, head) = answer(sent, false);
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 18:00:00 GMT\r\nContent-Length: 2\r\n\r\n"
        );
        assert_eq!(answer.framing, Framing::Length(2));
        assert_eq!(answer.head_len, sent.len() - 2);
        assert!(answer.reusable && !answer.close_client);
    }

    #[test]
    fn chunked_passes_through_and_content_length_beside_it_is_dropped() {
        let (answer, head) = answer(
            b"HTTP/1.1 201 Created\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 9\r\n\r\n",
            false,
        );
        assert_eq!(answer.framing, Framing::Chunked);
        assert!(
            head.contains("transfer-encoding: gzip, chunked\r\n"),
            "{head}"
        );
        assert!(!head.contains("content-length"), "{head}");
        assert!(head.contains("\r\ndate: "), "a date is added: {head}");
    }

    #[test]
    fn a_body_to_the_end_of_the_connection_closes_both_sides() {
        let (answer, head) = answer(b"HTTP/1.0 200 OK\r\n\r\n", false);
        assert_eq!(answer.framing, Framing::UntilClose);
        assert!(!answer.reusable && answer.close_client);
        assert!(head.ends_with("connection: close\r\n\r\n"), "{head}");
    }

    #[test]
    fn head_204_and_304_answers_have_no_body() {
        let with_length = b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n";
        assert_eq!(answer(with_length, true).0.framing, Framing::Empty);
        for status in ["204 No Content", "304 Not Modified"] {
            let head = format!("HTTP/1.1 {status}\r\n\r\n");
            assert_eq!(answer(head.as_bytes(), false).0.framing, Framing::Empty);
        }
    }

    #[test]
    fn interim_upgrade_partial_and_invalid_heads() {
        let mut out = Vec::new();
        let mut parse = |bytes: &[u8]| parse(bytes, &Asked::default(), &mut out);
        assert_eq!(
            parse(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP"),
            Head::Interim(40)
        );
        assert_eq!(
            parse(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
            Head::UnaskedUpgrade
        );
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\ncontent-"), Head::Partial);
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"),
            Head::Invalid(_)
        ));
        assert!(matches!(parse(b"SMTP ready\r\n\r\n"), Head::Invalid(_)));
    }
}

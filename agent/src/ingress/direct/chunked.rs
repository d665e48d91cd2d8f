//! Where a chunked body ends (RFC 9112 §7.1), found while its bytes pass through unchanged: the
//! direct path forwards an upstream's chunked response as it came and only needs to know when
//! the upstream connection is free again.

/// The chunked body is malformed; the connection it came on cannot be trusted any more.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Malformed;

/// How far into a chunked body the bytes seen so far reach.
#[derive(Debug)]
pub(super) struct Chunked {
    state: State,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// In a chunk-size line's hex digits (`digits` of them so far).
    Size {
        value: u64,
        digits: u8,
    },
    /// In a chunk extension, or whitespace before it, up to the line's CR.
    Extension {
        value: u64,
    },
    /// After the size line's CR.
    SizeLf {
        value: u64,
    },
    /// In a chunk's data, this many bytes left.
    Data(u64),
    DataCr,
    DataLf,
    /// At the start of a trailer line, or of the empty line that ends the body.
    LineStart,
    /// In a trailer field line, up to its CR.
    Trailer,
    TrailerLf,
    /// After the CR of the empty line that ends the body.
    EndLf,
}

impl Chunked {
    pub(super) fn new() -> Self {
        Self {
            state: State::Size {
                value: 0,
                digits: 0,
            },
        }
    }

    /// Reads on through `bytes`, the body's next ones: `Some(n)` if the body ends after the
    /// first `n` of them, `None` if it goes on past them.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> Result<Option<usize>, Malformed> {
        let mut at = 0;
        while at < bytes.len() {
            if let State::Data(left) = self.state {
                let take = left.min((bytes.len() - at) as u64);
                at += take as usize;
                self.state = if take == left {
                    State::DataCr
                } else {
                    State::Data(left - take)
                };
                continue;
            }
            let byte = bytes[at];
            at += 1;
            self.state = match (self.state, byte) {
                (State::Size { value, digits }, _) if byte.is_ascii_hexdigit() => {
                    if digits == 15 {
                        return Err(Malformed);
                    }
                    let digit = u64::from((byte as char).to_digit(16).ok_or(Malformed)?);
                    State::Size {
                        value: value * 16 + digit,
                        digits: digits + 1,
                    }
                }
                (State::Size { digits: 0, .. }, _) => return Err(Malformed),
                (State::Size { value, .. }, b'\r') => State::SizeLf { value },
                (State::Size { value, .. }, b';' | b' ' | b'\t') => State::Extension { value },
                (State::Extension { value }, b'\r') => State::SizeLf { value },
                (State::Extension { .. }, b'\n') => return Err(Malformed),
                (State::Extension { value }, _) => State::Extension { value },
                (State::SizeLf { value: 0 }, b'\n') => State::LineStart,
                (State::SizeLf { value }, b'\n') => State::Data(value),
                (State::DataCr, b'\r') => State::DataLf,
                (State::DataLf, b'\n') => State::Size {
                    value: 0,
                    digits: 0,
                },
                (State::LineStart, b'\r') => State::EndLf,
                (State::LineStart | State::Trailer, b'\n') => return Err(Malformed),
                (State::Trailer, b'\r') => State::TrailerLf,
                (State::LineStart | State::Trailer, _) => State::Trailer,
                (State::TrailerLf, b'\n') => State::LineStart,
                (State::EndLf, b'\n') => return Ok(Some(at)),
                _ => return Err(Malformed),
            };
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"5\r\nhello\r\n1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";

    #[test]
    fn the_end_is_found_however_the_bytes_are_split() {
        for split in 0..=BODY.len() {
            let mut chunked = Chunked::new();
            let (first, rest) = BODY.split_at(split);
            let end = match chunked.feed(first).unwrap() {
                Some(end) => end,
                None => split + chunked.feed(rest).unwrap().expect("the body ends"),
            };
            assert_eq!(end, BODY.len(), "split at {split}");
        }
    }

    #[test]
    fn bytes_after_the_end_are_not_counted_and_trailers_are_read_through() {
        let mut chunked = Chunked::new();
        let body = b"3\r\nabc\r\n0\r\nx-sum: 1\r\nx-more: 2\r\n\r\nHTTP/1.1 200 OK\r\n";
        assert_eq!(chunked.feed(body), Ok(Some(body.len() - 17)));
    }

    #[test]
    fn byte_by_byte_the_end_is_the_last_byte() {
        let mut chunked = Chunked::new();
        for (i, byte) in BODY.iter().enumerate() {
            let fed = chunked.feed(std::slice::from_ref(byte)).unwrap();
            assert_eq!(fed.is_some(), i == BODY.len() - 1, "byte {i}");
        }
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for body in [
            &b"x\r\n"[..],
            b"\r\n",
            b"5\r\nhelloX\r\n",
            b"5\nhello",
            b"ffffffffffffffff0\r\n",
            b"0\r\nbad\n",
        ] {
            assert_eq!(Chunked::new().feed(body), Err(Malformed), "{body:?}");
        }
    }
}

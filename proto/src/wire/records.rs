//! Records inside one tunnel stream. A stream is a byte pipe whose chunks may be split or merged
//! on the way (flow control), so consoles and file transfers that need to tell bytes from
//! messages frame them: `[kind: u8][len: u32 big-endian][payload]`. [`RecordReader`] takes
//! chunks as they come and yields whole records; a record over [`MAX_RECORD_BYTES`] or of an
//! unknown kind is an error (the stream is reset, the connection carries on).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bytes of one record's payload at most (a console paste or a file chunk; bigger data is cut
/// into several records).
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

const HEADER: usize = 5;

/// One record: raw bytes (terminal input or output, file content) or a JSON message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Data(Vec<u8>),
    Json(Vec<u8>),
}

const DATA: u8 = 0;
const JSON: u8 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("record of {0} bytes is over the {MAX_RECORD_BYTES}-byte cap")]
    TooLarge(usize),
    #[error("unknown record kind {0}")]
    UnknownKind(u8),
    #[error("bad JSON record: {0}")]
    Json(String),
}

impl Record {
    /// `data` as one or more `Data` records, each within the cap.
    pub fn data(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + HEADER);
        for chunk in data.chunks(MAX_RECORD_BYTES) {
            push(&mut out, DATA, chunk);
        }
        out
    }

    /// `msg` as a `Json` record.
    pub fn json<T: Serialize>(msg: &T) -> Vec<u8> {
        let body = serde_json::to_vec(msg).expect("our messages serialise");
        assert!(
            body.len() <= MAX_RECORD_BYTES,
            "a JSON record within the cap"
        );
        let mut out = Vec::with_capacity(body.len() + HEADER);
        push(&mut out, JSON, &body);
        out
    }

    /// Parses a `Json` record's payload as `T`.
    pub fn parse<T: DeserializeOwned>(payload: &[u8]) -> Result<T, RecordError> {
        serde_json::from_slice(payload).map_err(|e| RecordError::Json(e.to_string()))
    }
}

fn push(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// Reassembles records from chunks.
#[derive(Debug, Default)]
pub struct RecordReader {
    buf: Vec<u8>,
}

impl RecordReader {
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole record, `Ok(None)` until one has arrived.
    pub fn next_record(&mut self) -> Result<Option<Record>, RecordError> {
        if self.buf.len() < HEADER {
            return Ok(None);
        }
        let kind = self.buf[0];
        let len = u32::from_be_bytes(self.buf[1..HEADER].try_into().expect("4 bytes")) as usize;
        if len > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge(len));
        }
        if kind != DATA && kind != JSON {
            return Err(RecordError::UnknownKind(kind));
        }
        if self.buf.len() < HEADER + len {
            return Ok(None);
        }
        let payload = self.buf[HEADER..HEADER + len].to_vec();
        self.buf.drain(..HEADER + len);
        Ok(Some(if kind == DATA {
            Record::Data(payload)
        } else {
            Record::Json(payload)
        }))
    }

    /// Bytes held that do not make a whole record yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_any_split_of_the_byte_stream() {
        let mut wire = Record::data(b"hello");
        wire.extend(Record::json(
            &serde_json::json!({ "Resize": { "cols": 80, "rows": 24 } }),
        ));
        wire.extend(Record::data(&[0u8; 3]));
        for cut in 1..wire.len() {
            let mut r = RecordReader::default();
            let mut got = Vec::new();
            for piece in wire.chunks(cut) {
                r.push(piece);
                while let Some(rec) = r.next_record().unwrap() {
                    got.push(rec);
                }
            }
            assert_eq!(got.len(), 3, "cut {cut}");
            assert_eq!(got[0], Record::Data(b"hello".to_vec()));
            assert!(matches!(&got[1], Record::Json(j) if j.starts_with(b"{\"Resize\"")));
            assert_eq!(r.pending(), 0);
        }
    }

    #[test]
    fn big_data_is_cut_into_records_within_the_cap() {
        let big = vec![7u8; MAX_RECORD_BYTES * 2 + 10];
        let mut r = RecordReader::default();
        r.push(&Record::data(&big));
        let mut total = 0;
        while let Some(Record::Data(d)) = r.next_record().unwrap() {
            assert!(d.len() <= MAX_RECORD_BYTES);
            total += d.len();
        }
        assert_eq!(total, big.len());
    }

    #[test]
    fn oversize_and_unknown_records_are_refused() {
        let mut r = RecordReader::default();
        r.push(&[0, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(r.next_record(), Err(RecordError::TooLarge(_))));
        let mut r = RecordReader::default();
        r.push(&[9, 0, 0, 0, 0]);
        assert_eq!(r.next_record(), Err(RecordError::UnknownKind(9)));
    }
}

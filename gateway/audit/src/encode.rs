//! Writes a record's line straight into the batch buffer: the body JSON field by field, its hash
//! in hex in front, with no intermediate value or `String` on the way.
//!
//! The bytes are exactly those of the serde form the log has always written (`serde_json` of
//! [`Record`], whose `Entry` is flattened into it): the same field order, the same string escaping
//! (each string still goes through `serde_json`), the same RFC 3339 time. Old logs and new ones
//! hash and verify the same; the test below holds the two forms side by side.

use std::io::Write as _;

use time::format_description::well_known::Rfc3339;

use crate::record::{ChainHash, Record};

/// Why a record has no line: its time has no RFC 3339 form (a year outside 0–9999, an offset with
/// seconds), or a string could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("time cannot be written as RFC 3339: {0}")]
    Time(#[from] time::error::Format),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// Hex digits as the serde form writes them (lower case).
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `<64 hex hash> <body JSON>\n` to `out` and returns the body's hash. On an error `out`
/// is left as it was.
pub(crate) fn encode_into(record: &Record, out: &mut Vec<u8>) -> Result<ChainHash, EncodeError> {
    let start = out.len();
    match write_line(record, out, start) {
        Ok(hash) => Ok(hash),
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

fn write_line(record: &Record, out: &mut Vec<u8>, start: usize) -> Result<ChainHash, EncodeError> {
    // Room for the hash and its space, filled in once the body is there to hash.
    out.extend_from_slice(&[b' '; 65]);
    let body = out.len();
    let e = &record.entry;
    out.extend_from_slice(b"{\"seq\":");
    write!(out, "{}", record.seq).map_err(serde_json::Error::io)?;
    out.extend_from_slice(b",\"prev\":\"");
    push_hex(out, &record.prev.0);
    out.extend_from_slice(b"\",\"time\":\"");
    e.time.format_into(out, &Rfc3339)?;
    out.push(b'"');
    for (key, value) in [
        (&b",\"caller\":"[..], &e.caller),
        (b",\"method\":", &e.method),
        (b",\"purpose\":", &e.purpose),
        (b",\"issuing_region\":", &e.issuing_region),
        (b",\"subject_ref\":", &e.subject_ref),
        (b",\"verdict\":", &e.verdict),
    ] {
        out.extend_from_slice(key);
        // serde_json escapes control characters, so the body never contains a newline.
        serde_json::to_writer(&mut *out, value)?;
    }
    out.extend_from_slice(b",\"registry_version\":");
    write!(out, "{}", e.registry_version).map_err(serde_json::Error::io)?;
    out.push(b'}');
    let hash = ChainHash::of(&out[body..]);
    write_hex(&mut out[start..start + 64], &hash.0);
    out.push(b'\n');
    Ok(hash)
}

/// Appends `bytes` in lower-case hex.
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let at = out.len();
    out.resize(at + 2 * bytes.len(), 0);
    write_hex(&mut out[at..], bytes);
}

/// Writes `bytes` in lower-case hex over `dst`, which holds exactly two bytes for each.
fn write_hex(dst: &mut [u8], bytes: &[u8]) {
    for (pair, b) in dst.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0x0f)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::entry;
    use time::macros::datetime;

    /// The line as the log wrote it before this encoder: serde_json of the whole record.
    fn serde_line(record: &Record) -> (Vec<u8>, ChainHash) {
        let body = serde_json::to_vec(record).unwrap();
        let hash = ChainHash::of(&body);
        let mut line = hex::encode(hash.0).into_bytes();
        line.push(b' ');
        line.extend_from_slice(&body);
        line.push(b'\n');
        (line, hash)
    }

    fn records() -> Vec<Record> {
        let mut prev = ChainHash([0xa5; 32]);
        prev.0[0] = 0x0f;
        prev.0[31] = 0xf0;
        let texts = [
            String::new(),
            "quote \" backslash \\ slash / tab \t newline \n cr \r".into(),
            "controls \u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f} end".into(),
            "省界检查站 «unicode» 🚄 \u{2028}\u{2029}".into(),
            "x".repeat(512),
        ];
        let times = [
            datetime!(2020-02-17 08:00 UTC),
            datetime!(2026-12-01 17:30:05.123456789 UTC),
            datetime!(2026-12-01 17:30:05.5 +08:00),
            datetime!(0001-01-01 00:00 -05:30),
            datetime!(9999-12-31 23:59:59.000001 UTC),
        ];
        let mut out = Vec::new();
        for (i, (text, time)) in texts.iter().zip(times).enumerate() {
            let mut e = entry();
            e.time = time;
            e.purpose = text.clone();
            e.caller = format!("spiffe://huren.dev/{text}");
            e.verdict = ["PASS", "REVIEW", "DENY", "", "A_B"][i].into();
            e.registry_version = [0, 1, 7, u64::from(u32::MAX), u64::MAX][i];
            for (seq, prev) in [
                (1, ChainHash::GENESIS),
                (u64::MAX, prev),
                (10 + i as u64, prev),
            ] {
                out.push(Record {
                    seq,
                    prev,
                    entry: e.clone(),
                });
            }
        }
        out
    }

    #[test]
    fn lines_are_byte_for_byte_the_serde_form() {
        for record in records() {
            let mut line = Vec::new();
            let hash = encode_into(&record, &mut line).unwrap();
            let (want, want_hash) = serde_line(&record);
            assert_eq!(
                String::from_utf8_lossy(&line),
                String::from_utf8_lossy(&want)
            );
            assert_eq!(line, want);
            assert_eq!(hash, want_hash);
            let (back, back_hash) = Record::decode(&line[..line.len() - 1]).unwrap();
            assert_eq!(back, record);
            assert_eq!(back_hash, hash);
        }
    }

    #[test]
    fn lines_follow_what_is_already_in_the_buffer() {
        let records = records();
        let mut batch = b"earlier".to_vec();
        let mut want = batch.clone();
        for record in &records[..4] {
            encode_into(record, &mut batch).unwrap();
            want.extend_from_slice(&serde_line(record).0);
        }
        assert_eq!(batch, want);
    }

    #[test]
    fn a_time_without_an_rfc3339_form_leaves_the_buffer_as_it_was() {
        let mut record = records().remove(0);
        record.entry.time = datetime!(2020-02-17 08:00 +01:02:03);
        let mut batch = b"earlier".to_vec();
        assert!(matches!(
            encode_into(&record, &mut batch),
            Err(EncodeError::Time(_))
        ));
        assert_eq!(batch, b"earlier");
    }

    #[test]
    fn hex_is_lower_case_and_in_order() {
        let mut out = b">".to_vec();
        push_hex(&mut out, &[0x00, 0x09, 0x0a, 0xf0, 0xff, 0x5c]);
        assert_eq!(out, b">00090af0ff5c");
    }
}

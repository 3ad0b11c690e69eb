//! zlib (RFC 1950) compression of status bits and delta entries, inflating only to a known bound.
//!
//! zlib, not raw DEFLATE or gzip, because it is what the IETF Token Status List puts in `lst`:
//! the same compressed bits can be re-served in that format. The backend is `miniz_oxide`, pure
//! Rust, so nothing here needs a C compiler and `#![forbid(unsafe_code)]` holds in our code.

use std::io::{Read as _, Write as _};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

use super::error::FormatError;

pub(crate) fn deflate(bytes: &[u8]) -> Vec<u8> {
    // Writing into a Vec cannot fail; should it ever, an empty stream is refused by every reader.
    let mut enc = ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 64 + 64),
        Compression::default(),
    );
    if enc.write_all(bytes).is_err() {
        return Vec::new();
    }
    enc.finish().unwrap_or_default()
}

/// Inflates `input` to exactly `len` bytes, refusing anything shorter, longer, or followed by
/// trailing bytes. The output never grows past `len`, so a compression bomb costs nothing.
pub(crate) fn inflate_exact(input: &[u8], len: usize) -> Result<Vec<u8>, FormatError> {
    let out = inflate_bounded(input, len)?;
    if out.len() != len {
        return Err(FormatError::BadCompression);
    }
    Ok(out)
}

/// Inflates `input` to at most `max` bytes.
pub(crate) fn inflate_bounded(input: &[u8], max: usize) -> Result<Vec<u8>, FormatError> {
    let mut dec = ZlibDecoder::new(input);
    let mut out = Vec::new();
    (&mut dec)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| FormatError::BadCompression)?;
    if out.len() > max || dec.total_in() != input.len() as u64 {
        return Err(FormatError::BadCompression);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_wrong_sizes_and_trailing_bytes() {
        let data = vec![0u8; 10_000];
        let z = deflate(&data);
        assert!(z.len() < 100);
        assert_eq!(inflate_exact(&z, 10_000).unwrap(), data);
        assert_eq!(inflate_exact(&z, 9_999), Err(FormatError::BadCompression));
        assert_eq!(inflate_exact(&z, 10_001), Err(FormatError::BadCompression));
        let mut trailing = z.clone();
        trailing.push(0);
        assert_eq!(
            inflate_exact(&trailing, 10_000),
            Err(FormatError::BadCompression)
        );
        assert_eq!(
            inflate_exact(&z[..z.len() - 1], 10_000),
            Err(FormatError::BadCompression)
        );
        assert_eq!(
            inflate_exact(b"garbage", 10),
            Err(FormatError::BadCompression)
        );
    }
}

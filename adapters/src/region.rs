//! Regions: the GB/T 2260 administrative code that names every province, city and county.

use std::fmt;

/// A GB/T 2260 administrative code: six ASCII digits. `000000` is the national platform.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    pub const NATIONAL: RegionCode = RegionCode(*b"000000");
    pub const ZHEJIANG: RegionCode = RegionCode(*b"330000");
    pub const GUANGDONG: RegionCode = RegionCode(*b"440000");
    pub const SICHUAN: RegionCode = RegionCode(*b"510000");
    pub const HUNAN: RegionCode = RegionCode(*b"430000");
    pub const HENAN: RegionCode = RegionCode(*b"410000");
    pub const HUBEI: RegionCode = RegionCode(*b"420000");

    pub fn parse(s: &str) -> Result<Self, String> {
        let bytes: [u8; 6] = s.as_bytes().try_into().map_err(|_| {
            format!("region code {s:?} must be six digits (GB/T 2260), e.g. 330000")
        })?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "region code {s:?} must be six digits (GB/T 2260), e.g. 330000"
            ));
        }
        Ok(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??????")
    }

    /// The province a city or county belongs to: first two digits, then zeros.
    pub fn province(&self) -> RegionCode {
        let mut p = *b"000000";
        p[..2].copy_from_slice(&self.0[..2]);
        RegionCode(p)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.as_str())
    }
}

//! ListRegions paging (AIP-158): an opaque token naming the last region served.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use huren_adapters::RegionCode;

use crate::error::Error;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

const PREFIX: &str = "regions-after:";

/// The page size asked for: 0 means the default, above the maximum is the maximum.
pub fn size(page_size: i32) -> Result<usize, Error> {
    match usize::try_from(page_size) {
        Err(_) => Err(Error::invalid("page_size", "must not be negative")),
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(n) => Ok(n.min(MAX_PAGE_SIZE)),
    }
}

pub fn token(last: RegionCode) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{last}"))
}

/// The region after which the page starts; `None` for the first page.
pub fn after(page_token: &str) -> Result<Option<RegionCode>, Error> {
    if page_token.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Error::invalid(
            "page_token",
            "not a token this service issued; start again without one",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(page_token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let code = text.strip_prefix(PREFIX).ok_or_else(bad)?;
    RegionCode::parse(code).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(
            after(&token(RegionCode::HUBEI)).unwrap(),
            Some(RegionCode::HUBEI)
        );
        assert_eq!(after("").unwrap(), None);
        for garbage in ["%%%", "cmVnaW9ucy1hZnRlcjp4", "aGVsbG8"] {
            assert!(after(garbage).is_err(), "{garbage}");
        }
        assert!(size(-1).is_err());
        assert_eq!(size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(size(5000).unwrap(), MAX_PAGE_SIZE);
    }
}

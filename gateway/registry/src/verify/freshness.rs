//! Freshness rules shared by every step: nothing expired, nothing older than what is held,
//! nothing different at a version already held.

use time::OffsetDateTime;

use crate::error::{FreshnessError, VerifyError};

/// `document` must not have expired at `now`.
pub(super) fn not_expired(
    document: &str,
    expires: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), VerifyError> {
    if now >= expires {
        return Err(FreshnessError::Expired {
            document: document.to_string(),
            expires,
            now,
        }
        .into());
    }
    Ok(())
}

/// `document` at version `offered` must not go back from the `held` version, nor carry other
/// content at the same version (`same_content` says whether it does).
pub(super) fn not_rolled_back(
    document: &str,
    held: u64,
    offered: u64,
    same_content: bool,
) -> Result<(), VerifyError> {
    if offered < held {
        return Err(FreshnessError::Rollback {
            document: document.to_string(),
            held,
            offered,
        }
        .into());
    }
    if offered == held && !same_content {
        return Err(FreshnessError::Equivocation {
            document: document.to_string(),
            version: offered,
        }
        .into());
    }
    Ok(())
}

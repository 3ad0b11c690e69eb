//! Keeping Guangdong's revocation lists fresh: fetch the issuer's signed list from the region's
//! status service and install it, on a timer while the node runs and at once when the region's
//! change feed says a status changed (a changed holder's earlier token is withdrawn by the list).

use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::adapter::Task;
use crate::model::{CodeError, RegionCode};
use crate::net::{NetError, StatusClient};
use crate::regions::guangdong::revocations::{MAX_LIST_LEN, RevocationLists};
use crate::trust::TrustView;

/// Longest a scheduled refresh may take.
const REFRESH_WITHIN: Duration = Duration::from_secs(10);

/// Why a refresh did not install a list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the revocation list was refused: {0}")]
    Invalid(#[from] CodeError),
}

/// Fetches Guangdong's list and installs it if it is newer; whether it was installed.
pub async fn refresh_revocations(
    status: &StatusClient,
    trust: &dyn TrustView,
    lists: &RevocationLists,
    deadline: Instant,
) -> Result<bool, RefreshError> {
    let list = status
        .fetch_revocation_list(RegionCode::GUANGDONG, trust, MAX_LIST_LEN, deadline)
        .await?;
    Ok(lists.install(&list, trust, OffsetDateTime::now_utc())?)
}

/// Refreshes the lists every `every`, for as long as the task runs. A failed refresh keeps the
/// list held and is logged; the adapter reports how old its list is.
pub fn keep_fresh(
    status: StatusClient,
    trust: Arc<dyn TrustView>,
    lists: Arc<RevocationLists>,
    every: Duration,
) -> Task {
    crate::adapter::periodic(every, REFRESH_WITHIN, move |deadline| {
        let (status, trust, lists) = (status.clone(), trust.clone(), lists.clone());
        async move {
            if let Err(e) = refresh_revocations(&status, trust.as_ref(), &lists, deadline).await {
                tracing::warn!(error = %e, "Guangdong revocation list not refreshed");
            }
        }
    })
}

//! Keeping Guangdong's revocation lists fresh: fetch the issuer's signed list from the region's
//! status service over the pinned connection and install it (the list's own signature is checked
//! against the registry, so the channel cannot add or drop serials).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use time::OffsetDateTime;

use crate::model::{CodeError, RegionCode};
use crate::net::wire::REVOCATIONS_PATH;
use crate::net::{NetError, StatusClient};
use crate::regions::guangdong::revocations::{MAX_LIST_LEN, RevocationLists};
use crate::trust::TrustView;

/// Why a refresh did not install a list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the revocation list was refused: {0}")]
    Invalid(#[from] CodeError),
}

/// A running refresher; dropping it stops the task.
pub struct RevocationRefresher {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RevocationRefresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StatusClient {
    /// The signed revocation list `region`'s service publishes, fetched by `deadline`.
    pub async fn fetch_revocation_list(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        deadline: Instant,
    ) -> Result<String, NetError> {
        let service = trust
            .status_service(region)
            .ok_or(NetError::NoService(region))?;
        let channel = self.channel(region, &service)?;
        let call = channel.request_limited(Method::GET, REVOCATIONS_PATH, None, MAX_LIST_LEN);
        let (status, body) =
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), call)
                .await
                .map_err(|_| NetError::Deadline)??;
        if status != StatusCode::OK {
            return Err(NetError::Status {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
        }
        String::from_utf8(body.to_vec()).map_err(|e| NetError::Garbage(e.to_string()))
    }

    /// Fetches Guangdong's list and installs it if it is newer; whether it was installed.
    pub async fn refresh_revocations(
        &self,
        trust: &dyn TrustView,
        lists: &RevocationLists,
        deadline: Instant,
    ) -> Result<bool, RefreshError> {
        let list = self
            .fetch_revocation_list(RegionCode::GUANGDONG, trust, deadline)
            .await?;
        Ok(lists.install(&list, trust, OffsetDateTime::now_utc())?)
    }

    /// Refreshes Guangdong's lists every `every` until dropped. A failed refresh keeps the list
    /// held and is logged; the adapter reports how old its list is.
    pub fn keep_revocations_fresh(
        &self,
        trust: Arc<dyn TrustView>,
        lists: Arc<RevocationLists>,
        every: Duration,
    ) -> RevocationRefresher {
        let client = self.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Runs until the refresher is dropped.
            loop {
                tick.tick().await;
                let deadline = Instant::now() + every.min(Duration::from_secs(10));
                if let Err(e) = client
                    .refresh_revocations(trust.as_ref(), &lists, deadline)
                    .await
                {
                    tracing::warn!(error = %e, "Guangdong revocation list not refreshed");
                }
            }
        });
        RevocationRefresher { task }
    }
}

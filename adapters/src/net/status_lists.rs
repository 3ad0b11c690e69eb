//! Fetching an issuer's signed status lists from its region's status service over the pinned
//! connection: the index of lists, then each list whole or as a delta since the held version.
//! The client only carries bytes: the receiving [`crate::status_list::ListArchive`] checks the
//! issuer's signature against the registry, so the channel cannot withdraw or restore a code.

use std::time::Instant;

use http::{Method, StatusCode};

use crate::model::RegionCode;
use crate::net::wire::{
    IndexedList, MAX_INDEXED_LISTS, STATUS_LIST_PATH, STATUS_LISTS_PATH, StatusListIndex,
};
use crate::net::{NetError, StatusClient};
use crate::status_list::MAX_CODES;
use crate::trust::TrustView;

/// Largest list answer read: a full list of [`MAX_CODES`] codes that does not compress at all,
/// plus its header.
pub const MAX_LIST_BYTES: usize = MAX_CODES as usize / 4 + 64 * 1024;
/// The index is a short JSON document.
const MAX_INDEX_BYTES: usize = 64 * 1024;

impl StatusClient {
    /// The lists `region`'s service publishes, by `deadline`.
    pub async fn fetch_status_list_index(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        deadline: Instant,
    ) -> Result<Vec<IndexedList>, NetError> {
        let (status, body) = self
            .get_bytes(region, trust, STATUS_LISTS_PATH, MAX_INDEX_BYTES, deadline)
            .await?;
        if status != StatusCode::OK {
            return Err(refused(status, &body));
        }
        let index: StatusListIndex =
            serde_json::from_slice(&body).map_err(|e| NetError::Garbage(e.to_string()))?;
        if index.lists.len() > MAX_INDEXED_LISTS {
            return Err(NetError::Garbage(format!(
                "{} lists indexed, at most {MAX_INDEXED_LISTS} are read",
                index.lists.len()
            )));
        }
        Ok(index.lists)
    }

    /// One list since the held `since` (`None`: the whole list): the signed bytes, or `None`
    /// when the service says `since` is current.
    pub async fn fetch_status_list(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        (issuer, list_id): (&str, u32),
        since: Option<u64>,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, NetError> {
        if !issuer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(NetError::Garbage(format!(
                "issuer id {issuer:?} is not one a status list path can name"
            )));
        }
        let mut path = format!("{STATUS_LIST_PATH}?issuer={issuer}&list={list_id}");
        if let Some(since) = since {
            path.push_str(&format!("&since={since}"));
        }
        let (status, body) = self
            .get_bytes(region, trust, &path, MAX_LIST_BYTES, deadline)
            .await?;
        match status {
            StatusCode::OK => Ok(Some(body)),
            StatusCode::NO_CONTENT => Ok(None),
            other => Err(refused(other, &body)),
        }
    }

    pub(crate) async fn get_bytes(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        path: &str,
        max_len: usize,
        deadline: Instant,
    ) -> Result<(StatusCode, Vec<u8>), NetError> {
        let service = trust
            .status_service(region)
            .ok_or(NetError::NoService(region))?;
        let channel = self.channel(region, &service)?;
        let call = channel.request_limited(Method::GET, path, None, max_len);
        let (status, body) =
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), call)
                .await
                .map_err(|_| NetError::Deadline)??;
        Ok((status, body.to_vec()))
    }
}

fn refused(status: StatusCode, body: &[u8]) -> NetError {
    NetError::Status {
        status: status.as_u16(),
        message: String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

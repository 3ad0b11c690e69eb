//! Where a node fetches each region's status lists from: the region's own service when this node
//! serves the region (or no node does), otherwise the node the registry lists for the region,
//! over the pinned peer connections (power of two choices, breakers, SPIFFE pin). The carrying
//! node only passes the issuer's signed bytes on; this node checks them against its own registry.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use huren_adapters::RegionCode;
use huren_adapters::net::StatusClient;
use huren_adapters::net::list_source::{ListFetchError, ListSource};
use huren_adapters::net::status_lists::MAX_LIST_BYTES;
use huren_adapters::net::wire::IndexedList;
use huren_adapters::status_list::ListKey;
use huren_adapters::trust::TrustView;
use huren_proto::v1::federation_service_client::FederationServiceClient;
use huren_proto::v1::{GetStatusListRequest, ListStatusListsRequest, get_status_list_response};
use tonic::transport::Channel;

use crate::federation::forward::serving_node;
use crate::federation::peers::{Peers, Routes};
use crate::registry_handle::SharedRegistry;

/// The node's list source: its status client for regions it serves, peers for the others.
pub struct CarriedLists {
    pub local: StatusClient,
    pub peers: Arc<Peers>,
    pub registry: SharedRegistry,
    pub this_node: String,
}

impl CarriedLists {
    /// The node carrying `region`'s lists, when it is another one.
    fn carrier(&self, region: RegionCode) -> Option<(Arc<Routes>, String)> {
        let registry = self.registry.current()?;
        let routes = self.peers.routes(&registry);
        let node = serving_node(&routes.index, &self.this_node, region)?.to_string();
        Some((routes, node))
    }
}

/// One FederationService call to `node` by `deadline` through the pinned peers; `rpc` makes it
/// on a client of the chosen replica.
async fn ask<Q, A, F, Fut>(
    peers: &Peers,
    (routes, node): &(Arc<Routes>, String),
    deadline: Instant,
    req: Q,
    rpc: F,
) -> Result<A, ListFetchError>
where
    Q: Clone,
    F: Fn(FederationServiceClient<Channel>, tonic::Request<Q>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<A>, tonic::Status>>,
{
    peers
        .call(routes, node, deadline, |channel, time_left| {
            let mut request = tonic::Request::new(req.clone());
            request.set_timeout(time_left);
            // A whole list that did not compress is larger than gRPC's default 4 MiB.
            let client = FederationServiceClient::new(channel)
                .max_decoding_message_size(MAX_LIST_BYTES + 1024);
            let answer = rpc(client, request);
            async move { answer.await.map(tonic::Response::into_inner) }
        })
        .await
        .map_err(|e| ListFetchError::Carrier(e.to_string()))
}

#[tonic::async_trait]
impl ListSource for CarriedLists {
    fn name(&self, region: RegionCode) -> String {
        match self.carrier(region) {
            Some((_, node)) => format!("node {node}"),
            None => self.local.name(region),
        }
    }

    async fn index(
        &self,
        region: RegionCode,
        trust: &dyn TrustView,
        deadline: Instant,
    ) -> Result<Vec<IndexedList>, ListFetchError> {
        let Some(carrier) = self.carrier(region) else {
            return self.local.index(region, trust, deadline).await;
        };
        let req = ListStatusListsRequest {
            issuing_region: region.to_string(),
        };
        let answer = ask(
            &self.peers,
            &carrier,
            deadline,
            req,
            |mut c, r| async move { c.list_status_lists(r).await },
        )
        .await?;
        Ok(answer
            .lists
            .into_iter()
            .map(|l| IndexedList {
                issuer: l.issuer_id,
                list_id: l.list_id,
                sequence: l.sequence,
            })
            .collect())
    }

    async fn fetch(
        &self,
        key: &ListKey,
        trust: &dyn TrustView,
        since: Option<u64>,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, ListFetchError> {
        let Some(carrier) = self.carrier(key.region) else {
            return self.local.fetch(key, trust, since, deadline).await;
        };
        let req = GetStatusListRequest {
            issuing_region: key.region.to_string(),
            issuer_id: key.issuer.clone(),
            list_id: key.list_id,
            since_sequence: since,
        };
        let answer = ask(
            &self.peers,
            &carrier,
            deadline,
            req,
            |mut c, r| async move { c.get_status_list(r).await },
        )
        .await?;
        use get_status_list_response::Answer;
        match answer.answer {
            Some(Answer::Current(_)) => Ok(None),
            Some(Answer::Delta(bytes) | Answer::Whole(bytes)) => Ok(Some(bytes)),
            None => Err(ListFetchError::Carrier(format!(
                "node {} sent an empty answer",
                carrier.1
            ))),
        }
    }
}

//! The prober's calls: a verification under a named verifying region at the node serving it
//! (province certificate), and a node's registry version (national certificate).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use huren::connect::connect;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_proto::v1::{GetRegistryRequest, Verification, VerifyCodeRequest};
use tonic::transport::Channel;

use crate::federation::NodeEntry;
use crate::report::status::CallError;

/// One verification's deadline: a checkpoint scan's, with room for a forwarded online read.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// What the audit log records as the purpose of the prober's reads.
pub const PURPOSE: &str = "reverse-test probe (synthetic person)";

/// The province certificate that asks under any region's rules; the dev PKI's Zhejiang one.
const PROVINCE: &str = "330000";

/// Channels to the federation's nodes, one per node and role, made when first needed.
pub struct Callers<'a> {
    pki: &'a Path,
    nodes: &'a [NodeEntry],
    open: BTreeMap<(String, &'static str), Channel>,
}

impl<'a> Callers<'a> {
    pub fn new(pki: &'a Path, nodes: &'a [NodeEntry]) -> Self {
        Self {
            pki,
            nodes,
            open: BTreeMap::new(),
        }
    }

    async fn channel(&mut self, node: &str, role: &'static str) -> anyhow::Result<Channel> {
        let key = (node.to_string(), role);
        if let Some(c) = self.open.get(&key) {
            return Ok(c.clone());
        }
        let entry = self
            .nodes
            .iter()
            .find(|n| n.node_id == node)
            .ok_or_else(|| anyhow::anyhow!("the federation has no node {node}"))?;
        let region = (role == "province").then_some(PROVINCE);
        let tls = crate::pki::client_tls(self.pki, role, region)?;
        let channel = connect(entry.listen, &tls).await?;
        self.open.insert(key, channel.clone());
        Ok(channel)
    }

    /// `payload` verified at `node` under `verifying`'s rules.
    pub async fn verify(
        &mut self,
        node: &str,
        verifying: &str,
        payload: &str,
    ) -> anyhow::Result<Verification> {
        let channel = self.channel(node, "province").await?;
        let mut request = tonic::Request::new(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: verifying.to_string(),
            purpose: PURPOSE.into(),
        });
        request.set_timeout(DEADLINE);
        let answer = RecognitionServiceClient::new(channel)
            .verify_code(request)
            .await
            .map_err(|s| CallError::context(&format!("VerifyCode at {node}"), s))?;
        answer
            .into_inner()
            .verification
            .ok_or_else(|| anyhow::anyhow!("VerifyCode at {node} answered no verification"))
    }

    /// The registry version `node` serves.
    pub async fn registry_version(&mut self, node: &str) -> anyhow::Result<u64> {
        let channel = self.channel(node, "national").await?;
        let mut request = tonic::Request::new(GetRegistryRequest {
            // Only the version is wanted. A delta keeps the answer small; asking from a version
            // newer than the node's is refused, so ask from the first.
            since_version: 1,
            since_tree_size: 0,
        });
        request.set_timeout(DEADLINE);
        let answer = RegistryServiceClient::new(channel)
            .get_registry(request)
            .await
            .map_err(|s| CallError::context(&format!("GetRegistry at {node}"), s))?;
        Ok(answer.into_inner().version)
    }
}

//! Scene 6: west restarted catches up with the registry version published while it was down,
//! and the checkpoint it now serves is shown with its cosignatures.

use huren_proto::v1::GetCheckpointRequest;
use huren_proto::v1::registry_service_client::RegistryServiceClient;

use super::{COSIGNING, Scene};
use crate::demo::check::{Checks, Timer};
use crate::report::status::CallError;

pub async fn run(
    scene: &mut Scene<'_>,
    published: Option<u64>,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let timer = Timer::start();
    scene.federation.restart_node("west").await?;
    println!("  west ready again in {}", timer.show());
    let at_west = scene.federation.channel("west", "national", None).await?;
    let summary = super::summary::ask(&at_west).await?;
    checks.expect(
        "west serves the registry version published while it was down",
        published.is_some_and(|v| summary.registry_version == v),
        format!(
            "west has version {}, published {published:?}",
            summary.registry_version
        ),
    );
    let national = scene
        .federation
        .channel("national", "national", None)
        .await?;
    let whole = super::summary::ask(&national).await?;
    checks.expect(
        "the national summary is whole again",
        !whole.partial && whole.nodes.len() == 4,
        format!("missing {:?}", whole.missing_nodes),
    );

    let checkpoint = RegistryServiceClient::new(at_west)
        .get_checkpoint(GetCheckpointRequest {})
        .await
        .map_err(|s| CallError::context("GetCheckpoint at west", s))?
        .into_inner()
        .checkpoint
        .unwrap_or_default();
    println!(
        "  west's checkpoint: {} size {} root {} with {} signatures",
        checkpoint.origin,
        checkpoint.tree_size,
        hex::encode(&checkpoint.root_hash),
        checkpoint.signatures.len()
    );
    let what = "the checkpoint is cosigned by k of the nodes' witness keys (C2SP cosignature/v1)";
    if COSIGNING {
        checks.expect(
            what,
            checkpoint.signatures.len() >= 3,
            "too few cosignatures",
        );
    } else {
        checks.pending(
            what,
            "nodes do not cosign yet: these are the publisher's log signature and the dev witnesses'",
        );
    }
    Ok(())
}

//! Scene 6: west restarted catches up over the network, from national, with the registry
//! version published while it was down (its own registry directory never saw it), and the
//! checkpoint it now serves is shown with the witnesses who cosigned it.

use std::time::Duration;

use huren_proto::v1::GetRegistryRequest;
use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_registry::SignedState;
use huren_registry::note::SignedNote;
use huren_registry::witness::Witnesses;
use tonic::transport::Channel;

use super::Scene;
use crate::demo::check::{Checks, Timer};
use crate::report::status::CallError;

/// How long west may take to catch up after it is ready: its first pull runs at start.
const CATCH_UP: Duration = Duration::from_secs(8);

pub async fn run(
    scene: &mut Scene<'_>,
    published: Option<u64>,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let timer = Timer::start();
    scene.federation.restart_node("west").await?;
    println!("  west ready again in {}", timer.show());
    let at_west = scene.federation.channel("west", "national", None).await?;
    let caught_up = Timer::start();
    let mut version = 0;
    while caught_up.elapsed() < CATCH_UP {
        version = super::summary::ask(&at_west).await?.registry_version;
        if published.is_some_and(|v| version >= v) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "  west follows national: registry version {version} in {} after it was ready",
        caught_up.show()
    );
    checks.expect(
        "west serves the registry version published while it was down",
        published.is_some_and(|v| version == v),
        format!("west has version {version}, published {published:?}"),
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

    let (size, root, threshold, cosigners) = cosigned_checkpoint(&at_west).await?;
    println!(
        "  west's checkpoint: size {size}, root {}…, cosigned by {} (k = {threshold})",
        root.get(..16).unwrap_or(&root),
        cosigners.join(", ")
    );
    let what = "the checkpoint is cosigned by k of the nodes' witness keys (C2SP cosignature/v1)";
    checks.expect(
        what,
        threshold > 0 && cosigners.len() >= threshold as usize,
        format!("{} cosigners, k = {threshold}", cosigners.len()),
    );
    Ok(())
}

/// The checkpoint west serves, verified as any node verifies it: its size, root hash (hex),
/// the root's k, and the listed witnesses whose cosignature verifies.
async fn cosigned_checkpoint(at: &Channel) -> anyhow::Result<(u64, String, u32, Vec<String>)> {
    let whole = RegistryServiceClient::new(at.clone())
        .get_registry(GetRegistryRequest::default())
        .await
        .map_err(|s| CallError::context("GetRegistry at west", s))?
        .into_inner();
    let state = SignedState::from_bytes(&whole.signed_state)?;
    let registry = huren_registry::verify_state(&state, None, time::OffsetDateTime::now_utc())?;
    let note = SignedNote::parse(registry.state().log.note.as_deref().unwrap_or_default())?;
    let witnesses = Witnesses::of_root(registry.root())?;
    let cosigners = witnesses.cosigned_by(&note)?.into_iter().collect();
    let cp = registry.checkpoint();
    Ok((
        cp.tree_size,
        cp.root_hash.clone(),
        witnesses.threshold,
        cosigners,
    ))
}

//! Scene 4: the national summary asked at national, fanned out to every node the registry
//! lists and merged; each region's adapter health as the node serving it reports it.

use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, GetNationalSummaryResponse};
use tonic::transport::Channel;

use super::{SCAN_DEADLINE, Scene};
use crate::demo::check::{Checks, Timer};
use crate::federation::layout::serving_node;
use crate::report::names;
use crate::report::status::CallError;

pub async fn run(scene: &mut Scene<'_>, judged: u64, checks: &mut Checks) -> anyhow::Result<()> {
    let channel = scene
        .federation
        .channel("national", "national", None)
        .await?;
    let timer = Timer::start();
    let summary = ask(&channel).await?;
    let counted: u64 = summary.verifications.iter().map(|v| v.count).sum();
    println!(
        "  merged from nodes {} in {}: {counted} decisions counted",
        summary.nodes.join(", "),
        timer.show()
    );
    let mut table = crate::report::Table::new(["region", "", "reported by", "health"]);
    for h in &summary.region_health {
        table.row([
            h.region.clone(),
            names::region(&h.region).to_string(),
            serving_node(&h.region).map_or("-", |n| n.id).to_string(),
            names::health(h.health).to_string(),
        ]);
    }
    print!("{}", super::reads::indent(&table.to_string()));
    checks.expect(
        "all four nodes answered: the summary is whole",
        summary.nodes.len() == 4 && !summary.partial,
        format!(
            "nodes {:?}, missing {:?}",
            summary.nodes, summary.missing_nodes
        ),
    );
    checks.expect(
        "every decision made at zhejiang and west is counted",
        counted >= judged,
        format!("{counted} counted, {judged} made"),
    );
    Ok(())
}

/// GetNationalSummary with a scan's deadline.
pub async fn ask(channel: &Channel) -> anyhow::Result<GetNationalSummaryResponse> {
    let mut request = tonic::Request::new(GetNationalSummaryRequest::default());
    request.set_timeout(SCAN_DEADLINE);
    Ok(CoordinationServiceClient::new(channel.clone())
        .get_national_summary(request)
        .await
        .map_err(|s| CallError::context("GetNationalSummary", s))?
        .into_inner())
}

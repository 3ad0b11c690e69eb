//! What each role may not do — one refused call per role, answered PERMISSION_DENIED by the
//! authorisation layer with a stable `ErrorInfo` reason before any handler runs — and what each
//! role was told.

use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    CheckManifestRequest, GetNationalSummaryRequest, Manifest, VerifyCodeRequest,
};

use super::check::Checks;
use crate::loopback::stack::Stack;
use crate::report::Table;
use crate::report::status::{code_name, reason};

pub async fn run(stack: &Stack, checks: &mut Checks) -> anyhow::Result<()> {
    let verify = |region: &str| VerifyCodeRequest {
        payload: "TFJKT1.x.y".into(),
        verifying_region: region.into(),
        purpose: "demo".into(),
    };
    let mut refusals: Vec<(&str, &str, Result<(), tonic::Status>)> = Vec::new();

    let mut checkpoint = ManifestsServiceClient::new(stack.channel("checkpoint", None).await?);
    let r = checkpoint
        .check_manifest(CheckManifestRequest {
            manifest: Some(Manifest {
                destination_region: "330000".into(),
                ..Manifest::default()
            }),
        })
        .await;
    refusals.push(("checkpoint 330110", "CheckManifest", r.map(drop)));

    let mut checkpoint = RecognitionServiceClient::new(stack.channel("checkpoint", None).await?);
    let r = checkpoint.verify_code(verify("510000")).await;
    refusals.push((
        "checkpoint 330110",
        "VerifyCode under Sichuan's rules",
        r.map(drop),
    ));

    let mut carrier = RecognitionServiceClient::new(stack.channel("carrier", None).await?);
    let r = carrier.verify_code(verify("")).await;
    refusals.push(("carrier 510000", "VerifyCode", r.map(drop)));

    let mut province =
        CoordinationServiceClient::new(stack.channel("province", Some("410000")).await?);
    let r = province
        .get_national_summary(GetNationalSummaryRequest::default())
        .await;
    refusals.push(("province 410000", "GetNationalSummary", r.map(drop)));

    let mut national = RecognitionServiceClient::new(stack.channel("national", None).await?);
    let r = national.verify_code(verify("")).await;
    refusals.push(("national 000000", "VerifyCode", r.map(drop)));

    let mut t = Table::new(["caller", "asks", "answer", "reason"]);
    let mut all_denied = true;
    for (who, what, result) in &refusals {
        let (code, why) = match result {
            Ok(()) => ("OK".to_string(), "-".to_string()),
            Err(s) => (
                code_name(s.code()).to_string(),
                reason(s).unwrap_or_default(),
            ),
        };
        all_denied &= code == "PERMISSION_DENIED" && !why.is_empty();
        t.row([who.to_string(), what.to_string(), code, why]);
    }
    print!("{t}");
    checks.expect(
        "every role refused outside its job: PERMISSION_DENIED with an ErrorInfo reason",
        all_denied,
        "a call was answered or refused otherwise",
    );
    Ok(())
}

/// What each role was allowed to see, as the scenarios found it.
pub fn print_visibility(stack: &Stack, checks: &Checks) {
    println!("\nwho saw what");
    let mut t = Table::new(["role", "certificate (SPIFFE id)", "may ask", "was shown"]);
    let rows = [
        ("checkpoint", None, "VerifyCode(s), own province's rules"),
        ("carrier", None, "Check/WatchManifest"),
        ("province", Some("410000"), "VerifyCode(s), ConfirmWorkers"),
        ("national", None, "GetNationalSummary, ListRegions"),
    ];
    for (role, region, asks) in rows {
        let id = stack
            .regions
            .manifest
            .client(role, region)
            .map(|c| c.spiffe_id.clone())
            .unwrap_or_default();
        let shown = checks.seen(role).unwrap_or("(not reached)");
        t.row([role, &id, asks, shown]);
    }
    print!("{t}");
    println!(
        "  resident ID numbers: in no answer checked (a, b); only the issuing region's adapter handles one"
    );
}

//! Scene 7, a passenger without a phone (无码人员): an elderly Sichuan resident with no code to
//! show is looked up by ID card at the Yuhang checkpoint (330110) at zhejiang; the lookup goes to
//! west, which serves Sichuan, and the answer names nobody by ID number. A misread number and a
//! Hubei household, whose region has no lookup service, show the two other answers.

use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_proto::v1::lookup_service_client::LookupServiceClient;
use huren_proto::v1::{LookupPersonRequest, StatusSource, Verdict, Verification};
use prost::Message;
use tonic::transport::Channel;

use super::{SCAN_DEADLINE, Scene};
use crate::demo::check::Checks;
use crate::federation::issue::{KNOWN_AFTER, issue_code};
use crate::report::names;

/// A Chengdu (510104) grandmother born in March 1943, and a Wuhan (420102) grandfather.
const SICHUAN_ELDER: (&str, &str) = ("51010419430312062", "李秀英");
const HUBEI_ELDER: (&str, &str) = ("42010219410807031", "陈国强");

/// Scene 7.
pub async fn run(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<()> {
    let elder = ResidentId::from_first17(SICHUAN_ELDER.0)?;
    // Her family registered her 天府健康通 in 2020; she carries her ID card, not a phone.
    issue_code(
        &scene.dir,
        RegionCode::SICHUAN,
        &elder,
        SICHUAN_ELDER.1,
        Colour::Green,
    )?;
    tokio::time::sleep(KNOWN_AFTER).await;
    let channel = scene
        .federation
        .channel("zhejiang", "checkpoint", Some("330110"))
        .await?;

    let v = lookup(&channel, elder.expose(), SICHUAN_ELDER.1).await?;
    let v = v.map_err(|s| anyhow::anyhow!("LookupPerson: {}", s.message()))?;
    println!(
        "  huren lookup --id {} --name {}: {} {}, {} by node {}",
        elder.masked(),
        SICHUAN_ELDER.1,
        names::verdict(v.verdict),
        v.subject.as_ref().map_or("", |s| s.masked_name.as_str()),
        names::source(v.source),
        v.forwarded_by
    );
    checks.expect(
        "the Sichuan grandmother's lookup by ID card at zhejiang is forwarded to west and passes",
        v.verdict() == Verdict::Pass
            && v.source() == StatusSource::Forwarded
            && v.forwarded_by == "west",
        format!("{v:?}"),
    );
    let bytes = v.encode_to_vec();
    checks.expect(
        "the answer carries her masked name and never her ID number",
        !bytes
            .windows(elder.expose().len())
            .any(|w| w == elder.expose().as_bytes()),
        "the ID number is in the answer",
    );

    let mut misread = elder.expose()[..17].to_string();
    misread.push(if elder.expose().ends_with('1') {
        '2'
    } else {
        '1'
    });
    let refused = lookup(&channel, &misread, SICHUAN_ELDER.1).await?;
    let refusal = refused.as_ref().err().map(|s| (s.code(), s.message()));
    println!(
        "  a misread check digit: {}",
        refusal.map_or("answered".to_string(), |(c, m)| format!("{c:?}: {m}"))
    );
    checks.expect(
        "a misread number is INVALID_ARGUMENT and says to read the card again",
        refusal.is_some_and(|(c, m)| c == tonic::Code::InvalidArgument && m.contains("again")),
        format!("{refused:?}"),
    );

    let hubei = ResidentId::from_first17(HUBEI_ELDER.0)?;
    let v = lookup(&channel, hubei.expose(), HUBEI_ELDER.1).await?;
    let v = v.map_err(|s| anyhow::anyhow!("LookupPerson: {}", s.message()))?;
    println!(
        "  a Wuhan household (420102), whose region has no lookup service: {} {}",
        names::verdict(v.verdict),
        v.reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    checks.expect(
        "a household region with no lookup service is REVIEW (NO_LOOKUP_SERVICE), never a guess",
        v.verdict() == Verdict::Review && v.reasons.iter().any(|r| r.code == "NO_LOOKUP_SERVICE"),
        format!("{v:?}"),
    );
    Ok(())
}

/// One lookup with a checkpoint's deadline; a refusal is the scene's to judge.
async fn lookup(
    channel: &Channel,
    id: &str,
    name: &str,
) -> anyhow::Result<Result<Verification, tonic::Status>> {
    let mut request = tonic::Request::new(LookupPersonRequest {
        resident_id_number: id.to_string(),
        name: name.to_string(),
        verifying_region: String::new(),
        purpose: "federation-demo: passenger without a phone".into(),
    });
    request.set_timeout(SCAN_DEADLINE);
    Ok(LookupServiceClient::new(channel.clone())
        .lookup_person(request)
        .await
        .map(|r| r.into_inner().verification)
        .and_then(|v| {
            v.ok_or_else(|| tonic::Status::internal("LookupPerson answered without a verification"))
        }))
}

//! Reading an online region's code: the QR holds only a code id; the status service knows the rest.

use crate::adapter::{LookupQuery, ReadContext, RegionAdapter};
use crate::codec::CodeId;
use crate::model::{CodeError, NativeReading, ReadOutcome, RegionCode, ResidentId};
use crate::scan::ScannedUrl;

/// Takes the code id, and the city when the URL names one, out of a payload.
pub type ParseUrl = fn(&str) -> Result<(CodeId, Option<RegionCode>), CodeError>;

/// The region's own payload for a URL a person scanned or pasted, when it is one of the region's.
pub type PayloadInUrl = fn(&ScannedUrl) -> Option<String>;

/// An online region's adapter: its URL prefix and how to take the code id (and city, if the URL
/// carries one) out of a payload; the status service answers everything else.
pub struct OnlineAdapter {
    pub region: RegionCode,
    pub prefix: &'static str,
    pub parse: ParseUrl,
    pub payload_in_url: PayloadInUrl,
}

#[async_trait::async_trait]
impl RegionAdapter for OnlineAdapter {
    fn region(&self) -> RegionCode {
        self.region
    }

    fn prefix(&self) -> &'static str {
        self.prefix
    }

    fn payload_in_url(&self, url: &ScannedUrl) -> Option<String> {
        (self.payload_in_url)(url)
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<ReadOutcome, CodeError> {
        let (code_id, city) = (self.parse)(payload)?;
        read_code(self.region, code_id, city, ctx).await
    }

    async fn read_resident(
        &self,
        id: &ResidentId,
        name: &str,
        ctx: &ReadContext<'_>,
    ) -> Result<ReadOutcome, CodeError> {
        read_resident(self.region, id, name, ctx).await
    }
}

/// Asks `region`'s status service about `code_id`. The code id becomes the person's handle in
/// the region, since online services return only a masked name.
async fn read_code(
    region: RegionCode,
    code_id: CodeId,
    city: Option<RegionCode>,
    ctx: &ReadContext<'_>,
) -> Result<ReadOutcome, CodeError> {
    let query = LookupQuery::CodeId {
        code_id: code_id.as_str().to_string(),
        city: city.map(|c| c.to_string()),
    };
    let mut outcome = ctx.ask(region, &query).await?;
    let subject = match &mut outcome {
        ReadOutcome::Read(reading) => {
            check_region(region, reading)?;
            &mut reading.subject
        }
        ReadOutcome::Degraded(degraded) => &mut degraded.subject,
    };
    if subject.region_handle.is_none() {
        subject.region_handle = Some(code_id.to_string());
    }
    Ok(outcome)
}

/// Asks `region`'s status service about one of its residents (转码互认).
pub(crate) async fn read_resident(
    region: RegionCode,
    id: &ResidentId,
    name: &str,
    ctx: &ReadContext<'_>,
) -> Result<ReadOutcome, CodeError> {
    let query = LookupQuery::Resident {
        id: id.clone(),
        name: name.to_string(),
    };
    let outcome = ctx.ask(region, &query).await?;
    if let ReadOutcome::Read(reading) = &outcome {
        check_region(region, reading)?;
    }
    Ok(outcome)
}

/// A lookup client that answers for another region is a wiring bug, never a status.
fn check_region(region: RegionCode, reading: &NativeReading) -> Result<(), CodeError> {
    if reading.region.province() != region {
        return Err(CodeError::Malformed {
            region,
            detail: format!("status service answered for region {}", reading.region),
        });
    }
    Ok(())
}

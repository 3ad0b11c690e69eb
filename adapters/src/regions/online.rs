//! Reading an online region's code: the QR holds only a code id; the status service knows the rest.

use crate::adapter::{LookupQuery, ReadContext, RegionAdapter};
use crate::codec::CodeId;
use crate::model::{CodeError, NativeReading, RegionCode, ResidentId};

/// Takes the code id, and the city when the URL names one, out of a payload.
pub type ParseUrl = fn(&str) -> Result<(CodeId, Option<RegionCode>), CodeError>;

/// An online region's adapter: its URL prefix and how to take the code id (and city, if the URL
/// carries one) out of a payload; the status service answers everything else.
pub struct OnlineAdapter {
    pub region: RegionCode,
    pub prefix: &'static str,
    pub parse: ParseUrl,
}

#[async_trait::async_trait]
impl RegionAdapter for OnlineAdapter {
    fn region(&self) -> RegionCode {
        self.region
    }

    fn prefix(&self) -> &'static str {
        self.prefix
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<NativeReading, CodeError> {
        let (code_id, city) = (self.parse)(payload)?;
        read_code(self.region, code_id, city, ctx).await
    }

    async fn read_resident(
        &self,
        id: &ResidentId,
        name: &str,
        ctx: &ReadContext<'_>,
    ) -> Result<NativeReading, CodeError> {
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
) -> Result<NativeReading, CodeError> {
    let query = LookupQuery::CodeId {
        code_id: code_id.as_str().to_string(),
        city: city.map(|c| c.to_string()),
    };
    let mut reading = ctx.lookup.lookup(region, &query, ctx).await?;
    check_region(region, &reading)?;
    if reading.subject.region_handle.is_none() {
        reading.subject.region_handle = Some(code_id.to_string());
    }
    Ok(reading)
}

/// Asks `region`'s status service about one of its residents (转码互认).
pub(crate) async fn read_resident(
    region: RegionCode,
    id: &ResidentId,
    name: &str,
    ctx: &ReadContext<'_>,
) -> Result<NativeReading, CodeError> {
    let query = LookupQuery::Resident {
        id: id.clone(),
        name: name.to_string(),
    };
    let reading = ctx.lookup.lookup(region, &query, ctx).await?;
    check_region(region, &reading)?;
    Ok(reading)
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

//! Regions whose code is nothing but a signed token (Hunan, Hubei, national): the format is the adapter.

use crate::adapter::{ReadContext, RegionAdapter};
use crate::codec::SignedFormat;
use crate::model::{CodeError, ReadOutcome, RegionCode};

#[async_trait::async_trait]
impl RegionAdapter for SignedFormat {
    fn region(&self) -> RegionCode {
        self.region
    }

    fn prefix(&self) -> &'static str {
        self.prefix
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<ReadOutcome, CodeError> {
        Ok(ReadOutcome::Read(
            self.reading(SignedFormat::read(self, payload, ctx)?),
        ))
    }
}

//! Reading a national summary: how many decisions it counts on codes one region issued.

use crate::v1::GetNationalSummaryResponse;

impl GetNationalSummaryResponse {
    /// Decisions on codes issued in `region` (its six-digit code), over every verifying region,
    /// colour, verdict and source the summary splits them by.
    pub fn decisions_issued_in(&self, region: &str) -> u64 {
        self.verifications
            .iter()
            .filter(|v| v.issuing_region == region)
            .map(|v| v.count)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use crate::v1::{GetNationalSummaryResponse, VerificationCount};

    fn row(verifying: &str, issuing: &str, count: u64) -> VerificationCount {
        VerificationCount {
            verifying_region: verifying.into(),
            issuing_region: issuing.into(),
            count,
            ..VerificationCount::default()
        }
    }

    #[test]
    fn only_the_issuing_regions_rows_are_summed_whoever_verified() {
        let summary = GetNationalSummaryResponse {
            verifications: vec![
                row("330000", "410000", 2),
                row("510000", "410000", 3),
                row("410000", "330000", 7),
            ],
            ..GetNationalSummaryResponse::default()
        };
        assert_eq!(summary.decisions_issued_in("410000"), 5);
        assert_eq!(summary.decisions_issued_in("330000"), 7);
        assert_eq!(summary.decisions_issued_in("440000"), 0);
    }
}

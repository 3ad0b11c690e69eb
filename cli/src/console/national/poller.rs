//! Asks the gateway for the national summary every few seconds, as the national caller: the
//! window's totals for the matrix, routes and health, and one-minute windows for the series.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use huren::recognition::wire::timestamp;
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, GetNationalSummaryResponse};
use time::OffsetDateTime;
use tonic::transport::Channel;

use super::history::{History, MINUTES, Minute};
use crate::cli::client::CallerArgs;
use crate::report::status;

/// What the dashboard shows: the latest answers and when they came.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The summary over the whole window.
    pub totals: Option<GetNationalSummaryResponse>,
    pub history: History,
    /// Minutes since the epoch of the last poll that answered.
    pub now_minute: i64,
    pub polled_at: Option<OffsetDateTime>,
    /// Why the last poll failed; `None` when it answered.
    pub error: Option<String>,
}

pub struct Poller {
    pub channel: Channel,
    pub caller: CallerArgs,
    /// How far back the totals reach.
    pub window: time::Duration,
    pub every: Duration,
    pub snapshot: Arc<RwLock<Snapshot>>,
}

impl Poller {
    /// Polls until the process ends; a failed poll is shown on the page and retried.
    pub async fn run(self) {
        loop {
            let result = self.poll_once().await;
            {
                let mut snap = self
                    .snapshot
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                snap.error = result.err();
            }
            tokio::time::sleep(self.every).await;
        }
    }

    /// One round: the totals, then every minute of the hour not seen yet, and again the current
    /// and the previous minute, whose counts may have grown since the last round.
    pub async fn poll_once(&self) -> Result<(), String> {
        let now = OffsetDateTime::now_utc();
        let totals = self.summary(now - self.window, now).await?;
        let now_minute = now.unix_timestamp().div_euclid(60);
        let missing: Vec<i64> = {
            let snap = self.read();
            (now_minute - MINUTES + 1..=now_minute)
                .filter(|m| *m >= now_minute - 1 || !snap.history.has(*m))
                .collect()
        };
        let mut fetched = Vec::with_capacity(missing.len());
        for minute in missing {
            let start =
                OffsetDateTime::from_unix_timestamp(minute * 60).map_err(|e| e.to_string())?;
            let summary = self.summary(start, start + time::Duration::MINUTE).await?;
            fetched.push((minute, Minute::of_summary(&summary)));
        }
        let mut snap = self
            .snapshot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (minute, counts) in fetched {
            snap.history.record(minute, counts);
        }
        snap.totals = Some(totals);
        snap.now_minute = now_minute;
        snap.polled_at = Some(now);
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn summary(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<GetNationalSummaryResponse, String> {
        let mut client = CoordinationServiceClient::new(self.channel.clone());
        client
            .get_national_summary(self.caller.request(GetNationalSummaryRequest {
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(end)),
                window: None,
            }))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| format!("GetNationalSummary: {}", status::describe(&s)))
    }
}

//! The API's enums as short words a person reads in a table.

use huren_proto::v1::{AdapterHealth, Boarding, Colour, StatusSource, Verdict};

pub fn verdict(v: i32) -> &'static str {
    match Verdict::try_from(v) {
        Ok(Verdict::Pass) => "PASS",
        Ok(Verdict::HomeQuarantine) => "HOME_QUARANTINE",
        Ok(Verdict::CentralQuarantine) => "CENTRAL_QUARANTINE",
        Ok(Verdict::Review) => "REVIEW",
        Ok(Verdict::Reject) => "REJECT",
        _ => "-",
    }
}

pub fn colour(c: i32) -> &'static str {
    match Colour::try_from(c) {
        Ok(Colour::Green) => "GREEN",
        Ok(Colour::Yellow) => "YELLOW",
        Ok(Colour::Red) => "RED",
        Ok(Colour::Pending) => "PENDING",
        Ok(Colour::Unknown) => "UNKNOWN",
        _ => "-",
    }
}

pub fn source(s: i32) -> &'static str {
    match StatusSource::try_from(s) {
        Ok(StatusSource::Online) => "ONLINE",
        Ok(StatusSource::OfflineSigned) => "OFFLINE_SIGNED",
        Ok(StatusSource::Cached) => "CACHED",
        Ok(StatusSource::Degraded) => "DEGRADED",
        Ok(StatusSource::Forwarded) => "FORWARDED",
        _ => "-",
    }
}

pub fn boarding(b: i32) -> &'static str {
    match Boarding::try_from(b) {
        Ok(Boarding::Board) => "BOARD",
        Ok(Boarding::Deny) => "DENY",
        Ok(Boarding::Review) => "REVIEW",
        _ => "-",
    }
}

pub fn health(h: i32) -> &'static str {
    match AdapterHealth::try_from(h) {
        Ok(AdapterHealth::Healthy) => "HEALTHY",
        Ok(AdapterHealth::Degraded) => "DEGRADED",
        Ok(AdapterHealth::Down) => "DOWN",
        Ok(AdapterHealth::Offline) => "OFFLINE",
        // A fanned-out answer whose serving node did not answer.
        Ok(AdapterHealth::Unspecified) => "UNKNOWN",
        _ => "-",
    }
}

/// English name of a dev region code, for reports.
pub fn region(code: &str) -> &'static str {
    match code {
        "330000" => "Zhejiang",
        "330100" => "Hangzhou",
        "330110" => "Yuhang",
        "440000" => "Guangdong",
        "510000" => "Sichuan",
        "430000" => "Hunan",
        "410000" => "Henan",
        "420000" => "Hubei",
        "000000" => "national",
        _ => "",
    }
}

/// A timestamp as RFC 3339 to the second with its offset, in the zone tables show (the local
/// one unless `--utc`), or "-" in a table cell that has none.
pub fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.seconds).ok())
        .map(super::lang::local)
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "-".to_string())
}

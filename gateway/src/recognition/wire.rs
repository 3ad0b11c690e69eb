//! Domain values as `huren.v1` wire values: colours, verdicts, sources, times, reasons.

use huren_adapters::{Colour, Source};
use huren_proto::v1;
use huren_registry::Verdict;
use time::OffsetDateTime;

/// The wire's timestamp type, for callers without a `prost-types` dependency of their own.
pub use prost_types::Timestamp;

use crate::recognition::engine::Reason;

pub fn colour(c: Colour) -> v1::Colour {
    match c {
        Colour::Green => v1::Colour::Green,
        Colour::Yellow => v1::Colour::Yellow,
        Colour::Red => v1::Colour::Red,
        Colour::Pending => v1::Colour::Pending,
        Colour::Unknown => v1::Colour::Unknown,
    }
}

pub fn verdict(v: Verdict) -> v1::Verdict {
    match v {
        Verdict::Pass => v1::Verdict::Pass,
        Verdict::HomeQuarantine => v1::Verdict::HomeQuarantine,
        Verdict::CentralQuarantine => v1::Verdict::CentralQuarantine,
        Verdict::Review => v1::Verdict::Review,
        Verdict::Reject => v1::Verdict::Reject,
    }
}

pub fn source(s: Source) -> v1::StatusSource {
    match s {
        Source::Online => v1::StatusSource::Online,
        Source::OfflineSigned => v1::StatusSource::OfflineSigned,
        Source::Cached => v1::StatusSource::Cached,
        Source::Degraded => v1::StatusSource::Degraded,
    }
}

pub fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.unix_timestamp(),
        nanos: i32::try_from(t.nanosecond()).unwrap_or(0),
    }
}

/// A wire timestamp as a time; `None` when it is out of range (a client's garbage).
pub fn from_timestamp(t: &prost_types::Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos.clamp(0, 999_999_999));
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

pub fn reason(r: &Reason) -> v1::Reason {
    v1::Reason {
        code: r.code.as_str().to_string(),
        message: r.message.clone(),
    }
}

/// An envelope on the wire (proto) and as the registry crate signs and checks it.
pub fn envelope(env: &huren_registry::Envelope) -> v1::SignedEnvelope {
    v1::SignedEnvelope {
        payload_type: env.payload_type.clone(),
        payload: env.payload.clone(),
        signatures: env
            .signatures
            .iter()
            .map(|s| v1::EnvelopeSignature {
                key_id: s.key_id.0.clone(),
                signature: s.signature.clone(),
            })
            .collect(),
    }
}

pub fn from_envelope(env: &v1::SignedEnvelope) -> huren_registry::Envelope {
    huren_registry::Envelope {
        payload_type: env.payload_type.clone(),
        payload: env.payload.clone(),
        signatures: env
            .signatures
            .iter()
            .map(|s| huren_registry::envelope::Signature {
                key_id: huren_registry::KeyId(s.key_id.clone()),
                signature: s.signature.clone(),
            })
            .collect(),
    }
}

//! Answers as JSON for `--json`, in the proto3 JSON mapping grpcurl prints: lowerCamel field
//! names, full enum value names (`VERDICT_PASS`), RFC 3339 times, absent fields left out.
//!
//! The messages are transcoded through the descriptor set protox compiled with the API, so the
//! names are the .proto file's own and a new field shows up without a change here.

use std::sync::OnceLock;

use huren_proto::v1::{
    Appeal, CheckManifestResponse, ConfirmWorkersResponse, GetNationalSummaryResponse,
    ListAppealsResponse, Verification, WatchManifestResponse,
};
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;

/// A message the API defines, with its fully qualified proto name.
pub trait ProtoMessage: prost::Message + Sized {
    const NAME: &'static str;
}

macro_rules! proto_names {
    ($($ty:ident),* $(,)?) => {
        $(impl ProtoMessage for $ty {
            const NAME: &'static str = concat!("huren.v1.", stringify!($ty));
        })*
    };
}

proto_names!(
    Verification,
    CheckManifestResponse,
    WatchManifestResponse,
    ConfirmWorkersResponse,
    GetNationalSummaryResponse,
    Appeal,
    ListAppealsResponse,
);

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(huren_proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

/// `message` in the proto3 JSON mapping. The descriptor set is compiled into the binary, so a
/// failure here is a build defect; it is shown as a JSON error rather than a panic.
pub fn proto<M: ProtoMessage>(message: &M) -> Value {
    let transcoded = pool()
        .and_then(|pool| pool.get_message_by_name(M::NAME))
        .ok_or_else(|| format!("{} is not in the compiled descriptor set", M::NAME))
        .and_then(|descriptor| {
            DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
                .map_err(|e| e.to_string())
        })
        .and_then(|dynamic| {
            dynamic
                .serialize_with_options(
                    serde_json::value::Serializer,
                    &SerializeOptions::new().stringify_64_bit_integers(true),
                )
                .map_err(|e| e.to_string())
        });
    transcoded.unwrap_or_else(|error| serde_json::json!({ "error": error }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_proto::v1::{CanonicalStatus, Colour, Verdict};

    #[test]
    fn fields_are_lower_camel_enums_full_names_and_times_rfc3339() {
        let v = Verification {
            verdict: Verdict::Pass as i32,
            verifying_region: "330000".into(),
            registry_version: 7,
            status: Some(CanonicalStatus {
                colour: Colour::Green as i32,
                issuing_region: "440000".into(),
                expire_time: Some(prost_types::Timestamp {
                    seconds: 1_582_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = proto(&v);
        assert_eq!(json["verdict"], "VERDICT_PASS");
        assert_eq!(json["verifyingRegion"], "330000");
        assert_eq!(json["registryVersion"], "7");
        assert_eq!(json["status"]["colour"], "COLOUR_GREEN");
        assert_eq!(json["status"]["expireTime"], "2020-02-18T04:26:40Z");
        // Absent is absent, not a placeholder.
        assert!(json["status"].get("refreshTime").is_none(), "{json}");
        assert!(json.get("subject").is_none(), "{json}");
    }
}

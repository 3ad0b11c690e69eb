//! A region's "this code is no good" across the node boundary: the serving node's lookup error
//! as a `RefusedRead`, and back into the same error at the entry node, so a forwarded unknown or
//! revoked code is judged as a local one is.

use huren_adapters::{CodeError, RegionCode};
use huren_proto::v1::RefusedRead;

const UNKNOWN_CODE: &str = "UNKNOWN_CODE";
const CODE_REVOKED: &str = "CODE_REVOKED";
const MALFORMED: &str = "MALFORMED";
const UNSUPPORTED: &str = "UNSUPPORTED";

/// The wire form of a lookup error at the serving node.
pub fn to_wire(e: &CodeError) -> RefusedRead {
    let (reason, serial, detail) = match e {
        CodeError::UnknownCode => (UNKNOWN_CODE, String::new(), e.to_string()),
        CodeError::CodeRevoked { serial, reason } => (CODE_REVOKED, serial.clone(), reason.clone()),
        CodeError::Unsupported(why) => (UNSUPPORTED, String::new(), why.clone()),
        // Everything else a lookup can say is about the question's form.
        _ => (MALFORMED, String::new(), e.to_string()),
    };
    RefusedRead {
        reason: reason.to_string(),
        detail,
        serial,
    }
}

/// The lookup error a `RefusedRead` from node `node_id` stands for at the entry node.
pub fn from_wire(r: &RefusedRead, region: RegionCode, node_id: &str) -> CodeError {
    match r.reason.as_str() {
        UNKNOWN_CODE => CodeError::UnknownCode,
        CODE_REVOKED => CodeError::CodeRevoked {
            serial: r.serial.clone(),
            reason: r.detail.clone(),
        },
        UNSUPPORTED => CodeError::Unsupported(r.detail.clone()),
        _ => CodeError::Malformed {
            region,
            detail: format!("{} (as node {node_id} reported)", r.detail),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_crosses_the_boundary_as_the_same_error() {
        let region = RegionCode::HENAN;
        for e in [
            CodeError::UnknownCode,
            CodeError::CodeRevoked {
                serial: "ha-7".into(),
                reason: "reissued".into(),
            },
            CodeError::Unsupported("no lookup by ID".into()),
        ] {
            assert_eq!(from_wire(&to_wire(&e), region, "west"), e);
        }
        let malformed = CodeError::Malformed {
            region,
            detail: "bad city".into(),
        };
        assert!(matches!(
            from_wire(&to_wire(&malformed), region, "west"),
            CodeError::Malformed { .. }
        ));
    }
}

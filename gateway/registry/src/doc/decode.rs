//! Reading a document out of its envelope: the payload type, the canonical bytes and the name
//! must all say the same document.

use crate::canonical;
use crate::envelope::Envelope;
use crate::error::{DocumentError, VerifyError};

use super::{
    AGREEMENT_PREFIX, Agreement, Document, REGION_PREFIX, ROOT, RegionDocument, Root, TIMESTAMP,
    Timestamp,
};

/// Decodes a document envelope of type `T` that must be called `name`.
pub fn decode<T: Document>(name: &str, env: &Envelope) -> Result<T, VerifyError> {
    if env.payload_type != T::PAYLOAD_TYPE {
        return Err(DocumentError::WrongPayloadType {
            document: name.to_string(),
            expected: T::PAYLOAD_TYPE,
            found: env.payload_type.clone(),
        }
        .into());
    }
    let doc: T = canonical::decode(&env.payload).map_err(|source| DocumentError::Encoding {
        document: name.to_string(),
        source,
    })?;
    if doc.name() != name {
        return Err(DocumentError::NameMismatch {
            document: name.to_string(),
            found: doc.name(),
        }
        .into());
    }
    Ok(doc)
}

/// The version inside a document envelope, whatever its kind.
pub fn document_version(name: &str, env: &Envelope) -> Result<u64, VerifyError> {
    Ok(if name == ROOT {
        decode::<Root>(name, env)?.version
    } else if name.starts_with(REGION_PREFIX) {
        decode::<RegionDocument>(name, env)?.version
    } else if name.starts_with(AGREEMENT_PREFIX) {
        decode::<Agreement>(name, env)?.version
    } else if name == TIMESTAMP {
        decode::<Timestamp>(name, env)?.version
    } else {
        return Err(DocumentError::UnknownDocument {
            document: name.to_string(),
        }
        .into());
    })
}

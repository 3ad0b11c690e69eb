//! The issuing side of the signed formats: what a region's service signs into a QR payload.

use time::OffsetDateTime;

use crate::codec::{Claims, IssuerSigner};
use crate::model::{CodeError, Colour, RegionCode, ResidentId};
use crate::regions;
use crate::vocabulary;

/// The status to put in a code: the region's own word, or a canonical colour that the region's
/// vocabulary ([`crate::vocabulary`]) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueStatus {
    Label(String),
    Colour(Colour),
}

/// One code to issue.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub id: ResidentId,
    pub name: String,
    pub status: IssueStatus,
    pub valid_until: OffsetDateTime,
    /// The issuer's serial for this code; Guangdong's revocation list names codes by it.
    pub serial: u64,
    /// Hubei only: the holder's last check-in (defaults to the signing time).
    pub checked_in_at: Option<OffsetDateTime>,
    /// A v2 code: its entry in the issuer's status lists, written as the serial (which `serial`
    /// then does not give). `None`: a v1 code, withdrawn only by expiry (or Guangdong's
    /// revocation list).
    pub status_ref: Option<crate::status_list::StatusRef>,
}

impl IssueRequest {
    /// A request with a random serial and no check-in time.
    pub fn new(
        id: ResidentId,
        name: &str,
        status: IssueStatus,
        valid_until: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            name: name.to_string(),
            status,
            valid_until,
            serial: rand::random(),
            checked_in_at: None,
            status_ref: None,
        }
    }
}

/// The native label `status` stands for in `region`, refusing words the region does not use.
pub fn native_label(region: RegionCode, status: &IssueStatus) -> Result<&'static str, CodeError> {
    let vocab = vocabulary::vocabulary(region.as_str())
        .ok_or_else(|| CodeError::Unsupported(format!("region {region} has no vocabulary")))?;
    match status {
        IssueStatus::Label(label) => vocab
            .labels
            .iter()
            .find(|(l, _)| l == label)
            .map(|(l, _)| *l)
            .ok_or_else(|| {
                CodeError::Unsupported(format!("{} has no status {label:?}", vocab.system))
            }),
        IssueStatus::Colour(colour) => vocab.label_for(*colour).ok_or_else(|| {
            CodeError::Unsupported(format!(
                "{} has no word for {}",
                vocab.system,
                colour.as_str()
            ))
        }),
    }
}

/// Signs a code of `region` at `now` (the signing time the payload carries). Online-only regions
/// (Zhejiang, Henan) have no signed payload: their codes are [`crate::CodeId`] URLs, built with
/// `regions::zhejiang::payload` and `regions::henan::payload`.
pub fn issue(
    region: RegionCode,
    req: &IssueRequest,
    signer: &IssuerSigner,
    now: OffsetDateTime,
) -> Result<String, CodeError> {
    let format = regions::signed_format(region).ok_or_else(|| {
        CodeError::Unsupported(format!(
            "region {region} has no signed payload: its codes are online code ids"
        ))
    })?;
    let label = native_label(region, &req.status)?;
    let claims = Claims {
        issuer: signer.issuer_id().to_string(),
        signed_at: now,
        serial: req.serial,
        id: req.id.clone(),
        name: req.name.clone(),
        label: label.to_string(),
        valid_until: req.valid_until,
        checked_in_at: req.checked_in_at,
        status_ref: req.status_ref,
    };
    format.encode(&claims, signer)
}

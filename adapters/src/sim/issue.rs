//! Issuing a region's code: records the person's status, then prints the QR payload — a code-id
//! URL for the online regions, a payload signed with the region's issuer key for the others.

use std::path::Path;

use time::OffsetDateTime;

use crate::codec::{CodeId, IssuerSigner};
use crate::issue::{IssueRequest, IssueStatus};
use crate::model::{Colour, RegionCode, ResidentId};
use crate::regions::{henan, zhejiang};
use crate::sim::ServiceError;
use crate::sim::lists::{LIST_CODES, LIST_ID};
use crate::sim::store::{Change, NewCode, Store};
use crate::status_list::StatusRef;

/// How long a signed code is valid when the caller does not say.
pub const DEFAULT_VALIDITY: time::Duration = time::Duration::days(7);

/// One code to issue.
#[derive(Debug, Clone)]
pub struct IssueInput {
    pub id: ResidentId,
    pub name: String,
    pub colour: Colour,
    /// Signed codes only; [`DEFAULT_VALIDITY`] when `None`.
    pub valid_for: Option<time::Duration>,
    /// Zhejiang only: the city whose platform issued the code (it goes into the URL).
    pub city: Option<RegionCode>,
    /// Signed codes only: which of the region's dev issuers signs (e.g. Hunan's SM2 issuer
    /// `hn-sm2-2026-01`); the region's main issuer when `None`.
    pub issuer: Option<String>,
    /// Issue the format's v2: a code with an entry in the issuer's status list, withdrawn in the
    /// next list when the holder's status changes. Regions without status lists refuse it.
    pub status_list: bool,
    /// Issued through the region's test channel to a synthetic test person (the prober's):
    /// the region's lookup answers say so. Refused for an ID the region holds as a real resident.
    pub synthetic: bool,
}

impl IssueInput {
    pub fn new(id: ResidentId, name: &str, colour: Colour) -> Self {
        Self {
            id,
            name: name.to_string(),
            colour,
            valid_for: None,
            city: None,
            issuer: None,
            status_list: false,
            synthetic: false,
        }
    }

    /// The same code as a v2 one, with a status-list entry.
    pub fn listed(self) -> Self {
        Self {
            status_list: true,
            ..self
        }
    }
}

/// What issuing produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The QR payload.
    pub payload: String,
    /// The code's id at the status service: an online code id, or a signed code's serial.
    pub code_id: String,
    /// The person's stable handle in the region.
    pub handle: String,
    pub label: String,
}

/// The region's own word for `colour`.
pub fn label(region: RegionCode, colour: Colour) -> Result<&'static str, ServiceError> {
    crate::issue::native_label(region, &IssueStatus::Colour(colour))
        .map_err(|_| ServiceError::NoLabel { region, colour })
}

/// The fault [`crate::sim::Faults::wrong_label`] answers: the region's next word after `label`
/// in its vocabulary (round), so a green person is told yellow, a yellow one red; a region with
/// one word, or a word it does not know, keeps it.
pub fn wrong_label(region: RegionCode, label: &str) -> String {
    let Some(vocab) = crate::vocabulary::vocabulary(region.as_str()) else {
        return label.to_string();
    };
    let words: Vec<&str> = vocab.labels.iter().map(|(l, _)| *l).collect();
    words
        .iter()
        .position(|l| *l == label)
        .map(|i| words[(i + 1) % words.len()])
        .unwrap_or(label)
        .to_string()
}

/// Whether the region's codes are code-id URLs with no signed payload.
pub fn is_online_only(region: RegionCode) -> bool {
    region == RegionCode::ZHEJIANG || region == RegionCode::HENAN
}

/// Issues a code: signs it first (signed regions), then stores the record, so a failed signature
/// leaves no half-issued person behind.
pub fn issue(
    region: RegionCode,
    store: &Store,
    pki: &Path,
    input: &IssueInput,
    now: OffsetDateTime,
) -> Result<Issued, ServiceError> {
    let label = label(region, input.colour)?;
    let fail = |detail: String| ServiceError::Issue { region, detail };
    let index = match input.status_list {
        true if has_status_lists(region) => Some(
            store
                .reserve_index(LIST_CODES)
                .ok_or_else(|| fail("the status list is full".to_string()))?,
        ),
        true => return Err(fail("the region publishes no status lists".to_string())),
        false => None,
    };
    let (payload, code_id) = if is_online_only(region) {
        let code_id = CodeId::random();
        let payload = if region == RegionCode::ZHEJIANG {
            zhejiang::payload(&code_id, input.city)
        } else {
            henan::payload(&code_id)
        };
        (payload, code_id.to_string())
    } else {
        let signer = match &input.issuer {
            Some(id) => IssuerSigner::from_pki_issuer(pki, region.as_str(), id),
            None => IssuerSigner::from_pki(pki, region.as_str()),
        }
        .map_err(|e| fail(e.to_string()))?;
        let mut request = IssueRequest::new(
            input.id.clone(),
            &input.name,
            IssueStatus::Label(label.to_string()),
            now + input.valid_for.unwrap_or(DEFAULT_VALIDITY),
        );
        request.status_ref = index.map(|index| StatusRef {
            list_id: LIST_ID,
            index,
        });
        if let Some(r) = request.status_ref {
            // The serial a v2 code carries, and the one Guangdong's revocation list would name.
            request.serial = r.to_serial();
        }
        let payload =
            crate::issue::issue(region, &request, &signer, now).map_err(|e| fail(e.to_string()))?;
        (payload, request.serial.to_string())
    };
    let code = NewCode {
        code_id: Some(&code_id),
        index,
        synthetic: input.synthetic,
    };
    let record = store.upsert_code(&input.id, &input.name, label, code, now)?;
    Ok(Issued {
        payload,
        code_id,
        handle: record.handle,
        label: label.to_string(),
    })
}

/// Whether the region's signed codes have a v2 with a status-list entry.
pub fn has_status_lists(region: RegionCode) -> bool {
    crate::regions::signed_format(region).is_some_and(|f| f.status_prefix.is_some())
}

/// Whether a status change withdraws the person's earlier codes, as the region's adapter says
/// ([`crate::RegionAdapter::withdraws_on_change`]); other regions' codes are checked online or
/// re-issued.
pub fn revokes_on_change(region: RegionCode) -> bool {
    crate::regions::withdraws_on_change(region)
}

/// Changes a resident's status the way the region does (see [`revokes_on_change`]); their v2
/// codes are withdrawn in the next status list, or suspended when the new status is pending
/// review (also in regions with no word for it).
pub fn set_status(
    region: RegionCode,
    store: &Store,
    id: &ResidentId,
    colour: Colour,
    now: OffsetDateTime,
) -> Result<crate::sim::PersonRecord, ServiceError> {
    if colour == Colour::Pending && label(region, colour).is_err() {
        // No review word in this region's vocabulary: the person keeps their word, and their v2
        // codes are suspended pending review.
        return Ok(store.suspend(id, now)?);
    }
    let label = label(region, colour)?;
    let record = if revokes_on_change(region) {
        store.set_label_revoking(id, label, now)?
    } else if colour == Colour::Pending {
        let change = Change {
            pending: true,
            ..Change::default()
        };
        store.change_label(id, label, now, change)?
    } else {
        store.set_label(id, label, now)?
    };
    Ok(record)
}

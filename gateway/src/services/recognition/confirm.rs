//! One worker of ConfirmWorkers (转码互认): the destination's verdict and, on PASS, a signed
//! recognition receipt the destination can turn into its own code.

use huren_proto::v1::{RecognitionReceipt, Verification, Worker, worker};
use huren_registry::Verdict;

use crate::error::Error;
use crate::recognition::pipeline::{Call, Judged, UNIDENTIFIED};
use crate::recognition::receipt::ReceiptBody;
use crate::recognition::{Recognizer, shaping, wire};

/// One worker judged: the verdict shown, a PASS's receipt, and whether the worker is a
/// synthetic test person (judged and audited, never counted in the national summary).
pub struct Confirmed {
    pub verification: Verification,
    pub receipt: Option<RecognitionReceipt>,
    pub synthetic: bool,
}

/// Judges (and audits) one worker; a PASS comes with its receipt.
pub async fn confirm(recognizer: &Recognizer, call: &Call, w: &Worker) -> Result<Confirmed, Error> {
    let judged = match super::identity(w)? {
        worker::Identity::Payload(payload) => recognizer.verify(call, payload).await?,
        worker::Identity::Resident(r) => {
            recognizer
                .verify_resident(call, &r.id_number, &r.name)
                .await?
        }
    };
    let receipt = match judged.decision.verdict {
        Verdict::Pass => receipt(recognizer, call, &judged)?,
        _ => None,
    };
    Ok(Confirmed {
        verification: shaping::verification(call, &judged),
        receipt,
        synthetic: judged.synthetic,
    })
}

/// The signed receipt for a PASS; `None` when the PASS cannot be vouched for (no person to
/// refer to, or no date to rely on it until).
fn receipt(
    recognizer: &Recognizer,
    call: &Call,
    judged: &Judged,
) -> Result<Option<RecognitionReceipt>, Error> {
    let (Some(valid_until), Some(agreement)) = (judged.relied_until, &judged.decision.agreement_id)
    else {
        return Ok(None);
    };
    if judged.subject_ref == UNIDENTIFIED {
        return Ok(None);
    }
    let body = ReceiptBody {
        subject_ref: judged.subject_ref.clone(),
        origin_region: judged.issuing.to_string(),
        destination_region: call.verifying.to_string(),
        origin_colour: judged.colour,
        destination_verdict: judged.decision.verdict,
        valid_until,
        agreement: agreement.clone(),
        registry_version: call.registry.version(),
        node_id: recognizer.receipts.node_id().to_string(),
        issued_at: judged.judged_at,
    };
    let env = recognizer
        .receipts
        .sign(body.clone())
        .map_err(|e| Error::Unavailable(format!("the receipt key cannot sign: {e}")))?;
    Ok(Some(RecognitionReceipt {
        envelope: Some(wire::envelope(&env)),
        subject_ref: body.subject_ref,
        origin_colour: wire::colour(body.origin_colour) as i32,
        destination_verdict: wire::verdict(body.destination_verdict) as i32,
        valid_until_time: Some(wire::timestamp(body.valid_until)),
        agreement: format!("agreements/{}", body.agreement),
        registry_version: body.registry_version,
    }))
}

//! Why an appeals call is refused, as a caller can act on it; mapped to `tonic::Status` in
//! `crate::error`.

/// An appeals refusal.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppealError {
    /// No decision with this audit sequence on this node (or the record is not a decision).
    #[error("this node made no decision with audit sequence {0}")]
    NoSuchDecision(u64),
    /// The decision was made for another caller.
    #[error("decision {0} was made for another caller; only its caller may appeal it")]
    NotYourDecision(u64),
    /// A PASS is not appealed.
    #[error("decision {0} is PASS: there is nothing to appeal")]
    NothingToAppeal(u64),
    /// The code shown is not the one the decision judged.
    #[error("the code shown is not the one decision {0} judged")]
    NotTheDecidedCode(u64),
    #[error("no appeal {0}")]
    NoSuchAppeal(String),
    /// The caller is neither the filer nor the issuing province.
    #[error("appeal {0} is read only by the caller that filed it and the issuing province")]
    NotYourAppeal(String),
    /// Only the issuing province answers.
    #[error("only the issuing province {region} answers appeal {appeal_id}")]
    NotTheIssuingProvince { appeal_id: String, region: String },
    /// Only a province lists a region's queue, and only its own.
    #[error("only province {0} lists its review queue")]
    NotYourQueue(String),
    /// The decision already has an open appeal; it names that appeal.
    #[error("decision {seq} already has an open appeal, {appeal_id}: follow that one")]
    AlreadyOpen { appeal_id: String, seq: u64 },
    #[error("appeal {0} is already answered")]
    AlreadyAnswered(String),
    #[error("this node cannot read its audit log: {0}")]
    AuditUnreadable(String),
    #[error("this node cannot keep the appeal: {0}")]
    Store(String),
    /// The node serving the issuing region refused the relayed call; its code is passed on.
    #[error("node {node} refused: {message}")]
    Refused {
        node: String,
        code: tonic::Code,
        message: String,
    },
}

impl AppealError {
    /// The gRPC code and the stable `ErrorInfo` reason.
    pub fn code_and_reason(&self) -> (tonic::Code, &'static str) {
        use tonic::Code;
        match self {
            AppealError::NoSuchDecision(_) => (Code::NotFound, "NO_SUCH_DECISION"),
            AppealError::NotYourDecision(_) => (Code::PermissionDenied, "NOT_YOUR_DECISION"),
            AppealError::NothingToAppeal(_) => (Code::FailedPrecondition, "NOTHING_TO_APPEAL"),
            AppealError::NotTheDecidedCode(_) => (Code::InvalidArgument, "NOT_THE_DECIDED_CODE"),
            AppealError::NoSuchAppeal(_) => (Code::NotFound, "NO_SUCH_APPEAL"),
            AppealError::NotYourAppeal(_) => (Code::PermissionDenied, "NOT_YOUR_APPEAL"),
            AppealError::NotTheIssuingProvince { .. } => {
                (Code::PermissionDenied, "NOT_THE_ISSUING_PROVINCE")
            }
            AppealError::NotYourQueue(_) => (Code::PermissionDenied, "NOT_YOUR_QUEUE"),
            AppealError::AlreadyOpen { .. } => (Code::AlreadyExists, "APPEAL_ALREADY_OPEN"),
            AppealError::AlreadyAnswered(_) => (Code::FailedPrecondition, "ALREADY_ANSWERED"),
            AppealError::AuditUnreadable(_) => (Code::Unavailable, "AUDIT_UNAVAILABLE"),
            AppealError::Store(_) => (Code::Unavailable, "APPEALS_UNAVAILABLE"),
            AppealError::Refused { code, .. } => (*code, "REFUSED_BY_ISSUING_NODE"),
        }
    }
}

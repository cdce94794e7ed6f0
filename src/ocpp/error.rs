//! CALLERROR codes. The two versions name some of them differently (1.6 spells
//! `FormationViolation` where 2.0.1 says `FormatViolation`), and
//! 2.0.1 added codes 1.6 does not have; [`ErrorCode::as_str`] is the one place that knows.

use super::OcppVersion;

/// A version-neutral CALLERROR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The action is not known.
    NotImplemented,
    /// The action is known but not supported.
    NotSupported,
    /// The receiver failed while handling a valid request.
    InternalError,
    /// The payload is incomplete or does not follow the PDU structure.
    ProtocolError,
    /// The sender is not allowed to do this.
    SecurityError,
    /// The payload is syntactically incorrect.
    FormatViolation,
    /// A field holds an invalid value.
    PropertyConstraintViolation,
    /// A required field is missing (or one occurs too often).
    OccurrenceConstraintViolation,
    /// A field has the wrong data type.
    TypeConstraintViolation,
    /// Anything else.
    GenericError,
    /// The MessageTypeId is not 2, 3 or 4 (2.0.1 only).
    MessageTypeNotSupported,
    /// The message is not a valid RPC request, e.g. its id cannot be read (2.0.1 only).
    RpcFrameworkError,
}

impl ErrorCode {
    /// The code as the given version's spec spells it.
    pub fn as_str(self, version: OcppVersion) -> &'static str {
        use ErrorCode::*;
        match (self, version) {
            (NotImplemented, _) => "NotImplemented",
            (NotSupported, _) => "NotSupported",
            (InternalError, _) => "InternalError",
            (ProtocolError, _) => "ProtocolError",
            (SecurityError, _) => "SecurityError",
            (PropertyConstraintViolation, _) => "PropertyConstraintViolation",
            (TypeConstraintViolation, _) => "TypeConstraintViolation",
            (GenericError, _) => "GenericError",
            (FormatViolation, OcppVersion::V16) => "FormationViolation",
            (FormatViolation, OcppVersion::V201) => "FormatViolation",
            // Both specs misspell it; OCA fixed the spelling only from 2.1 (1.6 errata §5.1).
            (OccurrenceConstraintViolation, _) => "OccurenceConstraintViolation",
            // 1.6 has no dedicated codes for these: ProtocolError ("not conform the PDU
            // structure") and FormationViolation ("syntactically incorrect") are its nearest.
            (MessageTypeNotSupported, OcppVersion::V16) => "ProtocolError",
            (MessageTypeNotSupported, OcppVersion::V201) => "MessageTypeNotSupported",
            (RpcFrameworkError, OcppVersion::V16) => "FormationViolation",
            (RpcFrameworkError, OcppVersion::V201) => "RpcFrameworkError",
        }
    }
}

/// A CALL that cannot be handled, with the CALLERROR code and cause to answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code:?}: {description}")]
pub struct CallRejection {
    pub code: ErrorCode,
    pub description: String,
    /// The JSON path of the offending field, when there is one.
    pub field: Option<String>,
}

impl CallRejection {
    /// A rejection without a field.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            field: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_spells_its_own_codes() {
        use ErrorCode::*;
        assert_eq!(FormatViolation.as_str(OcppVersion::V16), "FormationViolation");
        assert_eq!(FormatViolation.as_str(OcppVersion::V201), "FormatViolation");
        assert_eq!(
            OccurrenceConstraintViolation.as_str(OcppVersion::V16),
            "OccurenceConstraintViolation"
        );
        assert_eq!(
            OccurrenceConstraintViolation.as_str(OcppVersion::V201),
            "OccurenceConstraintViolation"
        );
        assert_eq!(RpcFrameworkError.as_str(OcppVersion::V201), "RpcFrameworkError");
        assert_eq!(NotImplemented.as_str(OcppVersion::V16), "NotImplemented");
    }
}

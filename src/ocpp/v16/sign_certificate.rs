//! SignCertificate (1.6 security whitepaper, A02/A03): the charge point asks for its client
//! certificate to be signed.

use serde::{Deserialize, Serialize};

use crate::ocpp::Text;

/// A certificate signing request (PEM-encoded PKCS#10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignCertificateRequest {
    pub csr: Text<5500>,
}

/// The whitepaper's GenericStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenericStatus {
    Accepted,
    Rejected,
}

/// Whether the request will be forwarded to a CA (the certificate follows as CertificateSigned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignCertificateResponse {
    pub status: GenericStatus,
}

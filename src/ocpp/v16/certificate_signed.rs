//! CertificateSigned (1.6 security whitepaper, A02/A03): the central system sends the charge
//! point the certificate its SignCertificate asked for.

use serde::{Deserialize, Serialize};

/// The signed certificate, then the CA certificates up to the root (PEM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSignedRequest {
    pub certificate_chain: String,
}

/// The whitepaper's CertificateSignedStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertificateSignedStatus {
    Accepted,
    Rejected,
}

/// Whether the charge point installed the certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSignedResponse {
    pub status: CertificateSignedStatus,
}

//! DeleteCertificate (1.6 security whitepaper): removes an installed root certificate.

use serde::{Deserialize, Serialize};

use super::get_installed_certificate_ids::CertificateHashData;

/// The certificate to remove, as GetInstalledCertificateIds reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCertificateRequest {
    pub certificate_hash_data: CertificateHashData,
}

/// The whitepaper's DeleteCertificateStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteCertificateStatus {
    Accepted,
    Failed,
    NotFound,
}

/// Whether the charge point removed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCertificateResponse {
    pub status: DeleteCertificateStatus,
}

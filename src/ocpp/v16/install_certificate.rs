//! InstallCertificate (1.6 security whitepaper): a root certificate for the charge point to
//! trust.

use serde::{Deserialize, Serialize};

use super::get_installed_certificate_ids::CertificateUse;

/// A PEM certificate of `certificate_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallCertificateRequest {
    pub certificate_type: CertificateUse,
    pub certificate: String,
}

/// The whitepaper's CertificateStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstallCertificateStatus {
    Accepted,
    Failed,
    Rejected,
}

/// Whether the charge point installed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallCertificateResponse {
    pub status: InstallCertificateStatus,
}

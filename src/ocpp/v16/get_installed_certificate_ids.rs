//! GetInstalledCertificateIds (1.6 security whitepaper): which root certificates of a type the
//! charge point has installed, by their hash data.

use serde::{Deserialize, Serialize};

/// The whitepaper's CertificateUseEnumType: the roots a 1.6 charge point keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertificateUse {
    CentralSystemRootCertificate,
    ManufacturerRootCertificate,
}

/// The whitepaper's HashAlgorithmEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HashAlgorithm {
    SHA256,
    SHA384,
    SHA512,
}

/// What identifies an installed certificate (also what DeleteCertificate names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateHashData {
    pub hash_algorithm: HashAlgorithm,
    pub issuer_name_hash: String,
    pub issuer_key_hash: String,
    pub serial_number: String,
}

/// Asks for the certificates of one type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetInstalledCertificateIdsRequest {
    pub certificate_type: CertificateUse,
}

/// The whitepaper's GetInstalledCertificateStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GetInstalledCertificateStatus {
    Accepted,
    NotFound,
}

/// The installed certificates of that type, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetInstalledCertificateIdsResponse {
    pub status: GetInstalledCertificateStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_hash_data: Option<Vec<CertificateHashData>>,
}

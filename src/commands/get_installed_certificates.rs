//! GetInstalledCertificateIds (2.0.1 M03, 1.6 security white paper): which certificates a
//! charger trusts, each named by an id that DeleteCertificate takes back. Also the closed set
//! of certificate kinds the three certificate commands share.

use rust_ocpp::v2_0_1::datatypes::certificate_hash_data_type::CertificateHashDataType;
use rust_ocpp::v2_0_1::enumerations::get_certificate_id_use_enum_type::GetCertificateIdUseEnumType;
use rust_ocpp::v2_0_1::enumerations::hash_algorithm_enum_type::HashAlgorithmEnumType;
use rust_ocpp::v2_0_1::messages::get_installed_certificate_ids as g201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::{Message, invalid};
use super::{CommandReply, Error};
use crate::ocpp::enum_name;
use crate::ocpp::v16::get_installed_certificate_ids::{
    self as g16, CertificateHashData, CertificateUse, HashAlgorithm,
};

/// What a certificate on a charger is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// The root the charger checks voltgate's server certificate against.
    CsmsRoot,
    /// The root firmware signatures are checked against.
    ManufacturerRoot,
    /// ISO 15118 (2.0.1 only).
    V2gRoot,
    MoRoot,
    /// The charger's own 15118 chain (listing only).
    V2gChain,
}

impl CertificateKind {
    /// The 1.6 name; a 1.6 charger keeps only the two roots.
    pub(super) fn v16(self) -> Result<CertificateUse, Error> {
        match self {
            CertificateKind::CsmsRoot => Ok(CertificateUse::CentralSystemRootCertificate),
            CertificateKind::ManufacturerRoot => Ok(CertificateUse::ManufacturerRootCertificate),
            _ => Err(invalid(
                "certificate_type",
                "1.6 chargers keep csms_root and manufacturer_root certificates only",
            )),
        }
    }

    fn v201(self) -> GetCertificateIdUseEnumType {
        match self {
            CertificateKind::CsmsRoot => GetCertificateIdUseEnumType::CSMSRootCertificate,
            CertificateKind::ManufacturerRoot => GetCertificateIdUseEnumType::ManufacturerRootCertificate,
            CertificateKind::V2gRoot => GetCertificateIdUseEnumType::V2GRootCertificate,
            CertificateKind::MoRoot => GetCertificateIdUseEnumType::MORootCertificate,
            CertificateKind::V2gChain => GetCertificateIdUseEnumType::V2GCertificateChain,
        }
    }

    fn from_v201(kind: &GetCertificateIdUseEnumType) -> Self {
        match kind {
            GetCertificateIdUseEnumType::CSMSRootCertificate => CertificateKind::CsmsRoot,
            GetCertificateIdUseEnumType::ManufacturerRootCertificate => CertificateKind::ManufacturerRoot,
            GetCertificateIdUseEnumType::V2GRootCertificate => CertificateKind::V2gRoot,
            GetCertificateIdUseEnumType::MORootCertificate => CertificateKind::MoRoot,
            GetCertificateIdUseEnumType::V2GCertificateChain => CertificateKind::V2gChain,
        }
    }
}

/// `GET /chargers/{id}/certificates?certificate_type=`
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CertificateQuery {
    /// Only this kind; absent: every kind (a 1.6 charger, asked one kind at a time, is asked
    /// for `csms_root`).
    pub certificate_type: Option<CertificateKind>,
}

impl Message for CertificateQuery {
    type V16 = g16::GetInstalledCertificateIdsRequest;
    type V201 = g201::GetInstalledCertificateIdsRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(g16::GetInstalledCertificateIdsRequest {
            certificate_type: self.certificate_type.unwrap_or(CertificateKind::CsmsRoot).v16()?,
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(g201::GetInstalledCertificateIdsRequest {
            certificate_type: self.certificate_type.map(|k| vec![k.v201()]),
        })
    }
}

/// A certificate a charger reported having.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InstalledCertificate {
    /// What `DELETE /chargers/{id}/certificates/{certificate_id}` takes:
    /// `ALGORITHM.issuerNameHash.issuerKeyHash.serialNumber`.
    pub id: String,
    /// What it is for (a 1.6 answer does not say; it is the kind asked for).
    pub certificate_type: Option<CertificateKind>,
    pub hash_algorithm: String,
    pub issuer_name_hash: String,
    pub issuer_key_hash: String,
    pub serial_number: String,
}

impl InstalledCertificate {
    fn new(kind: Option<CertificateKind>, algorithm: String, name: String, key: String, serial: String) -> Self {
        Self {
            id: format!("{algorithm}.{name}.{key}.{serial}"),
            certificate_type: kind,
            hash_algorithm: algorithm,
            issuer_name_hash: name,
            issuer_key_hash: key,
            serial_number: serial,
        }
    }
}

/// An installed certificate's id, read back into the hash data both versions name it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CertificateHash {
    algorithm: HashAlgorithm,
    issuer_name_hash: String,
    issuer_key_hash: String,
    serial_number: String,
}

impl CertificateHash {
    pub(super) fn parse(id: &str) -> Result<Self, Error> {
        let bad = || {
            invalid(
                "certificate_id",
                "must be ALGORITHM.issuerNameHash.issuerKeyHash.serialNumber, as listed",
            )
        };
        let parts: Vec<&str> = id.split('.').collect();
        let [algorithm, name, key, serial] = parts.as_slice() else {
            return Err(bad());
        };
        let algorithm = match *algorithm {
            "SHA256" => HashAlgorithm::SHA256,
            "SHA384" => HashAlgorithm::SHA384,
            "SHA512" => HashAlgorithm::SHA512,
            _ => return Err(bad()),
        };
        let hex = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_hexdigit());
        if !(hex(name, 128) && hex(key, 128) && hex(serial, 40)) {
            return Err(bad());
        }
        Ok(Self {
            algorithm,
            issuer_name_hash: (*name).to_owned(),
            issuer_key_hash: (*key).to_owned(),
            serial_number: (*serial).to_owned(),
        })
    }

    pub(super) fn v16(&self) -> CertificateHashData {
        CertificateHashData {
            hash_algorithm: self.algorithm,
            issuer_name_hash: self.issuer_name_hash.clone(),
            issuer_key_hash: self.issuer_key_hash.clone(),
            serial_number: self.serial_number.clone(),
        }
    }

    pub(super) fn v201(&self) -> CertificateHashDataType {
        CertificateHashDataType {
            hash_algorithm: match self.algorithm {
                HashAlgorithm::SHA256 => HashAlgorithmEnumType::SHA256,
                HashAlgorithm::SHA384 => HashAlgorithmEnumType::SHA384,
                HashAlgorithm::SHA512 => HashAlgorithmEnumType::SHA512,
            },
            issuer_name_hash: self.issuer_name_hash.clone(),
            issuer_key_hash: self.issuer_key_hash.clone(),
            serial_number: self.serial_number.clone(),
        }
    }
}

impl From<g16::GetInstalledCertificateIdsResponse> for CommandReply {
    fn from(a: g16::GetInstalledCertificateIdsResponse) -> Self {
        let certificates = a
            .certificate_hash_data
            .unwrap_or_default()
            .into_iter()
            .map(|h| {
                InstalledCertificate::new(
                    None,
                    enum_name(&h.hash_algorithm),
                    h.issuer_name_hash,
                    h.issuer_key_hash,
                    h.serial_number,
                )
            })
            .collect();
        CommandReply {
            certificates: Some(certificates),
            ..CommandReply::status(a.status, None)
        }
    }
}

impl From<g201::GetInstalledCertificateIdsResponse> for CommandReply {
    fn from(a: g201::GetInstalledCertificateIdsResponse) -> Self {
        let mut certificates = Vec::new();
        for chain in a.certificate_hash_data_chain.unwrap_or_default() {
            let kind = CertificateKind::from_v201(&chain.certificate_type);
            let leaves = std::iter::once(chain.certificate_hash_data)
                .chain(chain.child_certificate_hash_data.into_iter().flatten());
            for h in leaves {
                certificates.push(InstalledCertificate::new(
                    Some(kind),
                    enum_name(&h.hash_algorithm),
                    h.issuer_name_hash,
                    h.issuer_key_hash,
                    h.serial_number,
                ));
            }
        }
        CommandReply {
            certificates: Some(certificates),
            ..CommandReply::status(a.status, a.status_info)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_into_the_hash_data_it_was_made_from() {
        let id = "SHA256.0a1b.2c3d.01ff";
        let hash = CertificateHash::parse(id).unwrap();
        assert_eq!(hash.v16().serial_number, "01ff");
        let listed = InstalledCertificate::new(None, "SHA256".into(), "0a1b".into(), "2c3d".into(), "01ff".into());
        assert_eq!(listed.id, id);
        for bad in [
            "SHA1.0a.0b.01",
            "SHA256.0a.0b",
            "SHA256.zz.0b.01",
            "SHA256.0a.0b.01.extra",
        ] {
            assert!(CertificateHash::parse(bad).is_err(), "{bad}");
        }
    }
}

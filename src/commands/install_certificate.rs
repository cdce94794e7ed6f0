//! InstallCertificate (2.0.1 M05, 1.6 security white paper): a root certificate for the
//! charger to trust; voltgate's own CA certificate as `csms_root` is what a charger needs
//! before it can verify a profile-3 setup.

use rust_ocpp::v2_0_1::enumerations::install_certificate_use_enum_type::InstallCertificateUseEnumType;
use rust_ocpp::v2_0_1::messages::install_certificate as i201;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::get_installed_certificates::CertificateKind;
use super::message::{Message, invalid};
use crate::ocpp::v16::install_certificate as i16;

/// The PEM length both versions allow.
const MAX_PEM: usize = 5500;

/// `POST /chargers/{id}/certificates`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallCertificateBody {
    /// `csms_root`, `manufacturer_root` (both versions), `v2g_root`, `mo_root` (2.0.1).
    pub certificate_type: CertificateKind,
    /// One X.509 certificate, PEM (at most 5,500 characters).
    #[schema(max_length = 5500)]
    pub certificate: String,
}

impl InstallCertificateBody {
    /// The certificate as sent: one PEM certificate that parses, within the length limit.
    fn certificate(&self) -> Result<String, Error> {
        let pem = self.certificate.trim();
        if pem.len() > MAX_PEM {
            return Err(invalid("certificate", format!("at most {MAX_PEM} characters")));
        }
        let parsed: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
        let readable = matches!(parsed.as_slice(), [Ok(der)] if x509_parser::parse_x509_certificate(der).is_ok());
        if !readable {
            return Err(invalid("certificate", "must be exactly one PEM X.509 certificate"));
        }
        Ok(pem.to_owned())
    }
}

impl Message for InstallCertificateBody {
    type V16 = i16::InstallCertificateRequest;
    type V201 = i201::InstallCertificateRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(i16::InstallCertificateRequest {
            certificate_type: self.certificate_type.v16()?,
            certificate: self.certificate()?,
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        let certificate_type = match self.certificate_type {
            CertificateKind::CsmsRoot => InstallCertificateUseEnumType::CSMSRootCertificate,
            CertificateKind::ManufacturerRoot => InstallCertificateUseEnumType::ManufacturerRootCertificate,
            CertificateKind::V2gRoot => InstallCertificateUseEnumType::V2GRootCertificate,
            CertificateKind::MoRoot => InstallCertificateUseEnumType::MORootCertificate,
            CertificateKind::V2gChain => {
                return Err(invalid(
                    "certificate_type",
                    "a charger's own chain comes from SignCertificate",
                ));
            }
        };
        Ok(i201::InstallCertificateRequest {
            certificate_type,
            certificate: self.certificate()?,
        })
    }
}

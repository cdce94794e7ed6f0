//! DeleteCertificate (2.0.1 M04, 1.6 security white paper): removes a certificate the charger
//! listed, by the id `GET /chargers/{id}/certificates` gave it.

use rust_ocpp::v2_0_1::messages::delete_certificate as d201;
use serde::Serialize;

use super::Error;
use super::get_installed_certificates::CertificateHash;
use super::message::Message;
use crate::ocpp::v16::delete_certificate as d16;

/// `DELETE /chargers/{id}/certificates/{certificate_id}`
#[derive(Debug, Clone, Serialize)]
pub struct DeleteCertificateBody {
    pub certificate_id: String,
}

impl Message for DeleteCertificateBody {
    type V16 = d16::DeleteCertificateRequest;
    type V201 = d201::DeleteCertificateRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(d16::DeleteCertificateRequest {
            certificate_hash_data: CertificateHash::parse(&self.certificate_id)?.v16(),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(d201::DeleteCertificateRequest {
            certificate_hash_data: CertificateHash::parse(&self.certificate_id)?.v201(),
        })
    }
}

//! The certificate authority that signs chargers' own certificates (2.0.1 A02/A03, the 1.6
//! security white paper's SignCertificate), so a charger reaches security profile 3 without
//! anyone running openssl. It checks a charger's CSR against the charger it came from and signs
//! it with rcgen; the TLS listener trusts it for client certificates (`tls`), the station asks
//! it whether a CSR may be signed, and the commands layer sends the chain back.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};

use crate::config::CaConfig;

/// Why the CA could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{key} ({path}): {detail}")]
    File {
        key: &'static str,
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("signing failed: {0}")]
    Sign(#[from] rcgen::Error),
}

/// Why a charger's CSR is not signed (answered `Rejected`, recorded as a security event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrRefusal {
    #[error("not a PEM PKCS#10 request with a valid signature")]
    Unreadable,
    #[error("its subject CN is {found:?}, not this charger's id")]
    WrongCommonName { found: Option<String> },
    #[error("its subject O is {found:?}, not {expected:?}")]
    WrongOrganisation { found: Option<String>, expected: String },
}

/// A certificate issued to a charger.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The charger's certificate, then the CA's (PEM), as CertificateSigned carries them.
    pub chain_pem: String,
    /// The serial number, hex.
    pub serial: String,
    pub not_after: DateTime<Utc>,
}

/// A CSR that passed [`ChargerCa::check`], ready to sign.
#[derive(Debug)]
pub struct CheckedCsr(CertificateSigningRequestParams);

/// The CA: its key, its certificate, and how long what it signs lasts.
pub struct ChargerCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    validity: Duration,
    organisation: Option<String>,
}

impl std::fmt::Debug for ChargerCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChargerCa")
            .field("validity", &self.validity)
            .field("organisation", &self.organisation)
            .finish_non_exhaustive()
    }
}

fn file_error(key: &'static str, path: &Path, detail: impl ToString) -> CaError {
    CaError::File {
        key,
        path: path.to_owned(),
        detail: detail.to_string(),
    }
}

impl ChargerCa {
    /// Loads the CA named in `[ca]`.
    pub fn load(config: &CaConfig) -> Result<Self, CaError> {
        let read = |key, path: &Path| std::fs::read_to_string(path).map_err(|e| file_error(key, path, e));
        let cert_pem = read("ca.cert_file", &config.cert_file)?;
        let key_pem = read("ca.key_file", &config.key_file)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| file_error("ca.key_file", &config.key_file, e))?;
        let issuer =
            Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|e| file_error("ca.cert_file", &config.cert_file, e))?;
        Ok(Self {
            issuer,
            cert_pem,
            validity: Duration::from_secs(u64::from(config.validity_days) * 86_400),
            organisation: config.organisation.clone(),
        })
    }

    /// Creates a new CA (an ECDSA P-256 key and a self-signed certificate valid ten years) in
    /// the files `[ca]` names; the key file is readable by its owner only. Refuses to overwrite.
    pub fn init(config: &CaConfig, name: &str) -> Result<(), CaError> {
        for (key, path) in [("ca.cert_file", &config.cert_file), ("ca.key_file", &config.key_file)] {
            if path.exists() {
                return Err(file_error(key, path, "exists already; remove it to make a new CA"));
            }
        }
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        if let Some(o) = &config.organisation {
            params.distinguished_name.push(DnType::OrganizationName, o.as_str());
        }
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::minutes(5);
        params.not_after = now + time::Duration::days(3650);
        let cert = params.self_signed(&key)?;
        write_private(&config.key_file, &key.serialize_pem())
            .map_err(|e| file_error("ca.key_file", &config.key_file, e))?;
        std::fs::write(&config.cert_file, cert.pem()).map_err(|e| file_error("ca.cert_file", &config.cert_file, e))?;
        Ok(())
    }

    /// The CA certificate (PEM): what chargers install as their CSMS root for profile 3.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Whether `csr_pem` may become `charger_id`'s certificate: a well-formed request with a
    /// valid signature whose subject CN is the charger's id (and O the configured one).
    pub fn check(&self, csr_pem: &str, charger_id: &str) -> Result<CheckedCsr, CsrRefusal> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|_| CsrRefusal::Unreadable)?;
        let subject = &csr.params.distinguished_name;
        let cn = subject.get(&DnType::CommonName).and_then(text);
        if cn.as_deref() != Some(charger_id) {
            return Err(CsrRefusal::WrongCommonName { found: cn });
        }
        if let Some(expected) = &self.organisation {
            let o = subject.get(&DnType::OrganizationName).and_then(text);
            if o.as_deref() != Some(expected.as_str()) {
                return Err(CsrRefusal::WrongOrganisation {
                    found: o,
                    expected: expected.clone(),
                });
            }
        }
        Ok(CheckedCsr(csr))
    }

    /// Signs a checked CSR for client authentication, valid from now for `ca.validity_days`.
    pub fn sign(&self, csr: CheckedCsr) -> Result<Issued, CaError> {
        let mut csr = csr.0;
        let serial: [u8; 16] = crate::crypto::random_bytes();
        // A positive DER integer: the top bit clear.
        let serial = [&[serial[0] & 0x7f], &serial[1..]].concat();
        let now = Utc::now();
        let not_after = now + chrono::Duration::from_std(self.validity).unwrap_or(chrono::Duration::days(365));
        let params = &mut csr.params;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = offset(now - chrono::Duration::minutes(5));
        params.not_after = offset(not_after);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = csr.signed_by(&self.issuer)?;
        Ok(Issued {
            chain_pem: format!("{}{}", cert.pem(), self.cert_pem),
            serial: serial.iter().map(|b| format!("{b:02X}")).collect(),
            not_after,
        })
    }
}

/// The text of a subject attribute, whatever string type the charger chose.
fn text(value: &DnValue) -> Option<String> {
    Some(match value {
        DnValue::Utf8String(s) => s.clone(),
        DnValue::PrintableString(s) => s.as_str().to_owned(),
        DnValue::Ia5String(s) => s.as_str().to_owned(),
        DnValue::TeletexString(s) => s.as_str().to_owned(),
        _ => return None,
    })
}

fn offset(at: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(at.timestamp()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Writes a file only its owner may read (a private key).
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(dir: &Path, organisation: Option<&str>) -> ChargerCa {
        let config = CaConfig {
            cert_file: dir.join("ca.pem"),
            key_file: dir.join("ca.key"),
            organisation: organisation.map(str::to_owned),
            ..CaConfig::default()
        };
        ChargerCa::init(&config, "voltgate test CA").unwrap();
        ChargerCa::load(&config).unwrap()
    }

    fn csr(cn: &str, o: Option<&str>) -> String {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        if let Some(o) = o {
            params.distinguished_name.push(DnType::OrganizationName, o);
        }
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    #[test]
    fn signs_only_a_request_for_the_charger_it_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca(dir.path(), Some("Acme Charging"));
        let issued = ca
            .sign(ca.check(&csr("CP-1", Some("Acme Charging")), "CP-1").unwrap())
            .unwrap();
        assert_eq!(issued.chain_pem.matches("BEGIN CERTIFICATE").count(), 2, "leaf and CA");
        assert!(issued.not_after > Utc::now() + chrono::Duration::days(300));
        assert_eq!(
            ca.check(&csr("CP-2", Some("Acme Charging")), "CP-1").unwrap_err(),
            CsrRefusal::WrongCommonName {
                found: Some("CP-2".into())
            }
        );
        assert!(matches!(
            ca.check(&csr("CP-1", None), "CP-1"),
            Err(CsrRefusal::WrongOrganisation { .. })
        ));
        assert_eq!(ca.check("not a csr", "CP-1").unwrap_err(), CsrRefusal::Unreadable);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("ca.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the CA key is its owner's only");
        }
        assert!(
            ChargerCa::init(
                &CaConfig {
                    cert_file: dir.path().join("ca.pem"),
                    key_file: dir.path().join("ca.key"),
                    ..CaConfig::default()
                },
                "again"
            )
            .is_err()
        );
    }
}

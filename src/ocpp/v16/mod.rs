//! OCPP 1.6 (JSON) messages a charge point sends to the central system: the core profile's
//! from rust-ocpp, and those of the security extension ("Improved security for OCPP 1.6-J"),
//! which rust-ocpp lacks, one file each here; so are the extension's requests the central
//! system sends (CertificateSigned, ExtendedTriggerMessage, the certificate management ones,
//! SignedUpdateFirmware, GetLog),
//! which `commands` uses.

pub mod certificate_signed;
pub mod delete_certificate;
pub mod extended_trigger_message;
pub mod get_installed_certificate_ids;
pub mod get_log;
pub mod install_certificate;
pub mod log_status_notification;
pub mod security_event_notification;
pub mod sign_certificate;
pub mod signed_firmware_status_notification;
pub mod signed_update_firmware;

use log_status_notification::*;
use rust_ocpp::v1_6::messages::{
    authorize::*, boot_notification::*, data_transfer::*, diagnostics_status_notification::*,
    firmware_status_notification::*, heart_beat::*, meter_values::*, start_transaction::*, status_notification::*,
    stop_transaction::*,
};
use security_event_notification::*;
use sign_certificate::*;
use signed_firmware_status_notification::*;

super::charger_messages! {
    Authorize(AuthorizeRequest => AuthorizeResponse),
    BootNotification(BootNotificationRequest => BootNotificationResponse),
    DataTransfer(DataTransferRequest => DataTransferResponse),
    DiagnosticsStatusNotification(DiagnosticsStatusNotificationRequest => DiagnosticsStatusNotificationResponse),
    FirmwareStatusNotification(FirmwareStatusNotificationRequest => FirmwareStatusNotificationResponse),
    Heartbeat(HeartbeatRequest => HeartbeatResponse),
    LogStatusNotification(LogStatusNotificationRequest => LogStatusNotificationResponse),
    MeterValues(MeterValuesRequest => MeterValuesResponse),
    SecurityEventNotification(SecurityEventNotificationRequest => SecurityEventNotificationResponse),
    SignCertificate(SignCertificateRequest => SignCertificateResponse),
    SignedFirmwareStatusNotification(SignedFirmwareStatusNotificationRequest => SignedFirmwareStatusNotificationResponse),
    StartTransaction(StartTransactionRequest => StartTransactionResponse),
    StatusNotification(StatusNotificationRequest => StatusNotificationResponse),
    StopTransaction(StopTransactionRequest => StopTransactionResponse),
}

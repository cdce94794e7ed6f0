//! OCPP 1.6 (JSON) messages a charge point sends to the central system.

use rust_ocpp::v1_6::messages::{
    authorize::*, boot_notification::*, data_transfer::*, diagnostics_status_notification::*,
    firmware_status_notification::*, heart_beat::*, meter_values::*, start_transaction::*, status_notification::*,
    stop_transaction::*,
};

super::charger_messages! {
    typed {
        Authorize(AuthorizeRequest => AuthorizeResponse),
        BootNotification(BootNotificationRequest => BootNotificationResponse),
        DataTransfer(DataTransferRequest => DataTransferResponse),
        DiagnosticsStatusNotification(DiagnosticsStatusNotificationRequest => DiagnosticsStatusNotificationResponse),
        FirmwareStatusNotification(FirmwareStatusNotificationRequest => FirmwareStatusNotificationResponse),
        Heartbeat(HeartbeatRequest => HeartbeatResponse),
        MeterValues(MeterValuesRequest => MeterValuesResponse),
        StartTransaction(StartTransactionRequest => StartTransactionResponse),
        StatusNotification(StatusNotificationRequest => StatusNotificationResponse),
        StopTransaction(StopTransactionRequest => StopTransactionResponse),
    }
    untyped {}
}

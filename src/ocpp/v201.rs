//! OCPP 2.0.1 messages a charging station sends to the CSMS.

use rust_ocpp::v2_0_1::messages::{
    authorize::*, boot_notification::*, datatransfer::*, firmware_status_notification::*, heartbeat::*,
    log_status_notification::*, meter_values::*, notify_event::*, notify_report::*, security_event_notification::*,
    status_notification::*, transaction_event::*,
};

super::charger_messages! {
    typed {
        Authorize(AuthorizeRequest => AuthorizeResponse),
        BootNotification(BootNotificationRequest => BootNotificationResponse),
        DataTransfer(DataTransferRequest => DataTransferResponse),
        FirmwareStatusNotification(FirmwareStatusNotificationRequest => FirmwareStatusNotificationResponse),
        Heartbeat(HeartbeatRequest => HeartbeatResponse),
        LogStatusNotification(LogStatusNotificationRequest => LogStatusNotificationResponse),
        MeterValues(MeterValuesRequest => MeterValuesResponse),
        NotifyEvent(NotifyEventRequest => NotifyEventResponse),
        NotifyReport(NotifyReportRequest => NotifyReportResponse),
        SecurityEventNotification(SecurityEventNotificationRequest => SecurityEventNotificationResponse),
        StatusNotification(StatusNotificationRequest => StatusNotificationResponse),
        TransactionEvent(TransactionEventRequest => TransactionEventResponse),
    }
    untyped {
        "ClearedChargingLimit", "Get15118EVCertificate", "GetCertificateStatus",
        "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDisplayMessages",
        "NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "NotifyMonitoringReport",
        "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
        "SignCertificate",
    }
}

//! OCPP 2.0.1 messages a charging station sends to the CSMS: every one the spec defines in
//! that direction, from rust-ocpp except where its type refuses valid payloads (one file
//! each here).

pub mod data_transfer;

use data_transfer::*;
use rust_ocpp::v2_0_1::messages::{
    authorize::*, boot_notification::*, cleared_charging_limit::*, firmware_status_notification::*,
    get_15118ev_certificate::*, get_certificate_status::*, heartbeat::*, log_status_notification::*, meter_values::*,
    notify_charging_limit::*, notify_customer_information::*, notify_display_messages::*, notify_ev_charging_needs::*,
    notify_ev_charging_schedule::*, notify_event::*, notify_monitoring_report::*, notify_report::*,
    publish_firmware_status_notification::*, report_charging_profiles::*, reservation_status_update::*,
    security_event_notification::*, sign_certificate::*, status_notification::*, transaction_event::*,
};

super::charger_messages! {
    Authorize(AuthorizeRequest => AuthorizeResponse),
    BootNotification(BootNotificationRequest => BootNotificationResponse),
    ClearedChargingLimit(ClearedChargingLimitRequest => ClearedChargingLimitResponse),
    DataTransfer(DataTransferRequest => DataTransferResponse),
    FirmwareStatusNotification(FirmwareStatusNotificationRequest => FirmwareStatusNotificationResponse),
    Get15118EVCertificate(Get15118EVCertificateRequest => Get15118EVCertificateResponse),
    GetCertificateStatus(GetCertificateStatusRequest => GetCertificateStatusResponse),
    Heartbeat(HeartbeatRequest => HeartbeatResponse),
    LogStatusNotification(LogStatusNotificationRequest => LogStatusNotificationResponse),
    MeterValues(MeterValuesRequest => MeterValuesResponse),
    NotifyChargingLimit(NotifyChargingLimitRequest => NotifyChargingLimitResponse),
    NotifyCustomerInformation(NotifyCustomerInformationRequest => NotifyCustomerInformationResponse),
    NotifyDisplayMessages(NotifyDisplayMessagesRequest => NotifyDisplayMessagesResponse),
    NotifyEVChargingNeeds(NotifyEVChargingNeedsRequest => NotifyEVChargingNeedsResponse),
    NotifyEVChargingSchedule(NotifyEVChargingScheduleRequest => NotifyEVChargingScheduleResponse),
    NotifyEvent(NotifyEventRequest => NotifyEventResponse),
    NotifyMonitoringReport(NotifyMonitoringReportRequest => NotifyMonitoringReportResponse),
    NotifyReport(NotifyReportRequest => NotifyReportResponse),
    PublishFirmwareStatusNotification(PublishFirmwareStatusNotificationRequest => PublishFirmwareStatusNotificationResponse),
    ReportChargingProfiles(ReportChargingProfilesRequest => ReportChargingProfilesResponse),
    ReservationStatusUpdate(ReservationStatusUpdateRequest => ReservationStatusUpdateResponse),
    SecurityEventNotification(SecurityEventNotificationRequest => SecurityEventNotificationResponse),
    SignCertificate(SignCertificateRequest => SignCertificateResponse),
    StatusNotification(StatusNotificationRequest => StatusNotificationResponse),
    TransactionEvent(TransactionEventRequest => TransactionEventResponse),
}

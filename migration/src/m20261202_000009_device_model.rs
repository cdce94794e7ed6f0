//! `charger_variable`: a charger's device model (2.0.1 NotifyReport) or configuration
//! inventory (1.6 GetConfiguration), one row per component, variable and attribute.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChargerVariable {
    Table,
    Id,
    ChargerId,
    Component,
    ComponentInstance,
    EvseId,
    ConnectorId,
    Variable,
    VariableInstance,
    Attribute,
    Value,
    Mutability,
    Persistent,
    Constant,
    Unit,
    DataType,
    MinLimit,
    MaxLimit,
    ValuesList,
    SupportsMonitoring,
    RequestId,
    ReportedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChargerVariable::Table)
                    .col(big_integer(ChargerVariable::Id).auto_increment().primary_key())
                    .col(string(ChargerVariable::ChargerId))
                    // Absent parts are '' and 0, so the unique index below holds (NULLs differ).
                    .col(string(ChargerVariable::Component))
                    .col(string(ChargerVariable::ComponentInstance))
                    .col(integer(ChargerVariable::EvseId))
                    .col(integer(ChargerVariable::ConnectorId))
                    .col(string(ChargerVariable::Variable))
                    .col(string(ChargerVariable::VariableInstance))
                    .col(string(ChargerVariable::Attribute))
                    .col(string_null(ChargerVariable::Value))
                    .col(string_null(ChargerVariable::Mutability))
                    .col(boolean_null(ChargerVariable::Persistent))
                    .col(boolean_null(ChargerVariable::Constant))
                    .col(string_null(ChargerVariable::Unit))
                    .col(string_null(ChargerVariable::DataType))
                    .col(double_null(ChargerVariable::MinLimit))
                    .col(double_null(ChargerVariable::MaxLimit))
                    .col(string_null(ChargerVariable::ValuesList))
                    .col(boolean_null(ChargerVariable::SupportsMonitoring))
                    .col(integer_null(ChargerVariable::RequestId))
                    .col(timestamp_with_time_zone(ChargerVariable::ReportedAt))
                    .foreign_key(&mut fk(
                        (ChargerVariable::Table, ChargerVariable::ChargerId),
                        (Charger::Table, Charger::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_charger_variable_address",
                    ChargerVariable::Table,
                    &[
                        "charger_id",
                        "component",
                        "component_instance",
                        "evse_id",
                        "connector_id",
                        "variable",
                        "variable_instance",
                        "attribute",
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChargerVariable::Table).to_owned())
            .await
    }
}

//! A charger's device model (2.0.1) and configuration inventory (1.6) as it last reported
//! them. This is the one way in, so it is where secrets are dropped: values of write-only
//! variables and of the known secret ones (passwords, keys, certificates) are never stored.

use chrono::Utc;
use entity::charger_variable;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::scope::Page;
use super::{Result, Store};

/// Rows per INSERT: SQLite allows 32,766 bound values, a row binds 21.
const CHUNK: usize = 500;

/// One attribute of a variable as a charger reported it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportedVariable {
    /// `""` for a 1.6 configuration key.
    pub component: String,
    pub component_instance: Option<String>,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub variable: String,
    pub variable_instance: Option<String>,
    /// `Actual` unless the charger said otherwise.
    pub attribute: String,
    pub value: Option<String>,
    pub mutability: Option<String>,
    pub persistent: Option<bool>,
    pub constant: Option<bool>,
    pub unit: Option<String>,
    pub data_type: Option<String>,
    pub min_limit: Option<f64>,
    pub max_limit: Option<f64>,
    pub values_list: Option<String>,
    pub supports_monitoring: Option<bool>,
}

impl ReportedVariable {
    /// Whether the value must never be stored, logged or shown.
    pub fn secret(&self) -> bool {
        self.mutability.as_deref() == Some("WriteOnly") || crate::ocpp::is_secret_variable(&self.variable)
    }
}

/// Which stored variables to list.
#[derive(Debug, Clone, Default)]
pub struct VariableFilter {
    pub component: Option<String>,
    pub variable: Option<String>,
}

impl Store {
    /// The `maxLimit` a charger reported for `component.variable` (on any instance), if any.
    pub async fn variable_max_limit(&self, charger_id: &str, component: &str, variable: &str) -> Result<Option<f64>> {
        Ok(charger_variable::Entity::find()
            .filter(charger_variable::Column::ChargerId.eq(charger_id))
            .filter(charger_variable::Column::Component.eq(component))
            .filter(charger_variable::Column::Variable.eq(variable))
            .filter(charger_variable::Column::MaxLimit.is_not_null())
            .one(&self.db)
            .await?
            .and_then(|v| v.max_limit))
    }

    /// The `(component, variable)` names the charger reported write-only: their values are
    /// credentials by the charger's own account (the message log hides them).
    pub async fn write_only_variables(&self, charger_id: &str) -> Result<Vec<(String, String)>> {
        Ok(charger_variable::Entity::find()
            .select_only()
            .column(charger_variable::Column::Component)
            .column(charger_variable::Column::Variable)
            .filter(charger_variable::Column::ChargerId.eq(charger_id))
            .filter(charger_variable::Column::Mutability.eq("WriteOnly"))
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Stores what a report part (or a 1.6 GetConfiguration answer) said, replacing what the
    /// charger reported before for the same address and attribute.
    pub async fn record_variables(
        &self,
        charger_id: &str,
        request_id: Option<i32>,
        reported: Vec<ReportedVariable>,
    ) -> Result<()> {
        use charger_variable::Column as C;
        let every = [
            C::Value,
            C::Mutability,
            C::Persistent,
            C::Constant,
            C::Unit,
            C::DataType,
            C::MinLimit,
            C::MaxLimit,
            C::ValuesList,
            C::SupportsMonitoring,
            C::RequestId,
            C::ReportedAt,
        ];
        self.upsert_variables(charger_id, request_id, reported, &every).await
    }

    /// Stores values a charger was read or set to, keeping what a report said of the variables.
    pub async fn record_values(
        &self,
        charger_id: &str,
        request_id: Option<i32>,
        values: Vec<ReportedVariable>,
    ) -> Result<()> {
        use charger_variable::Column as C;
        self.upsert_variables(charger_id, request_id, values, &[C::Value, C::RequestId, C::ReportedAt])
            .await
    }

    async fn upsert_variables(
        &self,
        charger_id: &str,
        request_id: Option<i32>,
        reported: Vec<ReportedVariable>,
        update: &[charger_variable::Column],
    ) -> Result<()> {
        let now = Utc::now();
        let rows: Vec<charger_variable::ActiveModel> = reported
            .into_iter()
            .map(|r| charger_variable::ActiveModel {
                charger_id: Set(charger_id.to_owned()),
                value: Set(if r.secret() { None } else { r.value.clone() }),
                component: Set(r.component),
                component_instance: Set(r.component_instance.unwrap_or_default()),
                evse_id: Set(r.evse_id.unwrap_or(0)),
                connector_id: Set(r.connector_id.unwrap_or(0)),
                variable: Set(r.variable),
                variable_instance: Set(r.variable_instance.unwrap_or_default()),
                attribute: Set(r.attribute),
                mutability: Set(r.mutability),
                persistent: Set(r.persistent),
                constant: Set(r.constant),
                unit: Set(r.unit),
                data_type: Set(r.data_type),
                min_limit: Set(r.min_limit),
                max_limit: Set(r.max_limit),
                values_list: Set(r.values_list),
                supports_monitoring: Set(r.supports_monitoring),
                request_id: Set(request_id),
                reported_at: Set(now),
                ..Default::default()
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        use charger_variable::Column as C;
        let conflict = OnConflict::columns([
            C::ChargerId,
            C::Component,
            C::ComponentInstance,
            C::EvseId,
            C::ConnectorId,
            C::Variable,
            C::VariableInstance,
            C::Attribute,
        ])
        .update_columns(update.iter().copied())
        .to_owned();
        let txn = self.begin_write().await?;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
            charger_variable::Entity::insert_many(chunk)
                .on_conflict(conflict.clone())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// A charger's stored variables, by component, EVSE, connector and variable.
    pub async fn variables(
        &self,
        charger_id: &str,
        filter: &VariableFilter,
        page: Page,
    ) -> Result<Vec<charger_variable::Model>> {
        use charger_variable::Column as C;
        let mut query = charger_variable::Entity::find().filter(C::ChargerId.eq(charger_id));
        if let Some(component) = &filter.component {
            query = query.filter(C::Component.eq(component.as_str()));
        }
        if let Some(variable) = &filter.variable {
            query = query.filter(C::Variable.eq(variable.as_str()));
        }
        Ok(query
            .order_by_asc(C::Component)
            .order_by_asc(C::ComponentInstance)
            .order_by_asc(C::EvseId)
            .order_by_asc(C::ConnectorId)
            .order_by_asc(C::Variable)
            .order_by_asc(C::VariableInstance)
            .order_by_asc(C::Attribute)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_only_values_are_secret() {
        let write_only = ReportedVariable {
            variable: "Anything".into(),
            mutability: Some("WriteOnly".into()),
            ..Default::default()
        };
        assert!(write_only.secret());
    }
}

//! `/billing`: the tariffs in reach, edited inline by those who set them (operators, facility
//! managers: the same permission as access rules), read-only for fleet managers.

use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

use super::{Empty, Paging, after_form};
use crate::access::Permission;
use crate::console::layout::{csrf_input, delete_button, empty, org_label, org_select, page};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::http::extract::Path;
use crate::services::invalid;
use crate::services::tariffs::{self, TariffIn};
use crate::state::AppState;

/// `GET /billing`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let p = &viewer.principal;
    let rows = tariffs::list_tariffs(&state, p, &paging.query()).await?;
    let readable = org_choices(&state, p, Permission::Billing).await?;
    let writable = org_choices(&state, p, Permission::AccessRulesWrite).await?;
    let writes = |org: i32| writable.iter().any(|(o, _)| *o == org);
    let name = |org: i32| org_label(&readable, org);
    let body = html! {
        p.hint { "A session is charged at the tariff of the charger's organisation, or of the nearest organisation above it that has one." }
        (paging.filter("/billing", &readable))
        @if rows.is_empty() { (empty("tariffs")) } @else {
            table {
                thead { tr { th { "Organisation" } th { "Price per kWh" } th { "" } } }
                tbody { @for t in &rows {
                    tr {
                        td { (name(t.organisation_id)) }
                        td {
                            @if writes(t.organisation_id) {
                                form.row method="post" action={ "/tariffs/" (t.id) } {
                                    (csrf_input(&viewer))
                                    input name="price_per_kwh" type="number" step="0.0001" min="0" max="1000" required value=(format!("{:.4}", t.price_per_kwh)) aria-label={ "Price per kWh at " (name(t.organisation_id)) };
                                    input name="currency" required pattern="[A-Z]{3}" maxlength="3" size="4" value=(t.currency) aria-label={ "Currency at " (name(t.organisation_id)) };
                                    button type="submit" { "Save" }
                                }
                            } @else {
                                (format!("{:.4} {}", t.price_per_kwh, t.currency))
                            }
                        }
                        td { @if writes(t.organisation_id) { (delete_button(&viewer, &format!("/tariffs/{}/delete", t.id), &format!("the tariff of {}", name(t.organisation_id)))) } }
                    }
                } }
            }
            (paging.links("/billing", rows.len()))
        }
        @if !writable.is_empty() {
            h2 { "New tariff" }
            form.stacked method="post" action="/tariffs" {
                (csrf_input(&viewer))
                (org_select("tariff-org", &writable))
                label for="tariff-price" { "Price per kWh" }
                input #tariff-price name="price_per_kwh" type="number" step="0.0001" min="0" max="1000" required;
                label for="tariff-currency" { "Currency " small { "(ISO 4217, e.g. EUR)" } }
                input #tariff-currency name="currency" required pattern="[A-Z]{3}" maxlength="3";
                button type="submit" { "Add tariff" }
            }
        }
    };
    Ok(page(&state, &viewer, "/billing", "Billing: tariffs", body))
}

/// The tariff forms.
#[derive(Debug, Deserialize)]
pub struct TariffForm {
    #[serde(default, deserialize_with = "super::lenient")]
    organisation_id: Option<i32>,
    #[serde(default)]
    price_per_kwh: String,
    #[serde(default)]
    currency: String,
}

async fn save(state: &AppState, s: Submitted<TariffForm>, id: Option<i32>) -> PageResult {
    let f = s.form;
    let outcome = match f.price_per_kwh.trim().parse::<f64>() {
        Ok(price) if price.is_finite() => {
            let input = TariffIn {
                organisation_id: f.organisation_id,
                price_per_kwh: Some(price),
                currency: Some(f.currency.trim().to_owned()),
            };
            tariffs::save_tariff(state, &s.viewer.principal, id, input)
                .await
                .map(|t| format!("Tariff saved: {:.4} {} per kWh", t.price_per_kwh, t.currency))
        }
        _ => Err(invalid("price_per_kwh", "a number such as 0.35")),
    };
    after_form(state, outcome, "/billing")
}

/// `POST /tariffs`
pub async fn create(State(state): State<AppState>, s: Submitted<TariffForm>) -> PageResult {
    save(&state, s, None).await
}

/// `POST /tariffs/{id}`
pub async fn update(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<TariffForm>) -> PageResult {
    save(&state, s, Some(id)).await
}

/// `POST /tariffs/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = tariffs::delete_tariff(&state, &s.viewer.principal, id)
        .await
        .map(|()| "Tariff deleted".to_owned());
    after_form(&state, outcome, "/billing")
}

//! `/api/v1/tariffs`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::tariffs::{self as svc, NewTariff, TariffIn, TariffOut};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, delete))
}

list_op!(
    /// Tariffs (billing).
    "/api/v1/tariffs", "access", TariffOut, |s, p, q| svc::list_tariffs(s, p, q)
);
create_op!(
    /// Sets a tariff for an organisation's subtree.
    "/api/v1/tariffs", "access", NewTariff => TariffOut, |s, p, b| svc::save_tariff(s, p, None, b.into())
);
update_op!(
    /// Changes a tariff.
    "/api/v1/tariffs/{id}", "access", i32, TariffIn => TariffOut, |s, p, id, b| svc::save_tariff(s, p, Some(id), b)
);
delete_op!(
    /// Deletes a tariff.
    "/api/v1/tariffs/{id}", "access", i32, |s, p, id| svc::delete_tariff(s, p, id)
);

//! `/api/v1/drivers`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::drivers::{self as svc, DriverIn, DriverOut, NewDriver};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

list_op!(
    /// Drivers the caller may read.
    "/api/v1/drivers", "drivers", DriverOut, |s, p, q| svc::list_drivers(s, p, q)
);
create_op!(
    /// Adds a driver.
    "/api/v1/drivers", "drivers", NewDriver => DriverOut, |s, p, b| svc::save_driver(s, p, None, b.into())
);
get_op!(
    /// One driver.
    "/api/v1/drivers/{id}", "drivers", i32 => DriverOut, |s, p, id| svc::get_driver(s, p, id)
);
update_op!(
    /// Changes a driver.
    "/api/v1/drivers/{id}", "drivers", i32, DriverIn => DriverOut, |s, p, id, b| svc::save_driver(s, p, Some(id), b)
);
delete_op!(
    /// Deletes a driver (its tokens stay, unassigned).
    "/api/v1/drivers/{id}", "drivers", i32, |s, p, id| svc::delete_driver(s, p, id)
);

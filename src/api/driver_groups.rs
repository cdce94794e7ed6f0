//! `/api/v1/driver-groups`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::groups::{self as svc, GroupIn, GroupOut, NewGroup};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

list_op!(
    /// Driver groups the caller may read.
    "/api/v1/driver-groups", "drivers", GroupOut, |s, p, q| svc::list_groups(s, p, q)
);
create_op!(
    /// Adds a driver group.
    "/api/v1/driver-groups", "drivers", NewGroup => GroupOut, |s, p, b| svc::save_group(s, p, None, b.into())
);
get_op!(
    /// One group.
    "/api/v1/driver-groups/{id}", "drivers", i32 => GroupOut, |s, p, id| svc::get_group(s, p, id)
);
update_op!(
    /// Renames a group.
    "/api/v1/driver-groups/{id}", "drivers", i32, GroupIn => GroupOut, |s, p, id, b| svc::save_group(s, p, Some(id), b)
);
delete_op!(
    /// Deletes a group (its tokens stay, ungrouped; its access rules go).
    "/api/v1/driver-groups/{id}", "drivers", i32, |s, p, id| svc::delete_group(s, p, id)
);

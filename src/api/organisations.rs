//! `/api/v1/organisations`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::organisations::{self as svc, NewOrganisation, OrganisationOut, OrganisationPatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

list_op!(
    /// Organisations the caller may read (its subtrees).
    "/api/v1/organisations", "organisations", OrganisationOut, |s, p, q| svc::list(s, p, q)
);
create_op!(
    /// Creates an organisation below `parent_id` (operators of the parent).
    "/api/v1/organisations", "organisations", NewOrganisation => OrganisationOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One organisation.
    "/api/v1/organisations/{id}", "organisations", i32 => OrganisationOut, |s, p, id| svc::get(s, p, id)
);
update_op!(
    /// Renames or moves an organisation (moving needs operator rights above it).
    "/api/v1/organisations/{id}", "organisations", i32, OrganisationPatch => OrganisationOut, |s, p, id, b| svc::update(s, p, id, b)
);
delete_op!(
    /// Deletes an empty organisation (409 if it holds anything).
    "/api/v1/organisations/{id}", "organisations", i32, |s, p, id| svc::delete(s, p, id)
);

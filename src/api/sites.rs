//! `/api/v1/sites`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::sites::{self as svc, NewSite, SiteOut, SitePatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

list_op!(
    /// Sites the caller may see (fleet managers: home sites).
    "/api/v1/sites", "sites", SiteOut, |s, p, q| svc::list(s, p, q)
);
create_op!(
    /// Creates a site.
    "/api/v1/sites", "sites", NewSite => SiteOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One site.
    "/api/v1/sites/{id}", "sites", i32 => SiteOut, |s, p, id| svc::get(s, p, id)
);
update_op!(
    /// Changes a site.
    "/api/v1/sites/{id}", "sites", i32, SitePatch => SiteOut, |s, p, id, b| svc::update(s, p, id, b)
);
delete_op!(
    /// Deletes a site without chargers (409 otherwise).
    "/api/v1/sites/{id}", "sites", i32, |s, p, id| svc::delete(s, p, id)
);

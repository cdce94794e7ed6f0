//! `/api/v1/access-rules`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::access_rules::{self as svc, RuleIn, RuleOut};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

list_op!(
    /// Access rules at the caller's sites (support: reduced view).
    "/api/v1/access-rules", "access", RuleOut, |s, p, q| svc::list_rules(s, p, q)
);
create_op!(
    /// Admits a driver group at a private site.
    "/api/v1/access-rules", "access", RuleIn => RuleOut, |s, p, b| svc::create_rule(s, p, b)
);
delete_op!(
    /// Removes a rule.
    "/api/v1/access-rules/{id}", "access", i32, |s, p, id| svc::delete_rule(s, p, id)
);

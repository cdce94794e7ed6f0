//! `/api/v1/id-tokens`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::services::id_tokens::{self as svc, NewToken, TokenOut, TokenPatch};
use crate::services::local_lists::TokenSyncOut;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(sync))
}

list_op!(
    /// RFID cards and other id tokens the caller may read.
    "/api/v1/id-tokens", "id-tokens", TokenOut, |s, p, q| svc::list_tokens(s, p, q)
);
create_op!(
    /// Issues a token (409 if its value exists in the organisation tree).
    "/api/v1/id-tokens", "id-tokens", NewToken => TokenOut, |s, p, b| svc::create_token(s, p, b.into())
);
get_op!(
    /// One token.
    "/api/v1/id-tokens/{id}", "id-tokens", i32 => TokenOut, |s, p, id| svc::get_token(s, p, id)
);
update_op!(
    /// Blocks, unblocks, expires or reassigns a token.
    "/api/v1/id-tokens/{id}", "id-tokens", i32, TokenPatch => TokenOut, |s, p, id, b| svc::update_token(s, p, id, b.into())
);
delete_op!(
    /// Deletes a token.
    "/api/v1/id-tokens/{id}", "id-tokens", i32, |s, p, id| svc::delete_token(s, p, id)
);
/// How far the token's latest state has reached: chargers whose local list holds it, those
/// still pending (offline, failed, unsupported, too large) and cache clears still due.
#[utoipa::path(get, path = "/api/v1/id-tokens/{id}/sync", tag = "id-tokens", params(("id" = i32, Path)),
    security(("bearer" = [])), responses((status = 200, body = TokenSyncOut)))]
async fn sync(
    axum::extract::State(state): axum::extract::State<AppState>,
    auth: crate::http::extract::Auth,
    crate::http::extract::Path(id): crate::http::extract::Path<i32>,
) -> crate::http::error::ApiResult<axum::Json<TokenSyncOut>> {
    Ok(axum::Json(
        crate::services::local_lists::token_sync(&state, &auth.principal, id).await?,
    ))
}

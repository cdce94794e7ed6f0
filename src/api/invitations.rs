//! `/api/v1/invitations/{token}` (no bearer token: the link is the credential) and the page
//! at `/invitations/{token}` that the e-mailed link opens.

use axum::extract::State;
use axum::response::Html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Json, Path};
use crate::services::invitations::{self, AcceptInvitation, InvitationInfo};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(describe, accept))
}

/// What an invitation or reset link is for.
#[utoipa::path(get, path = "/api/v1/invitations/{token}", tag = "auth", params(("token" = String, Path)),
    responses((status = 200, body = InvitationInfo), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "`invitation_gone`: used or expired")))]
async fn describe(State(s): State<AppState>, Path(token): Path<String>) -> ApiResult<axum::Json<InvitationInfo>> {
    Ok(axum::Json(invitations::describe(&s, &token).await?))
}

/// Sets the password through the link; the user's sessions end.
#[utoipa::path(post, path = "/api/v1/invitations/{token}", tag = "auth", params(("token" = String, Path)), request_body = AcceptInvitation,
    responses((status = 200, body = InvitationInfo), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn accept(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(b): Json<AcceptInvitation>,
) -> ApiResult<axum::Json<InvitationInfo>> {
    Ok(axum::Json(invitations::accept(&s, &token, b).await?))
}

/// The page behind the link: a password form that posts to the API above. Static, so the
/// token never reaches a template; the script reads it from the address.
pub(super) async fn page() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; \
             form-action 'none'; frame-ancestors 'none'",
        )],
        Html(include_str!("invitation.html")),
    )
}

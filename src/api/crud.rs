//! The five shapes a resource's handlers take (list, create, get, update, delete), each a
//! macro that writes the annotated handler around one service call. The error answers are
//! not listed here: `StandardErrors` adds them to the document from the same facts the
//! extractors and the gate act on.
//!
//! Each macro takes the handler's doc comment, the path, the OpenAPI tag, the types, and
//! the service call written as `|state, principal, input| call`.

/// `GET path`: what the caller may read, paged.
macro_rules! list_op {
    ($(#[doc = $d:literal])+ $path:tt, $tag:tt, $out:ident, |$s:ident, $p:ident, $q:ident| $call:expr) => {
        $(#[doc = $d])+
        #[utoipa::path(get, path = $path, tag = $tag, params($crate::services::ListQuery), security(("bearer" = [])),
            responses((status = 200, body = [$out]),
                (status = 404, description = "`organisation_id` names an organisation outside the caller's subtrees",
                    body = $crate::http::error::ErrorBody)))]
        async fn list(
            axum::extract::State(state): axum::extract::State<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            $crate::http::extract::Query(query): $crate::http::extract::Query<$crate::services::ListQuery>,
        ) -> $crate::http::error::ApiResult<axum::Json<Vec<$out>>> {
            let ($s, $p, $q) = (&state, &auth.principal, &query);
            Ok(axum::Json($call.await?))
        }
    };
}

/// `POST path`: 201 with what was made.
macro_rules! create_op {
    ($(#[doc = $d:literal])+ $path:tt, $tag:tt, $new:ident => $out:ident, |$s:ident, $p:ident, $b:ident| $call:expr) => {
        $(#[doc = $d])+
        #[utoipa::path(post, path = $path, tag = $tag, request_body = $new, security(("bearer" = [])),
            responses((status = 201, body = $out),
                (status = 404, description = "the body names something outside the caller's subtrees",
                    body = $crate::http::error::ErrorBody)))]
        async fn create(
            axum::extract::State(state): axum::extract::State<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            $crate::http::extract::Json(body): $crate::http::extract::Json<$new>,
        ) -> $crate::http::error::ApiResult<(axum::http::StatusCode, axum::Json<$out>)> {
            let ($s, $p, $b) = (&state, &auth.principal, body);
            Ok((axum::http::StatusCode::CREATED, axum::Json($call.await?)))
        }
    };
}

/// `GET path/{id}`: one the caller may read.
macro_rules! get_op {
    ($(#[doc = $d:literal])+ $path:tt, $tag:tt, $id:ident => $out:ident, |$s:ident, $p:ident, $i:ident| $call:expr) => {
        $(#[doc = $d])+
        #[utoipa::path(get, path = $path, tag = $tag, params(("id" = $id, Path)), security(("bearer" = [])),
            responses((status = 200, body = $out)))]
        async fn get(
            axum::extract::State(state): axum::extract::State<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            $crate::http::extract::Path(id): $crate::http::extract::Path<$id>,
        ) -> $crate::http::error::ApiResult<axum::Json<$out>> {
            let ($s, $p, $i) = (&state, &auth.principal, id);
            Ok(axum::Json($call.await?))
        }
    };
}

/// `PATCH path/{id}`: 200 with the changed one.
macro_rules! update_op {
    ($(#[doc = $d:literal])+ $path:tt, $tag:tt, $id:ident, $patch:ident => $out:ident,
     |$s:ident, $p:ident, $i:ident, $b:ident| $call:expr) => {
        $(#[doc = $d])+
        #[utoipa::path(patch, path = $path, tag = $tag, params(("id" = $id, Path)), request_body = $patch,
            security(("bearer" = [])), responses((status = 200, body = $out)))]
        async fn update(
            axum::extract::State(state): axum::extract::State<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            $crate::http::extract::Path(id): $crate::http::extract::Path<$id>,
            $crate::http::extract::Json(body): $crate::http::extract::Json<$patch>,
        ) -> $crate::http::error::ApiResult<axum::Json<$out>> {
            let ($s, $p, $i, $b) = (&state, &auth.principal, id, body);
            Ok(axum::Json($call.await?))
        }
    };
}

/// `DELETE path/{id}`: 204.
macro_rules! delete_op {
    ($(#[doc = $d:literal])+ $path:tt, $tag:tt, $id:ident, |$s:ident, $p:ident, $i:ident| $call:expr) => {
        $(#[doc = $d])+
        #[utoipa::path(delete, path = $path, tag = $tag, params(("id" = $id, Path)), security(("bearer" = [])),
            responses((status = 204)))]
        async fn delete(
            axum::extract::State(state): axum::extract::State<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            $crate::http::extract::Path(id): $crate::http::extract::Path<$id>,
        ) -> $crate::http::error::ApiResult<axum::http::StatusCode> {
            let ($s, $p, $i) = (&state, &auth.principal, id);
            $call.await?;
            Ok(axum::http::StatusCode::NO_CONTENT)
        }
    };
}

//! `POST /graphql`: queries and mutations. Error codes and metrics are
//! added by the schema's own extension (see the graphql crate).

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use graphql_api::AdminAccess;

use crate::router::AppState;

/// Executes one GraphQL request (batches are not accepted). The caller's
/// admin standing is decided here, from the bearer token.
pub async fn execute_graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let access =
        AdminAccess::from_authorization(authorization, state.config.admin_token.as_deref());
    state
        .schema
        .execute(request.into_inner().data(access))
        .await
        .into()
}

//! `/graphql`: POST executes queries and mutations, GET serves GraphiQL.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Html;
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
    let mut response = state
        .schema
        .execute(request.into_inner().data(access))
        .await;
    for error in &mut response.errors {
        add_missing_code(error);
    }
    response.into()
}

/// Resolver errors carry their own code; errors raised by async-graphql
/// itself (parse, validation, depth and complexity limits) get one here, so
/// every error a client sees has `extensions.code`.
fn add_missing_code(error: &mut async_graphql::ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some());
    if has_code {
        return;
    }
    let code = if error.path.is_empty() {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "INTERNAL"
    };
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

/// The GraphiQL IDE, pointed at this server.
pub async fn serve_graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

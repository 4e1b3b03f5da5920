//! `POST /graphql`: queries and mutations, with error codes and metrics.

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
    let request = request.into_inner();
    let named = request.operation_name.clone();
    let operation = operation_label(named.or_else(|| document_operation_name(&request.query)));
    let mut response = state.schema.execute(request.data(access)).await;
    for error in &mut response.errors {
        add_missing_code(error);
    }
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    metrics::counter!("projector_graphql_requests_total", "operation" => operation, "outcome" => outcome)
        .increment(1);
    response.into()
}

/// The name of the document's operation when it has exactly one, named
/// (`query Dashboard { … }`) and the request did not say `operationName`.
fn document_operation_name(query: &str) -> Option<String> {
    use async_graphql::parser::types::DocumentOperations;
    let document = async_graphql::parser::parse_query(query).ok()?;
    let DocumentOperations::Multiple(operations) = document.operations else {
        return None;
    };
    let mut names = operations.keys();
    let name = names.next()?.to_string();
    names.next().is_none().then_some(name)
}

/// The operation name as a metrics label: letters, digits and `_`, at most
/// 48 characters, `anonymous` when absent.
fn operation_label(name: Option<String>) -> String {
    let label: String = name
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(48)
        .collect();
    if label.is_empty() {
        "anonymous".to_owned()
    } else {
        label
    }
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

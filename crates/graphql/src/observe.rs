//! Every executed request, however it arrives (POST /graphql, the status
//! page), passes through [`RequestOutcomes`]: errors raised by async-graphql
//! itself get an `extensions.code`, and the request is counted by operation
//! and outcome. It reads the operation name from the document the executor
//! has already parsed, so nothing is parsed twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{Request, Response, ServerError, ServerResult, Variables};

/// How many distinct operation names get a metrics label of their own;
/// later ones are counted as `other`, so clients cannot grow the label set
/// (and Prometheus's memory) without bound by naming operations at random.
pub(crate) const MAX_OPERATION_LABELS: usize = 64;

/// The label of operations past [`MAX_OPERATION_LABELS`].
const OTHER_OPERATIONS: &str = "other";

/// The extension factory to register on the schema; every request shares
/// the set of operation names already labelled.
#[derive(Default)]
pub struct RequestOutcomes {
    labels: Arc<OperationLabels>,
}

impl ExtensionFactory for RequestOutcomes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Observer {
            operation: Mutex::new(None),
            labels: self.labels.clone(),
        })
    }
}

/// The operation names that have a label, at most
/// [`MAX_OPERATION_LABELS`].
#[derive(Default)]
pub(crate) struct OperationLabels {
    known: Mutex<HashSet<String>>,
}

impl OperationLabels {
    /// The label for an operation name: the sanitised name while there is
    /// room or it already has one, `other` once the set is full.
    pub(crate) fn label(&self, name: Option<String>) -> String {
        let label = operation_label(name);
        let Ok(mut known) = self.known.lock() else {
            return OTHER_OPERATIONS.to_owned();
        };
        if known.contains(&label) {
            return label;
        }
        if known.len() >= MAX_OPERATION_LABELS {
            return OTHER_OPERATIONS.to_owned();
        }
        known.insert(label.clone());
        label
    }
}

/// Per-request state: the operation's name once known.
struct Observer {
    operation: Mutex<Option<String>>,
    labels: Arc<OperationLabels>,
}

impl Observer {
    fn name(&self, name: String) {
        if let Ok(mut operation) = self.operation.lock() {
            operation.get_or_insert(name);
        }
    }
}

#[async_trait::async_trait]
impl Extension for Observer {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            add_missing_code(error);
        }
        let operation = self.operation.lock().ok().and_then(|o| o.clone());
        let outcome = if response.errors.is_empty() {
            "ok"
        } else {
            "error"
        };
        metrics::counter!(
            "projector_graphql_requests_total",
            "operation" => self.labels.label(operation),
            "outcome" => outcome
        )
        .increment(1);
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(name) = &request.operation_name {
            self.name(name.clone());
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let DocumentOperations::Multiple(operations) = &document.operations {
            let mut names = operations.keys();
            if let (Some(name), None) = (names.next(), names.next()) {
                self.name(name.to_string());
            }
        }
        Ok(document)
    }
}

/// Resolver errors carry their own code; errors raised by async-graphql
/// itself (parse, validation, depth and complexity limits) get one here, so
/// every error a client sees has `extensions.code`.
fn add_missing_code(error: &mut ServerError) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let labels = OperationLabels::default();
        assert_eq!(labels.label(None), "anonymous");
        assert_eq!(labels.label(Some("Dash-board!".to_owned())), "Dashboard");
        for n in 0..1_000 {
            labels.label(Some(format!("random{n}")));
        }
        let known = labels.known.lock().expect("lock").len();
        assert_eq!(known, MAX_OPERATION_LABELS);
        assert_eq!(
            labels.label(Some("late_comer".to_owned())),
            OTHER_OPERATIONS
        );
        // Names labelled before the set filled keep their label.
        assert_eq!(labels.label(Some("Dashboard".to_owned())), "Dashboard");
        assert_eq!(labels.label(None), "anonymous");
    }
}

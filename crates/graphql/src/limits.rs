//! Limits that keep one query from monopolising the service.
//!
//! Every field has a complexity (its cost), summed over the document with
//! every alias counted, and a document over [`MAX_COMPLEXITY`] is refused
//! at validation, before anything is read. A field costs 1 plus its
//! children, a connection its page size times its nodes, and a field whose
//! work grows with the log costs what that work is worth:
//!
//! | field | cost |
//! |---|---|
//! | `activeCountSeries`, `activity`, `activeNpns(asOf)`, `stats`, `events(type)` | [`LOG_SCAN_COST`]: they read every entry of the log (or of some types) |
//! | `producer(asOf)`, `history`, `events(npn)` | [`PRODUCER_LOG_COST`]: they read one producer's entries |
//! | `activeNpns`, `producers` (their `totalCount`) | [`PROJECTION_SCAN_COST`]: they read every producer's row |
//!
//! So one document may read the whole log at most four times: a dashboard's
//! series, activity range and time-travel lookup fit together in one, and
//! fifty aliases of any of them do not.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};

/// The deepest selection accepted.
pub const MAX_DEPTH: usize = 12;

/// The highest complexity accepted. Connection fields count their page
/// size times the cost of a node, so a page of 100 producers with a few
/// fields fits, and nested pages of pages do not.
pub const MAX_COMPLEXITY: usize = 5_000;

/// The cost of a field that reads every entry of the log.
pub const LOG_SCAN_COST: usize = 1_000;

/// The cost of a field that reads one producer's entries of the log.
pub const PRODUCER_LOG_COST: usize = 20;

/// The cost of a field that reads every producer's row of the projection.
pub const PROJECTION_SCAN_COST: usize = 200;

/// The default and the largest `first` of a connection.
pub const DEFAULT_PAGE_SIZE: i32 = 50;
/// The largest `first` of a connection.
pub const MAX_PAGE_SIZE: i32 = 500;

/// The page size a connection uses: `first`, defaulted and capped.
pub(crate) fn page_size(first: Option<i32>) -> Result<u64, crate::error::ApiError> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE as u64),
        Some(n) if (0..=MAX_PAGE_SIZE).contains(&n) => Ok(n as u64),
        Some(_) => Err(crate::error::ApiError::InvalidArgument(format!(
            "first must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}

/// The complexity of a connection field: its page size times its nodes'.
pub(crate) fn connection_complexity(child: usize, first: Option<i32>) -> usize {
    let page = first.map_or(DEFAULT_PAGE_SIZE, |n| n.clamp(0, MAX_PAGE_SIZE)) as usize;
    page.saturating_mul(child).saturating_add(1)
}

/// The cost of a field that reads the log: `scan` plus its children.
pub(crate) fn scan_complexity(scan: usize, child: usize) -> usize {
    scan.saturating_add(child)
}

/// Refuses documents whose complexity is over [`MAX_COMPLEXITY`], saying
/// by how much and what costs most. (async-graphql's own limit says only
/// "Query is too complex.".) Runs after validation, whether or not its
/// result was kept, so a kept result is still judged.
pub(crate) struct ComplexityLimit;

impl ExtensionFactory for ComplexityLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ComplexityLimit)
    }
}

#[async_trait::async_trait]
impl Extension for ComplexityLimit {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > MAX_COMPLEXITY {
            return Err(vec![ServerError::new(too_complex(result.complexity), None)]);
        }
        Ok(result)
    }
}

/// The message of a refused document.
fn too_complex(complexity: usize) -> String {
    format!(
        "the query is too complex: its complexity is {complexity}, over the limit of {MAX_COMPLEXITY}. \
         Each field that reads the whole log (activeCountSeries, activity, activeNpns(asOf), stats, \
         events(type)) costs {LOG_SCAN_COST}, every alias counted; a page costs its size times its \
         nodes. Split the query or ask for fewer pages and series."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_limit_and_the_costs() {
        let message = too_complex(50_123);
        for part in ["50123", "5000", "1000", "activeCountSeries", "too complex"] {
            assert!(message.contains(part), "{part}: {message}");
        }
    }
}

//! Documents kept by their text: their parse, and their validation by
//! variable shape. Dashboards and clients send the same few documents over
//! and over with different variables. Parsing one was a tenth of the
//! server's CPU in the `producer(npn)` benchmark, validating it 9%. A
//! document parses the same whatever its variables, so the parse is done
//! once per text and the result cloned. Validation reads the variables, so
//! its result is kept by text and variable shape (see
//! [`crate::variable_shape`]), and only when it passed.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};

use crate::kept_map::KeptMap;
use crate::variable_shape::shape_key;

/// Documents longer than this are parsed every time (and not kept).
const MAX_KEPT_TEXT_BYTES: usize = 4 * 1024;
/// How many documents are kept; when full, the cache starts over, so an
/// endless stream of distinct documents costs a bounded amount of memory.
const MAX_KEPT_DOCUMENTS: usize = 256;
/// How many validation results are kept, likewise.
const MAX_KEPT_VALIDATIONS: usize = 1024;

/// The extension factory to register on the schema; every request shares
/// its documents and validation results.
pub struct ParsedDocuments {
    documents: Arc<KeptMap<Arc<ExecutableDocument>>>,
    validations: Arc<KeptMap<ValidationResult>>,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self {
            documents: Arc::new(KeptMap::new(MAX_KEPT_DOCUMENTS)),
            validations: Arc::new(KeptMap::new(MAX_KEPT_VALIDATIONS)),
        }
    }
}

impl ExtensionFactory for ParsedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(KeptParse {
            documents: self.documents.clone(),
            validations: self.validations.clone(),
            shape: Mutex::new(None),
        })
    }
}

/// One request's view of the kept documents, with the key its parse
/// produced for its validation.
struct KeptParse {
    documents: Arc<KeptMap<Arc<ExecutableDocument>>>,
    validations: Arc<KeptMap<ValidationResult>>,
    shape: Mutex<Option<String>>,
}

impl KeptParse {
    /// The kept document for `query`, copied after the lock is released so
    /// concurrent requests only share the lock for a map lookup.
    fn kept(&self, query: &str) -> Option<ExecutableDocument> {
        let document = self.documents.get(query)?;
        Some((*document).clone())
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() <= MAX_KEPT_TEXT_BYTES {
            self.documents
                .keep(query.to_owned(), Arc::new(document.clone()));
        }
    }
}

#[async_trait::async_trait]
impl Extension for KeptParse {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = match self.kept(query) {
            Some(document) => document,
            None => {
                let document = next.run(ctx, query, variables).await?;
                self.keep(query, &document);
                document
            }
        };
        if let (Some(shape), Ok(mut slot)) =
            (shape_key(query, &document, variables), self.shape.lock())
        {
            *slot = Some(shape);
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let shape = self.shape.lock().ok().and_then(|mut slot| slot.take());
        let Some(shape) = shape else {
            return next.run(ctx).await;
        };
        if let Some(result) = self.validations.get(&shape) {
            return Ok(result);
        }
        let result = next.run(ctx).await?;
        self.validations.keep(shape, result);
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema, Variables};
    use serde_json::json;

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, text: String) -> String {
            text
        }
    }

    /// Counts the parses that reach async-graphql's parser, i.e. those the
    /// cache (registered before it, so outside it) did not answer.
    #[derive(Clone, Default)]
    struct CountParses(Arc<AtomicUsize>);

    impl ExtensionFactory for CountParses {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(self.clone())
        }
    }

    #[async_trait::async_trait]
    impl Extension for CountParses {
        async fn parse_query(
            &self,
            ctx: &ExtensionContext<'_>,
            query: &str,
            variables: &Variables,
            next: NextParseQuery<'_>,
        ) -> ServerResult<ExecutableDocument> {
            self.0.fetch_add(1, Ordering::SeqCst);
            next.run(ctx, query, variables).await
        }
    }

    fn schema(
        cache: &ParsedDocuments,
        parses: &CountParses,
    ) -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(ParsedDocuments {
                documents: cache.documents.clone(),
                validations: cache.validations.clone(),
            })
            .extension(parses.clone())
            .finish()
    }

    /// An empty cache, a parse counter and a schema using both.
    fn fixture() -> (
        ParsedDocuments,
        CountParses,
        Schema<Query, EmptyMutation, EmptySubscription>,
    ) {
        let (cache, parses) = (ParsedDocuments::default(), CountParses::default());
        let schema = schema(&cache, &parses);
        (cache, parses, schema)
    }

    fn parsed(parses: &CountParses) -> usize {
        parses.0.load(Ordering::SeqCst)
    }

    fn echo(text: &str) -> Request {
        Request::new("query($t: String!) { echo(text: $t) }")
            .variables(Variables::from_json(json!({ "t": text })))
    }

    fn kept(cache: &ParsedDocuments) -> usize {
        cache.documents.len()
    }

    #[tokio::test]
    async fn a_document_is_parsed_once_and_answers_with_each_requests_own_variables() {
        let (cache, parses, schema) = fixture();
        for text in ["first", "second", "third"] {
            let answer = schema.execute(echo(text)).await;
            assert!(answer.errors.is_empty(), "{:?}", answer.errors);
            assert_eq!(answer.data.into_json().ok(), Some(json!({ "echo": text })));
        }
        assert_eq!(kept(&cache), 1);
        assert_eq!(parsed(&parses), 1);
    }

    #[tokio::test]
    async fn unparsable_and_oversized_documents_are_not_kept() {
        let (cache, parses, schema) = fixture();
        let long = format!("{{ echo(text: \"{}\") }}", "x".repeat(MAX_KEPT_TEXT_BYTES));
        for _ in 0..2 {
            assert!(!schema.execute("{ echo(text: ").await.errors.is_empty());
            assert!(schema.execute(long.as_str()).await.errors.is_empty());
        }
        assert_eq!(kept(&cache), 0);
        assert_eq!(parsed(&parses), 4);
    }

    #[tokio::test]
    async fn the_validation_results_never_outnumber_their_bound() {
        let (cache, _, schema) = fixture();
        for n in 0..MAX_KEPT_VALIDATIONS + 10 {
            // A number in place of a string: a new shape, and a failure.
            let request = Request::new("query($t: String!) { echo(text: $t) }")
                .variables(Variables::from_json(json!({ "t": n })));
            assert!(!schema.execute(request).await.errors.is_empty());
            let fine = Request::new(format!("query($t: String!) {{ e{n}: echo(text: $t) }}"))
                .variables(Variables::from_json(json!({ "t": "x" })));
            assert!(schema.execute(fine).await.errors.is_empty());
            assert!(cache.validations.len() <= MAX_KEPT_VALIDATIONS);
        }
    }

    #[tokio::test]
    async fn the_cache_never_holds_more_than_its_bound() {
        let (cache, parses, schema) = fixture();
        for n in 0..MAX_KEPT_DOCUMENTS + 10 {
            let answer = schema.execute(format!("{{ echo(text: \"{n}\") }}")).await;
            assert!(answer.errors.is_empty());
            assert!(kept(&cache) <= MAX_KEPT_DOCUMENTS);
        }
        // Every text was new, so each was parsed exactly once.
        assert_eq!(parsed(&parses), MAX_KEPT_DOCUMENTS + 10);
    }
}

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
mod tests;

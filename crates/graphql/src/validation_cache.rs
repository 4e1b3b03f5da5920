//! Validation results kept by document and variable shape.
//!
//! Validation was 9% of the server's CPU in the `producer(npn)` benchmark,
//! the same few documents validated again and again. It cannot be kept by
//! document alone: async-graphql's rules read the variables (an argument's
//! value is checked against its type; a page's complexity multiplies by
//! `first`). But a variable declared `String` or `ID` is valid whatever its
//! text, so the result is kept by the document's text and its variables
//! with the text of those strings blanked: `producer(npn: $n)` validates
//! once for every NPN, while a different `first`, an enum value or a value
//! of the wrong type is validated anew. Only documents with a single
//! operation are kept (with several, which one runs changes which variables
//! are checked), and only results that passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument, Type};
use async_graphql::{ServerError, ServerResult, ValidationResult, Value, Variables};

/// Keys (document text and variable shape) longer than this are validated
/// every time (and not kept).
const MAX_KEY_BYTES: usize = 8 * 1024;
/// How many results are kept; when full, the cache starts over, so an
/// endless stream of distinct shapes costs a bounded amount of memory.
const MAX_KEPT_RESULTS: usize = 1024;

type Results = Arc<Mutex<HashMap<String, ValidationResult>>>;

/// The extension factory to register on the schema, before (outside) the
/// parse cache, so that it sees every document; every request shares its
/// results.
#[derive(Default)]
pub struct ValidatedShapes {
    results: Results,
}

impl ExtensionFactory for ValidatedShapes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(KeptValidation {
            results: self.results.clone(),
            key: Mutex::new(None),
        })
    }
}

/// One request's view: the key its parse produced, for its validation.
struct KeptValidation {
    results: Results,
    key: Mutex<Option<String>>,
}

impl KeptValidation {
    fn kept(&self, key: &str) -> Option<ValidationResult> {
        self.results.lock().ok()?.get(key).copied()
    }

    fn keep(&self, key: String, result: ValidationResult) {
        if let Ok(mut results) = self.results.lock() {
            if results.len() >= MAX_KEPT_RESULTS {
                results.clear();
            }
            results.insert(key, result);
        }
    }
}

#[async_trait::async_trait]
impl Extension for KeptValidation {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let (Some(key), Ok(mut slot)) = (shape_key(query, &document, variables), self.key.lock())
        {
            *slot = Some(key);
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let key = self.key.lock().ok().and_then(|mut slot| slot.take());
        let Some(key) = key else {
            return next.run(ctx).await;
        };
        if let Some(result) = self.kept(&key) {
            return Ok(result);
        }
        let result = next.run(ctx).await?;
        self.keep(key, result);
        Ok(result)
    }
}

/// The document's text and its variables with the text of every `String`
/// or `ID` variable blanked; `None` when the result must not be kept.
fn shape_key(query: &str, document: &ExecutableDocument, variables: &Variables) -> Option<String> {
    let DocumentOperations::Single(operation) = &document.operations else {
        return None;
    };
    let mut shape = variables.clone();
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        if any_text_is_valid(&definition.var_type.node)
            && let Some(value) = shape.get_mut(&definition.name.node)
        {
            blank_text(value);
        }
    }
    let shape = serde_json::to_string(&shape).ok()?;
    let key = format!("{query}\u{0}{shape}");
    (key.len() <= MAX_KEY_BYTES).then_some(key)
}

/// Whether every string is as valid as any other for this type: `String`
/// and `ID`, however wrapped in lists and non-null.
fn any_text_is_valid(ty: &Type) -> bool {
    match &ty.base {
        BaseType::Named(name) => matches!(name.as_str(), "String" | "ID"),
        BaseType::List(item) => any_text_is_valid(item),
    }
}

/// Empties every string in `value` (and in its lists); any other value is
/// left as it is, so a value of the wrong type still fails validation.
fn blank_text(value: &mut Value) {
    match value {
        Value::String(text) => text.clear(),
        Value::List(items) => items.iter_mut().for_each(blank_text),
        _ => {}
    }
}

#[cfg(test)]
mod tests;

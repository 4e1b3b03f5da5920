//! The shape of a request's variables, by which the parse cache
//! ([`crate::parse_cache`]) keeps validation results.
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

use async_graphql::Value;
use async_graphql::Variables;
use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument, Type};

/// Keys (document text and variable shape) longer than this are validated
/// every time (and not kept).
const MAX_KEY_BYTES: usize = 8 * 1024;

/// The document's text and its variables with the text of every `String`
/// or `ID` variable blanked; `None` when the result must not be kept.
pub(crate) fn shape_key(
    query: &str,
    document: &ExecutableDocument,
    variables: &Variables,
) -> Option<String> {
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

//! `[String!]!` resolved in one step.

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value, registry};

/// A list of strings with the same GraphQL type as `Vec<String>`
/// (`[String!]!`), resolved in one step. The generic list resolver awaits
/// one future per item, which dominated `activeNpns` at 60,000+ NPNs.
pub struct StringList(pub Vec<String>);

impl OutputType for StringList {
    fn type_name() -> Cow<'static, str> {
        <Vec<String> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<String> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        <Vec<String> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::List(
            self.0.iter().cloned().map(Value::String).collect(),
        ))
    }
}

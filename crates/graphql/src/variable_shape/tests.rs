use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{EmptyMutation, EmptySubscription, Enum, Object, Request, Schema};
use serde_json::json;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult, Variables};
use std::sync::Arc;

use crate::parse_cache::ParsedDocuments;

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
enum Color {
    Red,
    Blue,
}

struct Query;

#[Object]
impl Query {
    async fn echo(&self, text: String) -> String {
        text
    }

    async fn ids(&self, ids: Vec<async_graphql::ID>) -> usize {
        ids.len()
    }

    #[graphql(complexity = "first.unwrap_or(1) as usize + child_complexity")]
    async fn page(&self, first: Option<i32>) -> i32 {
        first.unwrap_or(1)
    }

    async fn paint(&self, color: Color) -> bool {
        color == Color::Red
    }
}

/// Counts the validations that reach async-graphql's rules, i.e. those the
/// cache (registered before it, so outside it) did not answer.
#[derive(Clone, Default)]
struct CountValidations(Arc<AtomicUsize>);

impl ExtensionFactory for CountValidations {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for CountValidations {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        next.run(ctx).await
    }
}

type TestSchema = Schema<Query, EmptyMutation, EmptySubscription>;

fn fixture() -> (CountValidations, TestSchema) {
    let validations = CountValidations::default();
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .extension(ParsedDocuments::default())
        .extension(validations.clone())
        .limit_complexity(50)
        .finish();
    (validations, schema)
}

fn validated(validations: &CountValidations) -> usize {
    validations.0.load(Ordering::SeqCst)
}

async fn run(schema: &TestSchema, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let request = Request::new(query).variables(Variables::from_json(variables));
    let answer = schema.execute(request).await;
    json!({
        "data": answer.data.into_json().ok(),
        "errors": answer.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn a_string_variable_validates_once_whatever_its_text() {
    let (validations, schema) = fixture();
    for text in ["first", "second", ""] {
        let answer = run(
            &schema,
            "query($t: String!) { echo(text: $t) }",
            json!({ "t": text }),
        )
        .await;
        assert_eq!(answer["data"], json!({ "echo": text }));
    }
    for ids in [json!(["a"]), json!(["b"])] {
        let answer = run(
            &schema,
            "query($i: [ID!]!) { ids(ids: $i) }",
            json!({ "i": ids }),
        )
        .await;
        assert_eq!(answer["data"], json!({ "ids": 1 }));
    }
    assert_eq!(validated(&validations), 2);
}

#[tokio::test]
async fn a_value_of_the_wrong_type_fails_even_after_a_good_one_was_kept() {
    let (validations, schema) = fixture();
    let query = "query($t: String!) { echo(text: $t) }";
    run(&schema, query, json!({ "t": "fine" })).await;
    for bad in [json!({ "t": 5 }), json!({ "t": null }), json!({})] {
        let answer = run(&schema, query, bad.clone()).await;
        assert_eq!(answer["data"], json!(null), "{bad}");
        assert_eq!(answer["errors"].as_array().map(Vec::len), Some(1), "{bad}");
    }
    assert_eq!(validated(&validations), 4, "failures are never kept");
}

#[tokio::test]
async fn numbers_and_enum_values_are_part_of_the_shape() {
    let (validations, schema) = fixture();
    let page = "query($f: Int) { page(first: $f) }";
    assert_eq!(
        run(&schema, page, json!({ "f": 2 })).await["data"],
        json!({ "page": 2 })
    );
    let too_complex = run(&schema, page, json!({ "f": 1000 })).await;
    assert_eq!(too_complex["errors"], json!(["Query is too complex."]));

    let paint = "query($c: Color!) { paint(color: $c) }";
    assert_eq!(
        run(&schema, paint, json!({ "c": "RED" })).await["data"],
        json!({ "paint": true })
    );
    let unknown = run(&schema, paint, json!({ "c": "GREEN" })).await;
    assert_eq!(unknown["data"], json!(null));
    assert_eq!(unknown["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(validated(&validations), 4);
}

#[tokio::test]
async fn documents_with_several_operations_are_validated_every_time() {
    let (validations, schema) = fixture();
    let query = "query A($t: String!) { echo(text: $t) } query B { page }";
    for text in ["x", "y"] {
        let request = Request::new(query)
            .operation_name("A")
            .variables(Variables::from_json(json!({ "t": text })));
        let answer = schema.execute(request).await;
        assert!(answer.errors.is_empty(), "{:?}", answer.errors);
    }
    assert_eq!(validated(&validations), 2);
}

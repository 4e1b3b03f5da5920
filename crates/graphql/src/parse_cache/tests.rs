use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{EmptyMutation, EmptySubscription, Enum, Object, Request, Schema};
use serde_json::json;

use super::*;

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

/// Counts the parses and validations that reach async-graphql, i.e. those
/// the cache (registered before it, so outside it) did not answer.
#[derive(Clone, Default)]
struct CountReaches {
    parses: Arc<AtomicUsize>,
    validations: Arc<AtomicUsize>,
}

impl CountReaches {
    fn parsed(&self) -> usize {
        self.parses.load(Ordering::SeqCst)
    }

    fn validated(&self) -> usize {
        self.validations.load(Ordering::SeqCst)
    }
}

impl ExtensionFactory for CountReaches {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for CountReaches {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        self.parses.fetch_add(1, Ordering::SeqCst);
        next.run(ctx, query, variables).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        self.validations.fetch_add(1, Ordering::SeqCst);
        next.run(ctx).await
    }
}

type TestSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// An empty cache, a counter behind it and a schema using both.
fn fixture() -> (ParsedDocuments, CountReaches, TestSchema) {
    let (cache, reaches) = (ParsedDocuments::default(), CountReaches::default());
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .extension(ParsedDocuments {
            documents: cache.documents.clone(),
            validations: cache.validations.clone(),
        })
        .extension(reaches.clone())
        .limit_complexity(50)
        .finish();
    (cache, reaches, schema)
}

/// The answer's data and error messages.
async fn run(schema: &TestSchema, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let request = Request::new(query).variables(Variables::from_json(variables));
    let answer = schema.execute(request).await;
    json!({
        "data": answer.data.into_json().ok(),
        "errors": answer.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
    })
}

const ECHO: &str = "query($t: String!) { echo(text: $t) }";

#[tokio::test]
async fn a_document_is_parsed_once_and_answers_with_each_requests_own_variables() {
    let (cache, reaches, schema) = fixture();
    for text in ["first", "second", "third"] {
        let answer = run(&schema, ECHO, json!({ "t": text })).await;
        assert_eq!(answer, json!({ "data": { "echo": text }, "errors": [] }));
    }
    assert_eq!(cache.documents.len(), 1);
    assert_eq!(reaches.parsed(), 1);
}

#[tokio::test]
async fn unparsable_and_oversized_documents_are_not_kept() {
    let (cache, reaches, schema) = fixture();
    let long = format!("{{ echo(text: \"{}\") }}", "x".repeat(MAX_KEPT_TEXT_BYTES));
    for _ in 0..2 {
        assert!(!schema.execute("{ echo(text: ").await.errors.is_empty());
        assert!(schema.execute(long.as_str()).await.errors.is_empty());
    }
    assert_eq!(cache.documents.len(), 0);
    assert_eq!(reaches.parsed(), 4);
}

#[tokio::test]
async fn the_cache_never_holds_more_than_its_bound() {
    let (cache, reaches, schema) = fixture();
    for n in 0..MAX_KEPT_DOCUMENTS + 10 {
        let answer = schema.execute(format!("{{ echo(text: \"{n}\") }}")).await;
        assert!(answer.errors.is_empty());
        assert!(cache.documents.len() <= MAX_KEPT_DOCUMENTS);
    }
    // Every text was new, so each was parsed exactly once.
    assert_eq!(reaches.parsed(), MAX_KEPT_DOCUMENTS + 10);
}

#[tokio::test]
async fn a_string_variable_validates_once_whatever_its_text() {
    let (_, reaches, schema) = fixture();
    for text in ["first", "second", ""] {
        let answer = run(&schema, ECHO, json!({ "t": text })).await;
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
    assert_eq!(reaches.validated(), 2);
}

#[tokio::test]
async fn a_value_of_the_wrong_type_fails_even_after_a_good_one_was_kept() {
    let (_, reaches, schema) = fixture();
    run(&schema, ECHO, json!({ "t": "fine" })).await;
    for bad in [json!({ "t": 5 }), json!({ "t": null }), json!({})] {
        let answer = run(&schema, ECHO, bad.clone()).await;
        assert_eq!(answer["data"], json!(null), "{bad}");
        assert_eq!(answer["errors"].as_array().map(Vec::len), Some(1), "{bad}");
    }
    assert_eq!(reaches.validated(), 4, "failures are never kept");
}

#[tokio::test]
async fn numbers_and_enum_values_are_validated_anew() {
    let (_, reaches, schema) = fixture();
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
    assert_eq!(reaches.validated(), 4);
}

#[tokio::test]
async fn documents_with_several_operations_are_validated_every_time() {
    let (_, reaches, schema) = fixture();
    let query = "query A($t: String!) { echo(text: $t) } query B { page }";
    for text in ["x", "y"] {
        let request = Request::new(query)
            .operation_name("A")
            .variables(Variables::from_json(json!({ "t": text })));
        let answer = schema.execute(request).await;
        assert!(answer.errors.is_empty(), "{:?}", answer.errors);
    }
    assert_eq!(reaches.validated(), 2);
}

#[tokio::test]
async fn the_validation_results_never_outnumber_their_bound() {
    let (cache, _, schema) = fixture();
    for n in 0..MAX_KEPT_VALIDATIONS + 10 {
        // A number in place of a string: a new shape, and a failure.
        assert!(!run(&schema, ECHO, json!({ "t": n })).await["errors"][0].is_null());
        let fine = format!("query($t: String!) {{ e{n}: echo(text: $t) }}");
        assert_eq!(
            run(&schema, &fine, json!({ "t": "x" })).await["errors"],
            json!([])
        );
        assert!(cache.validations.len() <= MAX_KEPT_VALIDATIONS);
    }
}

//! The checked-in SDL is the public contract: it must match the code.

use std::path::PathBuf;

#[test]
fn checked_in_schema_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/schema.graphql");
    let checked_in = std::fs::read_to_string(&path).expect("schema/schema.graphql exists");
    let generated = graphql_api::export_sdl();
    assert!(
        checked_in == generated,
        "schema/schema.graphql is out of date: run `cargo run -p producer-projector -- export-schema --output schema/schema.graphql` and review the diff"
    );
}

//! The GraphQL API over the projection and the event log: the "serve"
//! stage's schema, without HTTP (the server crate mounts it).
//!
//! Queries read the current projection generation and the log; the one
//! mutation, `rebuildProjection`, needs the admin token. Depth and
//! complexity are limited from the start, and every error carries an
//! `extensions.code`.

mod auth;
mod error;
mod kept_map;
mod limits;
mod mutation;
mod observe;
mod parse_cache;
mod query;
mod subscription;
mod types;
mod variable_shape;

use async_graphql::{SDLExportOptions, Schema};
use event_store::Store;
use projection::{ChangeFeed, Projector};

pub use auth::AdminAccess;
pub use error::ErrorCode;
pub use limits::{MAX_COMPLEXITY, MAX_DEPTH, MAX_PAGE_SIZE};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

/// The service's schema type.
pub type ProjectorSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// What resolvers reach through the context.
#[derive(Clone)]
pub struct ApiContext {
    /// The database, for reads.
    pub store: Store,
    /// The projection's controller, for status and rebuilds.
    pub projector: Projector,
    /// Committed changes, for subscriptions.
    pub feed: ChangeFeed,
}

/// Builds the schema with its limits, serving `context`.
pub fn build_schema(context: ApiContext) -> ProjectorSchema {
    schema_builder()
        .extension(observe::RequestOutcomes)
        .extension(parse_cache::ParsedDocuments::default())
        .data(context)
        .finish()
}

fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

/// The SDL, with fixed export options so the checked-in file is stable.
pub fn export_sdl() -> String {
    schema_builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}

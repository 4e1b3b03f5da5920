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
pub use limits::{
    LOG_SCAN_COST, MAX_COMPLEXITY, MAX_DEPTH, MAX_PAGE_SIZE, PRODUCER_LOG_COST,
    PROJECTION_SCAN_COST,
};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::{SubscriptionLimit, SubscriptionRoot};

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
    /// Subscriptions running at once, bounded.
    pub subscriptions: SubscriptionLimit,
}

/// Builds the schema with its limits, serving `context`.
pub fn build_schema(context: ApiContext) -> ProjectorSchema {
    schema_builder()
        .extension(limits::ComplexityLimit)
        .extension(observe::RequestOutcomes::default())
        .extension(parse_cache::ParsedDocuments::default())
        .data(context)
        .finish()
}

fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    // The complexity limit is checked by `limits::ComplexityLimit`, whose
    // refusal says what it is.
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot).limit_depth(MAX_DEPTH)
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

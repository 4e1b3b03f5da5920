//! The mutation root: operations that need the admin token.

use async_graphql::{Context, Object};

use crate::ApiContext;
use crate::auth::AdminAccess;
use crate::error::ApiError;
use crate::types::RebuildResult;

/// Every mutation.
pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Replays the whole log through the current fold into a shadow
    /// projection and swaps it in; queries keep answering meanwhile.
    async fn rebuild_projection(&self, ctx: &Context<'_>) -> async_graphql::Result<RebuildResult> {
        ctx.data_opt::<AdminAccess>()
            .copied()
            .unwrap_or(AdminAccess::Denied)
            .require()?;
        let projector = ctx.data::<ApiContext>()?.projector.clone();
        // Run detached, so a client that disconnects cannot cancel a rebuild
        // half-way.
        let report = tokio::spawn(async move { projector.rebuild().await })
            .await
            .map_err(|error| ApiError::Internal(error.to_string()))?
            .map_err(ApiError::from)?;
        Ok(RebuildResult {
            generation: report.generation,
            events_folded: report.events_folded,
            producers_written: report.producers_written,
            duration_ms: report.duration_ms,
            events_per_second: report.events_per_second,
        })
    }
}

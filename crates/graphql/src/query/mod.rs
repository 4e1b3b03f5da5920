//! The query root.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{Context, Object};
use event_store::LogFilter;
use projection::{FOLD_VERSION, decode_state};

use chrono::{DateTime, Utc};

use crate::ApiContext;
use crate::error::{ApiError, ApiResult};
use crate::limits::{
    LOG_SCAN_COST, PRODUCER_LOG_COST, PROJECTION_SCAN_COST, connection_complexity, page_size,
    scan_complexity,
};
use crate::types::{
    EventConnection, Producer, ProducerConnection, ProducerStatus, ProjectionStatus, RebuildResult,
    Stats, StringList, TypeCount, by_reason, datetime, event_page,
};

mod history;

pub use history::{ActiveCountPoint, ActivityBucket, Bucket};

/// One day in microseconds.
const DAY_MICROS: i64 = 86_400_000_000;

/// Every query.
pub struct QueryRoot;

fn api<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a ApiContext> {
    ctx.data::<ApiContext>()
}

fn producer_from(row: &event_store::ProducerRow) -> ApiResult<Producer> {
    let state = decode_state(row).map_err(ApiError::from)?;
    Ok(Producer {
        npn: row.npn.clone(),
        state,
    })
}

#[Object]
impl QueryRoot {
    /// One producer by NPN, or null when no event has named it. With
    /// `asOf`, its state as of that moment, folded from the log up to it.
    #[graphql(
        complexity = "if as_of.is_some() { scan_complexity(PRODUCER_LOG_COST, child_complexity) } else { 1 + child_complexity }"
    )]
    async fn producer(
        &self,
        ctx: &Context<'_>,
        npn: String,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<Producer>> {
        let api = api(ctx)?;
        let npn = normalise_argument(&npn)?;
        if let Some(as_of) = as_of {
            return Ok(history::producer_as_of(&api.store, &npn, as_of).await?);
        }
        let row = api
            .store
            .current_producer(&npn)
            .await
            .map_err(ApiError::from)?;
        Ok(row.as_ref().map(producer_from).transpose()?)
    }

    /// Producers by NPN, optionally with one status, a page at a time.
    #[graphql(
        complexity = "scan_complexity(PROJECTION_SCAN_COST, connection_complexity(child_complexity, first))"
    )]
    async fn producers(
        &self,
        ctx: &Context<'_>,
        status: Option<ProducerStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ProducerConnection> {
        let api = api(ctx)?;
        let limit = page_size(first)?;
        let after_npn = after
            .map(|cursor| {
                OpaqueCursor::<String>::decode_cursor(&cursor).map_err(|_| ApiError::InvalidCursor)
            })
            .transpose()?
            .map(|cursor| cursor.0);
        let status = status.map(ProducerStatus::as_str);
        let mut rows = api
            .store
            .current_producers_page(status, after_npn.as_deref(), limit + 1)
            .await
            .map_err(ApiError::from)?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let total_count = api
            .store
            .count_current_producers(status)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::with_additional_fields(
            after_npn.is_some(),
            has_next,
            crate::types::TotalCountFields { total_count },
        );
        for row in &rows {
            connection.edges.push(Edge::new(
                OpaqueCursor(row.npn.clone()),
                producer_from(row)?,
            ));
        }
        Ok(connection)
    }

    /// Every active NPN, sorted. With `asOf`, as of that moment.
    #[graphql(
        complexity = "if as_of.is_some() { LOG_SCAN_COST } else { PROJECTION_SCAN_COST } + child_complexity"
    )]
    async fn active_npns(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<StringList> {
        let api = api(ctx)?;
        if let Some(as_of) = as_of {
            return Ok(StringList(
                history::active_npns_as_of(&api.store, as_of).await?,
            ));
        }
        let status = ProducerStatus::Active.as_str();
        let npns = api
            .store
            .current_npns_with_status(status)
            .await
            .map_err(ApiError::from)?;
        Ok(StringList(npns))
    }

    /// The event log, oldest first, optionally for one NPN and/or one type.
    #[graphql(
        complexity = "scan_complexity(if event_type.is_some() { LOG_SCAN_COST } else if npn.is_some() { PRODUCER_LOG_COST } else { 0 }, connection_complexity(child_complexity, first))"
    )]
    async fn events(
        &self,
        ctx: &Context<'_>,
        npn: Option<String>,
        #[graphql(name = "type")] event_type: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let api = api(ctx)?;
        let npn = npn.as_deref().map(normalise_argument).transpose()?;
        let filter = LogFilter { npn, event_type };
        Ok(event_page(&api.store, filter, first, after).await?)
    }

    /// The active population at the end of each bucket of `[from, to)`.
    #[graphql(complexity = "scan_complexity(LOG_SCAN_COST, child_complexity)")]
    async fn active_count_series(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> async_graphql::Result<Vec<ActiveCountPoint>> {
        Ok(history::active_count_points(&api(ctx)?.store, from, to, bucket).await?)
    }

    /// Activations, deactivations, profile changes and refused deliveries
    /// per bucket of `[from, to)`, from the log.
    #[graphql(complexity = "scan_complexity(LOG_SCAN_COST, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> async_graphql::Result<Vec<ActivityBucket>> {
        Ok(history::activity(&api(ctx)?.store, from, to, bucket).await?)
    }

    /// Where the projection stands against the log.
    async fn projection(&self, ctx: &Context<'_>) -> async_graphql::Result<ProjectionStatus> {
        let api = api(ctx)?;
        // The head first: appends fold in their own transaction, so the
        // meta row read after it has folded at least that far, whichever
        // replica appended meanwhile (a head read second could count a
        // lag that never was).
        let head = api.store.log_head().await.map_err(ApiError::from)?;
        let meta = api.projector.current_meta().await.map_err(ApiError::from)?;
        let applied_position = meta.as_ref().map_or(0, |m| m.applied_position);
        let log_head = head.max(applied_position);
        let rebuilding = api
            .projector
            .is_rebuilding_anywhere()
            .await
            .map_err(ApiError::from)?;
        let last_rebuild = meta.as_ref().and_then(|m| {
            let duration_ms = m.duration_ms?;
            let events_folded = m.events_folded?;
            Some(RebuildResult {
                generation: m.generation,
                events_folded,
                producers_written: m.producers_written?,
                duration_ms,
                events_per_second: events_folded as f64 * 1000.0 / duration_ms.max(1) as f64,
            })
        });
        Ok(ProjectionStatus {
            applied_position,
            log_head,
            lag: log_head - applied_position,
            generation: meta.as_ref().map_or(0, |m| m.generation),
            fold_version: meta.as_ref().map_or(0, |m| m.fold_version),
            code_fold_version: FOLD_VERSION,
            rebuilding,
            last_rebuild_at: meta.as_ref().and_then(|m| m.finished_at).and_then(datetime),
            last_rebuild,
        })
    }

    /// Counts for dashboards.
    #[graphql(complexity = "scan_complexity(LOG_SCAN_COST, child_complexity)")]
    async fn stats(&self, ctx: &Context<'_>) -> async_graphql::Result<Stats> {
        let api = api(ctx)?;
        let active = ProducerStatus::Active.as_str();
        let inactive = ProducerStatus::Inactive.as_str();
        let by_type = api.store.count_by_type().await.map_err(ApiError::from)?;
        let global = api.projector.global_state().await.map_err(ApiError::from)?;
        Ok(Stats {
            active_count: api
                .store
                .count_current_producers(Some(active))
                .await
                .map_err(ApiError::from)?,
            inactive_count: api
                .store
                .count_current_producers(Some(inactive))
                .await
                .map_err(ApiError::from)?,
            events_in_log: by_type.iter().map(|t| t.count).sum(),
            events_by_type: by_type
                .into_iter()
                .map(|t| TypeCount {
                    event_type: t.event_type,
                    count: t.count,
                })
                .collect(),
            unfolded_events: api.store.count_unfolded().await.map_err(ApiError::from)?,
            test_deliveries: api
                .store
                .count_test_deliveries()
                .await
                .map_err(ApiError::from)?,
            last_run_date: global.run_date.map(|run| run.value),
            last_delivery_at: api
                .store
                .last_received_at()
                .await
                .map_err(ApiError::from)?
                .and_then(datetime),
            rejected_deliveries: by_reason(
                api.store
                    .rejections_since(0)
                    .await
                    .map_err(ApiError::from)?,
            ),
            recent_rejections: by_reason(
                api.store
                    .rejections_since(Utc::now().timestamp_micros() - DAY_MICROS)
                    .await
                    .map_err(ApiError::from)?,
            ),
        })
    }
}

/// NPN arguments are normalised like `data.npn`, so `"0012"` finds `12`.
pub(crate) fn normalise_argument(npn: &str) -> ApiResult<String> {
    agentsync_events::normalise_npn(&serde_json::Value::from(npn))
        .map_err(|_| ApiError::InvalidArgument("npn must be a string of digits".to_owned()))
}

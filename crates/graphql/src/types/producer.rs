//! Producers as GraphQL sees them: folded state, masked.

use std::collections::HashMap;

use agentsync_events::{RawObject, SubRecordKind, record_payload};
use async_graphql::connection::{Connection, OpaqueCursor};
use async_graphql::{Context, Enum, Json, Object};
use chrono::{DateTime, Utc};
use event_store::LogFilter;
use projection::{PayloadAt, ProducerState, Status};
use serde_json::Value;

use crate::ApiContext;
use crate::error::ApiError;
use crate::limits::{PRODUCER_LOG_COST, connection_complexity, scan_complexity};
use crate::types::event::{EventConnection, TotalCountFields, event_page};
use crate::types::{datetime, masked};

/// Whether a producer is in the monitored population.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProducerStatus {
    /// Activated (`producersync.npn.activated` is its latest status event).
    Active,
    /// Deactivated, or never activated.
    Inactive,
}

impl ProducerStatus {
    /// The stored name of this status.
    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    fn status(self) -> Status {
        match self {
            Self::Active => Status::Active,
            Self::Inactive => Status::Inactive,
        }
    }
}

impl From<Status> for ProducerStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Active => Self::Active,
            Status::Inactive => Self::Inactive,
        }
    }
}

/// One producer's current state. The sub-records' fields its state refers
/// to are read from the log when a field shows them.
pub struct Producer {
    /// The NPN.
    pub npn: String,
    /// The folded state.
    pub state: ProducerState,
}

/// An address, phone, bank account or E&O policy.
pub struct SubRecord {
    id: String,
    updated_at: i64,
    fields: Value,
}

#[Object]
impl SubRecord {
    /// The sub-record's own id (`data.id`).
    async fn id(&self) -> &str {
        &self.id
    }
    /// When the event that set it occurred.
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        datetime(self.updated_at)
    }
    /// Its fields, sensitive ones masked.
    async fn fields(&self) -> Json<Value> {
        masked(self.fields.clone())
    }
}

/// Reads the sub-records' fields at `positions` from the log. A position
/// the log does not hold, or whose body is no sub-record update, is an
/// internal error: the log is append-only, so a state only refers to
/// entries that are there.
async fn read_payloads(
    ctx: &Context<'_>,
    positions: &[PayloadAt],
) -> async_graphql::Result<HashMap<PayloadAt, RawObject>> {
    let store = &ctx.data::<ApiContext>()?.store;
    let bodies = store.bodies_at(positions).await.map_err(ApiError::from)?;
    let payloads: HashMap<PayloadAt, RawObject> = bodies
        .into_iter()
        .filter_map(|(at, body)| Some((at, record_payload(&body)?)))
        .collect();
    match positions.iter().find(|at| !payloads.contains_key(at)) {
        Some(missing) => Err(ApiError::Internal(format!(
            "the log entry at position {missing} holds no payload, yet a state refers to it"
        ))
        .into()),
        None => Ok(payloads),
    }
}

impl Producer {
    /// A kind's live sub-records, their fields read from the log.
    async fn sub_records(
        &self,
        ctx: &Context<'_>,
        kind: SubRecordKind,
    ) -> async_graphql::Result<Vec<SubRecord>> {
        let live: Vec<_> = self.state.live_sub_records(kind).collect();
        let positions: Vec<PayloadAt> =
            live.iter().filter_map(|(_, record)| record.value).collect();
        let payloads = read_payloads(ctx, &positions).await?;
        Ok(live
            .into_iter()
            .map(|(id, record)| SubRecord {
                id: id.clone(),
                updated_at: record.stamp.time,
                fields: Value::Object(
                    record
                        .value
                        .and_then(|at| payloads.get(&at))
                        .map(RawObject::to_map)
                        .unwrap_or_default(),
                ),
            })
            .collect())
    }
}

#[Object]
impl Producer {
    /// The National Producer Number.
    async fn npn(&self) -> &str {
        &self.npn
    }
    /// ACTIVE or INACTIVE.
    async fn status(&self) -> ProducerStatus {
        self.state.current_status().into()
    }
    /// When it last became active.
    async fn last_activated_at(&self) -> Option<DateTime<Utc>> {
        self.state.last_activated_at.and_then(datetime)
    }
    /// When it last became inactive.
    async fn last_deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.state.last_deactivated_at.and_then(datetime)
    }
    /// The time of its earliest event.
    async fn first_event_at(&self) -> Option<DateTime<Utc>> {
        self.state.first_event_at.and_then(datetime)
    }
    /// The time of its latest event.
    async fn last_event_at(&self) -> Option<DateTime<Utc>> {
        self.state.last_event_at.and_then(datetime)
    }
    /// How many events were folded into it.
    async fn event_count(&self) -> u64 {
        self.state.event_count
    }
    /// Whether `id.producer.deleted` is its latest profile event.
    async fn deleted(&self) -> bool {
        self.state.is_deleted()
    }
    /// The latest profile, sensitive fields masked.
    async fn profile(&self) -> Option<Json<Value>> {
        let profile = self.state.profile.as_ref()?;
        Some(masked(Value::Object(profile.value.to_map())))
    }
    /// When the latest profile event occurred.
    async fn profile_updated_at(&self) -> Option<DateTime<Utc>> {
        self.state
            .profile
            .as_ref()
            .and_then(|p| datetime(p.stamp.time))
    }
    /// Current addresses.
    async fn addresses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SubRecord>> {
        self.sub_records(ctx, SubRecordKind::Address).await
    }
    /// Current phones.
    async fn phones(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SubRecord>> {
        self.sub_records(ctx, SubRecordKind::Phone).await
    }
    /// Current bank accounts (numbers masked).
    async fn bank_accounts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SubRecord>> {
        self.sub_records(ctx, SubRecordKind::BankAccount).await
    }
    /// Current errors-and-omissions policies.
    async fn errors_and_omissions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<SubRecord>> {
        self.sub_records(ctx, SubRecordKind::ErrorsAndOmissions)
            .await
    }
    /// This producer's events, oldest first, including late and unfolded ones.
    #[graphql(
        complexity = "scan_complexity(PRODUCER_LOG_COST, connection_complexity(child_complexity, first))"
    )]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let api = ctx.data::<ApiContext>()?;
        let filter = LogFilter {
            npn: Some(self.npn.clone()),
            event_type: None,
        };
        Ok(event_page(&api.store, filter, first, after).await?)
    }
}

/// A page of producers, by NPN.
pub type ProducerConnection = Connection<OpaqueCursor<String>, Producer, TotalCountFields>;

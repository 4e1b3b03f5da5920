//! The single log writer: group commit of concurrent deliveries.
//!
//! Handlers send a [`NewEntry`] and wait for its [`AppendOutcome`]. The
//! writer, a thread of its own with its own SQLite connection, drains whatever is queued, appends it in one
//! `BEGIN IMMEDIATE` transaction (duplicates by webhook id or event id
//! append nothing), lets the [`AppendHook`] fold the new entries in the same
//! transaction, commits, and only then answers each waiter. One fsync
//! serves the whole batch.

use std::collections::HashMap;
use std::sync::Arc;

use agentsync_events::EventKind;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::database::{WriteTxn, Writer};
use crate::entity::event_log::{self, Entity as EventLog};
use crate::error::StoreError;
use crate::one_row::{OneRowInsert, RowValues};
use crate::single_row::max_of;
use crate::writer_queries::ProjectionTxn;
use crate::{LogEntry, Store};

/// A verified delivery, ready to append. `position` is assigned at commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The `webhook-id` header.
    pub webhook_id: String,
    /// The envelope `id`, where the body has one.
    pub event_id: Option<String>,
    /// The envelope `type`, where the body has one.
    pub event_type: Option<String>,
    /// The envelope `timestamp`, in microseconds since the epoch.
    pub occurred_at: Option<i64>,
    /// Reception time, in microseconds since the epoch.
    pub received_at: i64,
    /// The webhook path.
    pub source: String,
    /// The normalised NPN.
    pub npn: Option<String>,
    /// Why the body cannot be folded, if it cannot.
    pub unfolded_reason: Option<String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The interpreter version under which the fields above say all the
    /// body says, if they do (see the log's column of that name).
    pub columns_suffice_under: Option<i32>,
    /// The event as the ingest edge understood it (`None` when it could
    /// not), handed to the [`AppendHook`] so the body is not parsed twice.
    pub kind: Option<EventKind>,
}

/// An entry as committed, with the understood event for the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The stored row.
    pub entry: LogEntry,
    /// The understood event, if any.
    pub kind: Option<EventKind>,
}

impl NewEntry {
    /// A delivery's entry: the body is interpreted once, here, and its key
    /// columns, its understood event (for the hook) or its reason for not
    /// being understood are filled from that.
    pub fn interpreted(
        webhook_id: String,
        received_at: i64,
        source: String,
        body: Vec<u8>,
    ) -> Self {
        let interpretation = agentsync_events::interpret(&body);
        let columns_suffice_under = interpretation
            .columns_say_all()
            .then_some(agentsync_events::INTERPRETER_VERSION);
        let unfolded_reason = interpretation.outcome.as_ref().err().map(|r| r.code());
        Self {
            webhook_id,
            event_id: interpretation.event_id,
            event_type: interpretation.event_type,
            occurred_at: interpretation.occurred_at,
            received_at,
            source,
            npn: interpretation.npn,
            unfolded_reason: unfolded_reason.map(str::to_owned),
            columns_suffice_under,
            body,
            kind: interpretation.outcome.ok(),
        }
    }

    fn at(self, position: i64) -> Appended {
        let entry = LogEntry {
            position,
            webhook_id: self.webhook_id,
            event_id: self.event_id,
            event_type: self.event_type,
            occurred_at: self.occurred_at,
            received_at: self.received_at,
            source: self.source,
            npn: self.npn,
            unfolded_reason: self.unfolded_reason,
            body: self.body,
            // Taken from the understood event, so the two cannot disagree.
            record_id: self
                .kind
                .as_ref()
                .and_then(EventKind::record_id)
                .map(str::to_owned),
            columns_suffice_under: self.columns_suffice_under,
        };
        Appended {
            entry,
            kind: self.kind,
        }
    }
}

/// What happened to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Newly appended at this position.
    Appended(i64),
    /// Already in the log (same webhook id or event id) at this position.
    Duplicate(i64),
}

impl AppendOutcome {
    /// The log position the delivery lives at.
    pub fn position(self) -> i64 {
        match self {
            Self::Appended(position) | Self::Duplicate(position) => position,
        }
    }
}

/// Work done inside the append transaction, after the entries are inserted
/// and before the commit: the projection folds them here, so that a query
/// never sees the log ahead of the state (read-after-ack). It runs on the
/// writer's thread.
pub trait AppendHook: Send + Sync + 'static {
    /// Folds newly appended entries (never duplicates) within `txn`.
    fn after_append(&self, txn: &ProjectionTxn, entries: &[Appended]) -> Result<(), StoreError>;

    /// Runs after the batch is durably committed (never after a failed
    /// one): the place to tell subscribers, who must never see a change
    /// before it is committed.
    fn after_commit(&self, _entries: &[Appended]) {}
}

/// A hook that does nothing, for a log without projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHook;

impl AppendHook for NoHook {
    fn after_append(&self, _txn: &ProjectionTxn, _entries: &[Appended]) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Tuning of the group commit.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// The most deliveries committed in one transaction.
    pub max_batch: usize,
    /// How many deliveries may wait for the writer before senders queue.
    pub queue_depth: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            max_batch: 512,
            queue_depth: 4096,
        }
    }
}

/// Where one delivery's outcome is sent.
type Reply = oneshot::Sender<Result<AppendOutcome, Arc<StoreError>>>;

struct Request {
    entry: NewEntry,
    reply: Reply,
}

/// The handle to the writer task. Cloning is cheap; the task stops when the
/// last handle is dropped.
#[derive(Clone, Debug)]
pub struct LogWriter {
    requests: mpsc::Sender<Request>,
    gate: Arc<Mutex<()>>,
}

impl LogWriter {
    /// Starts the writer's thread, with a connection of its own to the
    /// store's file. Fails when the thread cannot be started.
    pub fn start(
        store: &Store,
        hook: Arc<dyn AppendHook>,
        options: WriterOptions,
    ) -> Result<Self, StoreError> {
        let writer = store.writer();
        let (requests, receiver) = mpsc::channel(options.queue_depth.max(1));
        let gate = Arc::new(Mutex::new(()));
        let task = WriterTask {
            writer,
            hook,
            gate: gate.clone(),
            max_batch: options.max_batch.max(1),
        };
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || task.run(receiver))
            .map_err(|error| StoreError::WriterThread(error.to_string()))?;
        Ok(Self { requests, gate })
    }

    /// Appends one delivery and waits until it is durably committed (or
    /// found to be a duplicate).
    pub async fn append(&self, entry: NewEntry) -> Result<AppendOutcome, Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { entry, reply })
            .await
            .map_err(|_| Arc::new(StoreError::WriterClosed))?;
        answer
            .await
            .map_err(|_| Arc::new(StoreError::WriterClosed))?
    }

    /// The lock the writer holds for each batch. A rebuild holds it while it
    /// catches up and swaps, so no append slips between the two.
    pub fn gate(&self) -> Arc<Mutex<()>> {
        self.gate.clone()
    }
}

struct WriterTask {
    writer: Arc<Writer>,
    hook: Arc<dyn AppendHook>,
    gate: Arc<Mutex<()>>,
    max_batch: usize,
}

impl WriterTask {
    /// Commits batches until every [`LogWriter`] handle is gone.
    fn run(self, mut receiver: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        while let Some(first) = receiver.blocking_recv() {
            batch.push(first);
            while batch.len() < self.max_batch {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            // A waiter that gave up (its deadline passed) was answered 503;
            // committing its delivery anyway would be harmless, but skipping
            // it keeps "503" meaning "not stored" whenever possible.
            batch.retain(|request| !request.reply.is_closed());
            if batch.is_empty() {
                continue;
            }
            metrics::histogram!("projector_commit_batch_size").record(batch.len() as f64);
            let (entries, replies): (Vec<NewEntry>, Vec<Reply>) =
                batch.drain(..).map(|r| (r.entry, r.reply)).unzip();
            let result = {
                let _gate = self.gate.blocking_lock();
                commit_batch(&self.writer, self.hook.as_ref(), entries)
            };
            answer(replies, result);
        }
    }
}

fn answer(replies: Vec<Reply>, result: Result<Vec<AppendOutcome>, StoreError>) {
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, deliveries = replies.len(), "append batch was not committed");
            let shared = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(shared.clone()));
            }
        }
    }
}

impl Store {
    /// Appends a batch in one transaction on the synced writer,
    /// with the same duplicate rules as the [`LogWriter`], and runs `hook`
    /// inside that transaction like the writer does: for bulk loads
    /// (`import`) that do not need per-delivery answers. With the live
    /// fold as the hook, the projection stays equal to a rebuild of the log
    /// after every batch, whoever else appends to the same database.
    pub async fn append_batch_with(
        &self,
        entries: Vec<NewEntry>,
        hook: Arc<dyn AppendHook>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        self.on_writer(self.writer(), move |writer| {
            commit_batch(writer, hook.as_ref(), entries)
        })
        .await
    }

    /// [`Store::append_batch_with`] without a projection: only for a log
    /// that nothing folds (tests of the log and of rebuilds).
    pub async fn append_batch(
        &self,
        entries: Vec<NewEntry>,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        self.append_batch_with(entries, Arc::new(NoHook)).await
    }

    /// Runs `work` in one immediate write transaction, on the store's
    /// writing thread: for writes outside the log writer's that must see and change
    /// the database as one step (a rebuild's shadow rows, catch-up rounds
    /// and swap). `commit` says whether the commit waits for the disk.
    pub async fn write_transaction<T, E>(
        &self,
        commit: Commit,
        work: impl FnOnce(&ProjectionTxn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.write(commit, move |txn| work(&ProjectionTxn::new(txn)))
            .await
    }

    /// [`Store::write_transaction`] with the SQLite transaction itself, for
    /// the store's own writes.
    pub(crate) async fn write<T, E>(
        &self,
        commit: Commit,
        work: impl FnOnce(&WriteTxn) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let writer = match commit {
            Commit::Synced => self.writer(),
            Commit::Unsynced => self.unsynced_writer(),
        };
        self.on_writer(writer, move |writer| {
            writer
                .transaction(|txn| work(txn).map_err(TxnError::Work))
                .map_err(|error| match error {
                    TxnError::Work(error) => error,
                    TxnError::Transaction(error) => E::from(StoreError::from(error)),
                })
        })
        .await
    }
}

/// What a [`Store::write`] can fail with: its work's own error, or the
/// transaction's.
enum TxnError<E> {
    Work(E),
    Transaction(DbErr),
}

impl<E> From<DbErr> for TxnError<E> {
    fn from(error: DbErr) -> Self {
        Self::Transaction(error)
    }
}

/// Whether a [`Store::write_transaction`] commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// `synchronous = FULL`: durable once it returns.
    Synced,
    /// `synchronous = NORMAL`: for rows nothing reads until a later synced
    /// commit makes them visible. A rebuild writes its shadow generation
    /// this way (a commit of 1,000 rows then skips its wait for the disk);
    /// the swap that makes it current is synced, and its sync of the WAL
    /// takes every earlier frame to the disk with it. Power loss before the
    /// swap can lose shadow rows, which no one reads, and never corrupts
    /// the database (WAL mode).
    Unsynced,
}

/// The append of one log entry. A webhook id or event id already logged
/// fails it, and with it the batch's transaction: the batch has checked
/// both first, so only a concurrent writer could get there (none does).
static LOG_INSERT: OneRowInsert = OneRowInsert::new(|| None);

/// Appends a batch in one immediate transaction; see the module docs.
fn commit_batch(
    writer: &Writer,
    hook: &dyn AppendHook,
    entries: Vec<NewEntry>,
) -> Result<Vec<AppendOutcome>, StoreError> {
    let (outcomes, appended) = writer.transaction(|txn| {
        let mut known = KnownKeys::load(txn, &entries)?;
        let mut head = head_position_in(txn)?;
        let mut outcomes = Vec::with_capacity(entries.len());
        let mut appended = Vec::new();
        for entry in entries {
            if let Some(position) = known.position_of(&entry) {
                outcomes.push(AppendOutcome::Duplicate(position));
                continue;
            }
            head += 1;
            known.remember(&entry, head);
            outcomes.push(AppendOutcome::Appended(head));
            appended.push(entry.at(head));
        }
        let rows = appended
            .iter()
            .map(|appended| RowValues::of(event_log::ActiveModel::from(appended.entry.clone())))
            .collect::<Result<_, _>>()?;
        LOG_INSERT.insert_all::<EventLog>(txn, rows)?;
        if !appended.is_empty() {
            hook.after_append(&ProjectionTxn::new(txn), &appended)?;
            txn.announce_appends()?;
        }
        Ok::<_, StoreError>((outcomes, appended))
    })?;
    if !appended.is_empty() {
        hook.after_commit(&appended);
    }
    Ok(outcomes)
}

/// The positions of webhook ids and event ids already in the log or earlier
/// in the same batch.
struct KnownKeys {
    webhook_ids: HashMap<String, i64>,
    event_ids: HashMap<String, i64>,
}

impl KnownKeys {
    fn load(txn: &WriteTxn, entries: &[NewEntry]) -> Result<Self, DbErr> {
        let webhook_ids = entries.iter().map(|e| e.webhook_id.clone());
        let event_ids = entries.iter().filter_map(|e| e.event_id.clone());
        let select = EventLog::find()
            .select_only()
            .columns([
                event_log::Column::Position,
                event_log::Column::WebhookId,
                event_log::Column::EventId,
            ])
            .filter(
                event_log::Column::WebhookId
                    .is_in(webhook_ids)
                    .or(event_log::Column::EventId.is_in(event_ids)),
            )
            .into_tuple::<(i64, String, Option<String>)>();
        let rows = select.all(txn.connection())?;
        let mut known = Self {
            webhook_ids: HashMap::new(),
            event_ids: HashMap::new(),
        };
        for (position, webhook_id, event_id) in rows {
            known.webhook_ids.insert(webhook_id, position);
            if let Some(event_id) = event_id {
                known.event_ids.insert(event_id, position);
            }
        }
        Ok(known)
    }

    fn position_of(&self, entry: &NewEntry) -> Option<i64> {
        let by_event = entry
            .event_id
            .as_ref()
            .and_then(|id| self.event_ids.get(id));
        self.webhook_ids
            .get(&entry.webhook_id)
            .or(by_event)
            .copied()
    }

    fn remember(&mut self, entry: &NewEntry, position: i64) {
        self.webhook_ids.insert(entry.webhook_id.clone(), position);
        if let Some(event_id) = &entry.event_id {
            self.event_ids.insert(event_id.clone(), position);
        }
    }
}

/// The highest position in the log, as this transaction sees it.
fn head_position_in(txn: &WriteTxn) -> Result<i64, DbErr> {
    Ok(max_of::<EventLog, _>(event_log::Column::Position, txn.connection())?.unwrap_or(0))
}

//! Makes the projection readable with `sqlite3` or `psql`: what dashboards
//! filter on gets a typed column of its own in `producer_state`, the JSON
//! document that is left is renamed `fold_state` for what it holds (the
//! stamps the fold compares and the sub-records), and the view
//! `current_producers` shows the current generation's rows with times as
//! ISO-8601 text.
//!
//! Rows written before this migration (fold version 5) keep their whole
//! state in `fold_state` and the defaults in the new columns until the
//! rebuild that the fold-version change starts replaces them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProducerState {
    Table,
    State,
    FoldState,
    LastActivatedAt,
    LastDeactivatedAt,
    FirstEventAt,
    LastEventAt,
    EventCount,
    Deleted,
    Profile,
}

/// The view over the current generation. Times are stored as microseconds
/// since the epoch, like the log's; the view writes them as text.
const SQLITE_VIEW: &str = "CREATE VIEW current_producers AS
SELECT p.npn, p.status,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.last_activated_at / 1000000.0, 'unixepoch') AS last_activated_at,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.last_deactivated_at / 1000000.0, 'unixepoch') AS last_deactivated_at,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.first_event_at / 1000000.0, 'unixepoch') AS first_event_at,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.last_event_at / 1000000.0, 'unixepoch') AS last_event_at,
  p.event_count, p.deleted, p.profile, p.last_position, p.generation
FROM producer_state p
JOIN projection_meta m ON m.generation = p.generation AND m.is_current";

const POSTGRES_VIEW: &str = "CREATE VIEW current_producers AS
SELECT p.npn, p.status,
  to_timestamp(p.last_activated_at / 1000000.0) AS last_activated_at,
  to_timestamp(p.last_deactivated_at / 1000000.0) AS last_deactivated_at,
  to_timestamp(p.first_event_at / 1000000.0) AS first_event_at,
  to_timestamp(p.last_event_at / 1000000.0) AS last_event_at,
  p.event_count, p.deleted, p.profile::jsonb AS profile, p.last_position, p.generation
FROM producer_state p
JOIN projection_meta m ON m.generation = p.generation AND m.is_current";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                alter()
                    .rename_column(ProducerState::State, ProducerState::FoldState)
                    .to_owned(),
            )
            .await?;
        let time = |name| ColumnDef::new(name).big_integer().null().to_owned();
        // SQLite adds one column per statement.
        for column in [
            time(ProducerState::LastActivatedAt),
            time(ProducerState::LastDeactivatedAt),
            time(ProducerState::FirstEventAt),
            time(ProducerState::LastEventAt),
            ColumnDef::new(ProducerState::EventCount)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(ProducerState::Deleted)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(ProducerState::Profile)
                .text()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(alter().add_column(column).to_owned())
                .await?;
        }
        let view = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_VIEW,
            _ => SQLITE_VIEW,
        };
        manager.get_connection().execute_unprepared(view).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP VIEW current_producers")
            .await?;
        for column in [
            ProducerState::Profile,
            ProducerState::Deleted,
            ProducerState::EventCount,
            ProducerState::LastEventAt,
            ProducerState::FirstEventAt,
            ProducerState::LastDeactivatedAt,
            ProducerState::LastActivatedAt,
        ] {
            manager
                .alter_table(alter().drop_column(column).to_owned())
                .await?;
        }
        manager
            .alter_table(
                alter()
                    .rename_column(ProducerState::FoldState, ProducerState::State)
                    .to_owned(),
            )
            .await
    }
}

fn alter() -> TableAlterStatement {
    Table::alter().table(ProducerState::Table).to_owned()
}

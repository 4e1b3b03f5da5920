//! The append-only event log: one row per verified delivery, in commit order.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventLog {
    Table,
    Position,
    WebhookId,
    EventId,
    EventType,
    OccurredAt,
    ReceivedAt,
    Source,
    Npn,
    UnfoldedReason,
    Body,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventLog::Table)
                    .if_not_exists()
                    .col(big_integer(EventLog::Position).primary_key())
                    .col(string_uniq(EventLog::WebhookId))
                    .col(string_null(EventLog::EventId).unique_key())
                    .col(string_null(EventLog::EventType))
                    .col(big_integer_null(EventLog::OccurredAt))
                    .col(big_integer(EventLog::ReceivedAt))
                    .col(string(EventLog::Source))
                    .col(string_null(EventLog::Npn))
                    .col(string_null(EventLog::UnfoldedReason))
                    .col(blob(EventLog::Body))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_event_log_npn", vec![EventLog::Npn, EventLog::Position]),
            (
                "idx_event_log_type",
                vec![EventLog::EventType, EventLog::Position],
            ),
            ("idx_event_log_received", vec![EventLog::ReceivedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(EventLog::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EventLog::Table).to_owned())
            .await
    }
}

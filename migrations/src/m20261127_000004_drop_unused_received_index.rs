//! Drops `idx_event_log_received`: no query uses it (time queries filter on
//! `occurred_at` first), and every append paid for it with a random index
//! page write.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventLog {
    Table,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_event_log_received")
                    .table(EventLog::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_event_log_received")
                    .table(EventLog::Table)
                    .col(EventLog::ReceivedAt)
                    .to_owned(),
            )
            .await
    }
}

//! The producer-state projection, versioned by generation so that a rebuild
//! can fill a shadow generation while queries read the current one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProducerState {
    Table,
    Generation,
    Npn,
    Status,
    State,
    LastPosition,
}

#[derive(DeriveIden)]
enum ProjectionMeta {
    Table,
    Generation,
    IsCurrent,
    FoldVersion,
    AppliedPosition,
    GlobalState,
    StartedAt,
    FinishedAt,
    EventsFolded,
    ProducersWritten,
    DurationMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProducerState::Table)
                    .if_not_exists()
                    .col(big_integer(ProducerState::Generation))
                    .col(string(ProducerState::Npn))
                    .col(string(ProducerState::Status))
                    .col(text(ProducerState::State))
                    .col(big_integer(ProducerState::LastPosition))
                    .primary_key(
                        Index::create()
                            .col(ProducerState::Generation)
                            .col(ProducerState::Npn),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_producer_state_status")
                    .table(ProducerState::Table)
                    .if_not_exists()
                    .col(ProducerState::Generation)
                    .col(ProducerState::Status)
                    .col(ProducerState::Npn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProjectionMeta::Table)
                    .if_not_exists()
                    .col(big_integer(ProjectionMeta::Generation).primary_key())
                    .col(boolean(ProjectionMeta::IsCurrent))
                    .col(integer(ProjectionMeta::FoldVersion))
                    .col(big_integer(ProjectionMeta::AppliedPosition))
                    .col(text(ProjectionMeta::GlobalState))
                    .col(big_integer(ProjectionMeta::StartedAt))
                    .col(big_integer_null(ProjectionMeta::FinishedAt))
                    .col(big_integer_null(ProjectionMeta::EventsFolded))
                    .col(big_integer_null(ProjectionMeta::ProducersWritten))
                    .col(big_integer_null(ProjectionMeta::DurationMs))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProducerState::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ProjectionMeta::Table).to_owned())
            .await
    }
}

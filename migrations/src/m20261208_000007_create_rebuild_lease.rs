//! The rebuild lease: at most one rebuild at a time across every process
//! on the database (the replicas sharing a PostgreSQL database, or a
//! `rebuild` command beside a server). The row names who holds it, which
//! generation it builds, and until when; a holder renews it while it
//! works, so the lease of a process that died runs out on its own.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RebuildLease {
    Table,
    Name,
    Holder,
    Generation,
    AcquiredAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RebuildLease::Table)
                    .if_not_exists()
                    .col(string(RebuildLease::Name).primary_key())
                    .col(string(RebuildLease::Holder))
                    .col(big_integer(RebuildLease::Generation))
                    .col(big_integer(RebuildLease::AcquiredAt))
                    .col(big_integer(RebuildLease::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RebuildLease::Table).to_owned())
            .await
    }
}

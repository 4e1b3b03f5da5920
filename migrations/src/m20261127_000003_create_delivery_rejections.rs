//! Rejected deliveries, counted per hour and reason. The rejected bodies
//! are never stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeliveryRejections {
    Table,
    HourStart,
    Reason,
    Count,
    LastAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeliveryRejections::Table)
                    .if_not_exists()
                    .col(big_integer(DeliveryRejections::HourStart))
                    .col(string(DeliveryRejections::Reason))
                    .col(big_integer(DeliveryRejections::Count))
                    .col(big_integer(DeliveryRejections::LastAt))
                    .primary_key(
                        Index::create()
                            .col(DeliveryRejections::HourStart)
                            .col(DeliveryRejections::Reason),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeliveryRejections::Table).to_owned())
            .await
    }
}

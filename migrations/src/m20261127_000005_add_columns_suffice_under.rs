//! Adds `event_log.columns_suffice_under`: for an entry whose columns say
//! all its body says (an understood event whose type alone says it), the
//! interpreter version that filled them
//! (`agentsync_events::INTERPRETER_VERSION`); `NULL` for any other entry.
//! A rebuild under that same version folds such entries from their
//! columns, without reading their bodies. Entries appended before this
//! migration keep `NULL`, and are read in full.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventLog {
    Table,
    ColumnsSufficeUnder,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EventLog::Table)
                    .add_column(
                        ColumnDef::new(EventLog::ColumnsSufficeUnder)
                            .integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EventLog::Table)
                    .drop_column(EventLog::ColumnsSufficeUnder)
                    .to_owned(),
            )
            .await
    }
}

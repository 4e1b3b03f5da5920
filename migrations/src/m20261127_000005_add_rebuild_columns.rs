//! Adds two columns to `event_log`, so that a rebuild can fold most entries
//! without reading their bodies:
//!
//! - `record_id`: `data.id` of a sub-record event, as interpreted;
//! - `columns_suffice_under`: for an entry whose columns say all its body
//!   says (an understood event other than a profile update or
//!   `updates_available`), the interpreter version that filled them
//!   (`agentsync_events::INTERPRETER_VERSION`); `NULL` for any other entry.
//!
//! A rebuild under that same version folds such entries from their columns.
//! Entries appended before this migration keep `NULL` in both, and are read
//! in full.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum EventLog {
    Table,
    RecordId,
    ColumnsSufficeUnder,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new(EventLog::RecordId)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(EventLog::ColumnsSufficeUnder)
                .integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(alter_log().add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [EventLog::ColumnsSufficeUnder, EventLog::RecordId] {
            manager
                .alter_table(alter_log().drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn alter_log() -> TableAlterStatement {
    Table::alter().table(EventLog::Table).to_owned()
}

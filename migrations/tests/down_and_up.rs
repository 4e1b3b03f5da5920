//! The schema's migrations can be undone and applied again, so `down` stays
//! a working way back for an operator.

use migrations::{Migrator, MigratorTrait};

#[tokio::test]
async fn every_migration_goes_down_and_up_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("schema.db").display()
    );
    let db = sea_orm_migration::sea_orm::Database::connect(&url)
        .await
        .expect("connects");
    Migrator::up(&db, None).await.expect("up");
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("applied");
    assert_eq!(applied.len(), Migrator::migrations().len());
    Migrator::down(&db, None)
        .await
        .expect("every migration down");
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("applied");
    assert!(applied.is_empty());
    Migrator::up(&db, None).await.expect("up again");
}

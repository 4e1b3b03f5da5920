//! Values built once for each database backend and kept: the SQL text of
//! the statements the service runs most, which differs between SQLite
//! (`?` placeholders) and PostgreSQL (`$1`).

use std::sync::OnceLock;

use sea_orm::DbBackend;

/// One value per backend, each built on first use (meant to be a
/// `static`).
pub(crate) struct PerBackend<T> {
    sqlite: OnceLock<T>,
    postgres: OnceLock<T>,
    mysql: OnceLock<T>,
}

impl<T> PerBackend<T> {
    /// Nothing built yet.
    pub(crate) const fn new() -> Self {
        Self {
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
            mysql: OnceLock::new(),
        }
    }

    /// The value for `backend`, built by `build` the first time.
    pub(crate) fn get_or_init(&self, backend: DbBackend, build: impl FnOnce() -> T) -> &T {
        let kept = match backend {
            DbBackend::Sqlite => &self.sqlite,
            DbBackend::Postgres => &self.postgres,
            _ => &self.mysql,
        };
        kept.get_or_init(build)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backend_keeps_the_value_built_for_it() {
        let kept = PerBackend::new();
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let built = kept.get_or_init(backend, || format!("{backend:?}"));
            assert_eq!(built, &format!("{backend:?}"));
            let again = kept.get_or_init(backend, || unreachable!("built once"));
            assert_eq!(again, &format!("{backend:?}"));
        }
    }
}

//! Which database URLs name a SQLite file.

use std::path::Path;

use crate::error::StoreError;

/// The file path of a sea-orm SQLite URL (`sqlite://path?options` or
/// `sqlite:path`), or `None` for an in-memory database, a `file:` URI or
/// another kind of database.
pub fn sqlite_file_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:" && !path.starts_with("file:")).then_some(path)
}

/// Creates the folder of the SQLite file at `path` if it is missing, so
/// the default URL works on a fresh checkout.
pub(crate) fn create_folder_of(path: &str) -> Result<(), StoreError> {
    match Path::new(path).parent() {
        Some(folder) if !folder.as_os_str().is_empty() => {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::DatabaseFolder {
                path: folder.display().to_string(),
                source,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_file_path;

    #[test]
    fn file_urls_give_their_path() {
        assert_eq!(sqlite_file_path("sqlite://data/p.db"), Some("data/p.db"));
        assert_eq!(
            sqlite_file_path("sqlite:///tmp/p.db?mode=rwc"),
            Some("/tmp/p.db")
        );
        assert_eq!(sqlite_file_path("sqlite:p.db"), Some("p.db"));
    }

    #[test]
    fn other_urls_give_none() {
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("sqlite://:memory:"), None);
        assert_eq!(sqlite_file_path("sqlite://"), None);
        assert_eq!(sqlite_file_path("sqlite:file:p.db?mode=memory"), None);
        assert_eq!(sqlite_file_path("postgres://host/db"), None);
    }
}

//! Which database URLs name a PostgreSQL database, and how one is shown.

/// Whether `url` names a PostgreSQL database (`postgres://` or
/// `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with its password, if any, replaced by `***`: the form in which a
/// URL may appear in a log line or an error.
pub fn masked_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_postgres_url, masked_url};

    #[test]
    fn both_schemes_name_postgres() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("sqlite://data/p.db"));
    }

    #[test]
    fn the_password_is_masked_and_nothing_else_changes() {
        assert_eq!(
            masked_url("postgres://app:s3cr%40t@db.internal:5432/projector?sslmode=require"),
            "postgres://app:***@db.internal:5432/projector?sslmode=require"
        );
        assert_eq!(
            masked_url("postgresql://app@db/projector"),
            "postgresql://app@db/projector"
        );
        assert_eq!(
            masked_url("postgres://db/projector"),
            "postgres://db/projector"
        );
        assert_eq!(masked_url("sqlite://data/p.db"), "sqlite://data/p.db");
        assert_eq!(masked_url("postgres://a:b:c@h/d"), "postgres://a:***@h/d");
    }
}

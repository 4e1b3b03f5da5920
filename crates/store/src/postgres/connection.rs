//! One thread's connection to PostgreSQL, behind sea-orm's proxy
//! interface.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sea_query::Value;
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, ProxyDatabaseTrait, ProxyExecResult, ProxyRow,
    RuntimeErr, Statement,
};
use sea_query_postgres::{PostgresValue, PostgresValues};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};

use super::{io, rows};

/// The most prepared statements one connection keeps (the service uses a
/// few dozen distinct ones).
const PREPARED_KEPT: usize = 256;

/// How the store's connections to one PostgreSQL database are opened.
#[derive(Clone)]
pub(crate) struct PostgresSettings {
    /// The database URL (`postgres://…`).
    pub(crate) url: String,
    /// How long a connect may take.
    pub(crate) connect_timeout: Duration,
    /// The longest a statement may run (`statement_timeout`).
    pub(crate) statement_timeout: Duration,
    /// The longest a statement may wait for a lock (`lock_timeout`), the
    /// write lock of the log included.
    pub(crate) lock_timeout: Duration,
}

impl std::fmt::Debug for PostgresSettings {
    /// Shows the URL with its password masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSettings")
            .field("url", &super::masked_url(&self.url))
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl PostgresSettings {
    /// The connection settings of the URL, with the connect timeout, TCP
    /// keepalives and the service's application name (unless the URL
    /// names one).
    pub(crate) fn config(&self) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
        let mut config = tokio_postgres::Config::from_str(&self.url)?;
        config
            .connect_timeout(self.connect_timeout)
            .keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("producer-projector");
        }
        Ok(config)
    }

    /// The session settings every connection starts with.
    pub(crate) fn session_setup(&self) -> String {
        format!(
            "SET statement_timeout = {}; SET lock_timeout = {};",
            self.statement_timeout.as_millis(),
            self.lock_timeout.as_millis()
        )
    }
}

/// A connection of one thread: the client, and the statements it has
/// prepared, by SQL text and parameter types.
#[derive(Debug)]
pub(crate) struct PostgresConnection {
    client: Client,
    prepared: Mutex<HashMap<(String, Vec<Type>), tokio_postgres::Statement>>,
    driver: Driver,
}

/// The connection's half that reads and writes its socket.
type Socket = tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>;

/// Who drives a connection's socket while a statement waits for its answer.
#[derive(Debug)]
enum Driver {
    /// The I/O runtime's thread ([`io`]): for connections of threads that
    /// run async tasks, which must not block on a runtime of their own.
    Shared,
    /// The calling thread itself, on a single-threaded runtime of the
    /// connection's own: a plain thread (the log writer's, a reading
    /// thread) then waits for two wake-ups per round trip (its own and the
    /// server's) instead of four, with the I/O thread's two between.
    Own(Mutex<OwnDriver>),
}

/// A connection's own runtime and socket; the socket is `None` once the
/// server closed it.
struct OwnDriver {
    runtime: Option<tokio::runtime::Runtime>,
    socket: Option<std::pin::Pin<Box<Socket>>>,
}

impl std::fmt::Debug for OwnDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnDriver")
            .field("open", &self.socket.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for OwnDriver {
    fn drop(&mut self) {
        self.socket = None;
        if let Some(runtime) = self.runtime.take() {
            // Allowed anywhere, an async context included.
            runtime.shutdown_background();
        }
    }
}

impl PostgresConnection {
    /// Connects, runs `setup`, and wraps the connection as a
    /// sea-orm connection whose statements are built for PostgreSQL.
    pub(crate) fn open(
        settings: &PostgresSettings,
        setup: &str,
    ) -> Result<DatabaseConnection, DbErr> {
        let config = settings.config().map_err(connection_error)?;
        let (client, driver) = if tokio::runtime::Handle::try_current().is_ok() {
            let (client, socket) =
                io::run(async move { config.connect(NoTls).await })?.map_err(connection_error)?;
            io::spawn(async move {
                if let Err(error) = socket.await {
                    tracing::debug!(error = %error, "a PostgreSQL connection ended");
                }
            })?;
            (client, Driver::Shared)
        } else {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| DbErr::Conn(RuntimeErr::Internal(error.to_string())))?;
            let (client, socket) = runtime
                .block_on(config.connect(NoTls))
                .map_err(connection_error)?;
            let own = OwnDriver {
                runtime: Some(runtime),
                socket: Some(Box::pin(socket)),
            };
            (client, Driver::Own(Mutex::new(own)))
        };
        let connection = Self {
            client,
            prepared: Mutex::new(HashMap::new()),
            driver,
        };
        if !setup.is_empty() {
            connection.wait(connection.client.batch_execute(setup))?;
        }
        let proxy: Arc<Box<dyn ProxyDatabaseTrait>> = Arc::new(Box::new(connection));
        sea_orm::ProxyDatabaseConnector::connect(DbBackend::Postgres, proxy)
    }

    /// Waits for `request`'s answer, driving the socket on this thread when
    /// the connection has its own runtime.
    fn wait<T>(
        &self,
        request: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, DbErr> {
        let Driver::Own(own) = &self.driver else {
            return io::wait(request).map_err(query_error);
        };
        let mut own = own.lock().unwrap_or_else(PoisonError::into_inner);
        let OwnDriver { runtime, socket } = &mut *own;
        let (Some(runtime), Some(driven)) = (runtime.as_ref(), socket.as_mut()) else {
            return Err(closed());
        };
        let answered = runtime.block_on(async {
            tokio::select! {
                biased;
                answer = request => Some(answer),
                _ = driven => None,
            }
        });
        match answered {
            Some(answer) => answer.map_err(query_error),
            None => {
                // The server closed the connection: dropping the socket
                // closes the client, so the thread's next statement opens
                // a new connection.
                *socket = None;
                Err(closed())
            }
        }
    }

    /// The statement for `sql` with parameters of `types`, prepared once.
    fn prepared(&self, sql: &str, types: Vec<Type>) -> Result<tokio_postgres::Statement, DbErr> {
        let key = (sql.to_owned(), types);
        let kept = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(statement) = kept.get(&key) {
            return Ok(statement.clone());
        }
        drop(kept);
        let statement = self.wait(self.client.prepare_typed(sql, &key.1))?;
        let mut prepared = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        if prepared.len() >= PREPARED_KEPT {
            prepared.clear();
        }
        prepared.insert(key, statement.clone());
        Ok(statement)
    }
}

/// The statement's SQL and its values, each as the type it is bound as.
fn parameters(statement: Statement) -> Result<(String, PostgresValues), DbErr> {
    let values = statement.values.map(|values| values.0).unwrap_or_default();
    let values = values
        .into_iter()
        .map(|value| bindable(value).map(PostgresValue))
        .collect::<Result<_, _>>()?;
    Ok((statement.sql, PostgresValues(values)))
}

/// `value` as a signed integer type where it is an unsigned or one-byte
/// one. sea-query-postgres declares those as one type and binds them as
/// another (a `u64`, e.g. a `LIMIT`, is declared `NUMERIC` and bound as an
/// `INT8`, which PostgreSQL reads as 0), so they never reach it.
fn bindable(value: Value) -> Result<Value, DbErr> {
    Ok(match value {
        Value::TinyInt(v) => Value::SmallInt(v.map(i16::from)),
        Value::TinyUnsigned(v) => Value::SmallInt(v.map(i16::from)),
        Value::SmallUnsigned(v) => Value::Int(v.map(i32::from)),
        Value::Unsigned(v) => Value::BigInt(v.map(i64::from)),
        Value::BigUnsigned(v) => Value::BigInt(
            v.map(i64::try_from)
                .transpose()
                .map_err(|_| DbErr::Type(format!("{v:?} is beyond PostgreSQL's BIGINT")))?,
        ),
        other => other,
    })
}

impl ProxyDatabaseTrait for PostgresConnection {
    fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        let (sql, values) = parameters(statement)?;
        let prepared = self.prepared(&sql, values.as_types())?;
        let found = self.wait(self.client.query(&prepared, &values.as_params()))?;
        found.iter().map(rows::proxy_row).collect()
    }

    fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        let (sql, values) = parameters(statement)?;
        if values.0.is_empty() {
            // Statements without parameters may be several (`BEGIN; …`).
            self.wait(self.client.batch_execute(&sql))?;
            return Ok(ProxyExecResult::new(0, 0));
        }
        let prepared = self.prepared(&sql, values.as_types())?;
        let changed = self.wait(self.client.execute(&prepared, &values.as_params()))?;
        Ok(ProxyExecResult::new(0, changed))
    }

    /// Fails once the connection is closed (the server went away), so the
    /// thread opens a new one instead of reusing it.
    fn ping(&self) -> Result<(), DbErr> {
        if let Driver::Own(own) = &self.driver {
            notice_a_closed_socket(own);
        }
        if self.client.is_closed() {
            return Err(closed());
        }
        Ok(())
    }
}

/// Drives a connection's own socket for a moment (no wait: what the
/// kernel has already received), so that a connection the server closed
/// while it was idle (a restart) is seen closed before it is used, as the
/// I/O thread sees it at once for the connections it drives.
fn notice_a_closed_socket(own: &Mutex<OwnDriver>) {
    let mut own = own.lock().unwrap_or_else(PoisonError::into_inner);
    let OwnDriver { runtime, socket } = &mut *own;
    let (Some(runtime), Some(driven)) = (runtime.as_ref(), socket.as_mut()) else {
        return;
    };
    let ended = runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::ZERO, driven)
            .await
            .is_ok()
    });
    if ended {
        *socket = None;
    }
}

/// The error of a statement on a connection the server closed.
fn closed() -> DbErr {
    DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed)
}

/// A connect that failed: the error says why, never the URL.
fn connection_error(error: tokio_postgres::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(format!(
        "cannot connect to PostgreSQL: {error}"
    )))
}

/// A statement that failed, with PostgreSQL's own message and code.
fn query_error(error: tokio_postgres::Error) -> DbErr {
    let text = match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    };
    DbErr::Query(RuntimeErr::Internal(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_and_one_byte_integers_are_bound_as_the_signed_type_declared() {
        assert_eq!(bindable(Value::from(10u64)), Ok(Value::BigInt(Some(10))));
        assert_eq!(bindable(Value::from(7u32)), Ok(Value::BigInt(Some(7))));
        assert_eq!(bindable(Value::from(7u16)), Ok(Value::Int(Some(7))));
        assert_eq!(bindable(Value::from(7u8)), Ok(Value::SmallInt(Some(7))));
        assert_eq!(bindable(Value::from(-7i8)), Ok(Value::SmallInt(Some(-7))));
        assert_eq!(bindable(Value::BigUnsigned(None)), Ok(Value::BigInt(None)));
        assert!(bindable(Value::from(u64::MAX)).is_err());
        assert_eq!(bindable(Value::from("npn")), Ok(Value::from("npn")));
    }
}

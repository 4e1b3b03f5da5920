//! End-to-end tests: the real app on an ephemeral port, a temporary SQLite
//! file, real signed HTTP requests. One binary, so the app links once.

mod dashboards;
mod hostile;
mod ingest;
mod projection;
mod senders;
mod support;

//! End-to-end tests: the real app on an ephemeral port, a temporary SQLite
//! file, real signed HTTP requests. One binary, so the app links once.

mod bounded_work;
mod copy;
mod dashboards;
mod hostile;
mod import;
mod ingest;
mod projection;
mod readable;
mod replicas;
mod senders;
mod startup;
mod support;

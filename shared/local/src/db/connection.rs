//! The connection's settings (busy timeout, WAL, synchronous, checkpoints, statement
//! cache) and the schema migrations applied when the database opens.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use webhooks_core::ports::StoreError;

use super::OrBackend;
use crate::schema::MIGRATIONS;

/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages between automatic checkpoints.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 4096;

/// Prepared statements kept per connection (`prepare_cached`).
const STATEMENT_CACHE: usize = 64;

pub(super) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).or_backend()?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .or_backend()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::backend(format!(
            "the database refused WAL mode (journal_mode is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .or_backend()?;
    // Checkpoint every 4,096 WAL pages (16 MiB) rather than SQLite's 1,000: pages the
    // queue and the log rewrite all the time are copied back once per checkpoint, so
    // rarer checkpoints copy (and fsync) less per delivery.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
        .or_backend()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Applies the migrations not applied yet, each with its `user_version` bump, in one
/// transaction. Running it again is a no-op.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .or_backend()?;
    let applied: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .or_backend()?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::backend(format!(
            "the database has schema version {applied}, newer than this program's {}; \
             upgrade the program or use another file",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(migration).or_backend()?;
        tx.pragma_update(None, "user_version", index + 1)
            .or_backend()?;
    }
    tx.commit().or_backend()
}

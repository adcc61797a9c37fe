//! The SQLite file: created private (mode 0600) before SQLite opens it, in WAL mode,
//! with one connection that every adapter shares and uses from async code through the
//! blocking thread pool.

use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tracing::warn;
use webhooks_core::ports::{BoxError, StoreError};
use webhooks_core::time::Timestamp;

use crate::schema::MIGRATIONS;

/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One SQLite database file. Cloning is cheap: clones share the connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Opens the database at `path`, creating it (and its parent directories, mode
    /// 0700) when missing, and brings its schema up to date. Blocking: call it at
    /// start-up, not from a request handler.
    pub fn open(path: impl AsRef<Path>) -> Result<Db, StoreError> {
        let path = path.as_ref();
        create_private(path)?;
        // No SQLITE_OPEN_CREATE: the file exists, with the mode we chose. The WAL and
        // shared-memory files SQLite creates beside it copy that mode.
        // No SQLITE_OPEN_URI either: the path is the file std just created, verbatim.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).or_backend()?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with the connection on the blocking pool.
    pub(crate) async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside `work` rolled its transaction back while unwinding, so the
            // connection is still usable: recover from the poison instead of failing
            // every later call.
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut guard)
        })
        .await
        .map_err(StoreError::backend)?
    }
}

/// Creates the file with mode 0600 if it does not exist yet (and its directory with
/// 0700); warns when an existing file is readable by others.
fn create_private(path: &Path) -> Result<(), StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| io_error("cannot create the database directory", parent, e))?;
        }
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error("cannot open the database file", path, e))?;
    let mode = file
        .metadata()
        .map_err(|e| io_error("cannot read the database file's metadata", path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        warn!(
            path = %path.display(),
            mode = format!("{:o}", mode & 0o777),
            "the database file holds signing secrets but is accessible to other users; consider chmod 600"
        );
    }
    Ok(())
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> StoreError {
    StoreError::backend(format!("{what} {}: {error}", path.display()))
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
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
    Ok(())
}

/// Applies the migrations not applied yet, each with its `user_version` bump, in one
/// transaction. Running it again is a no-op.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
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

/// Maps any backend error (rusqlite, serde_json, ...) to [`StoreError::Backend`].
pub(crate) trait OrBackend<T> {
    fn or_backend(self) -> Result<T, StoreError>;
}

impl<T, E: Into<BoxError>> OrBackend<T> for Result<T, E> {
    fn or_backend(self) -> Result<T, StoreError> {
        self.map_err(StoreError::backend)
    }
}

/// A timestamp as stored: Unix milliseconds.
pub(crate) fn millis(at: Timestamp) -> i64 {
    at.unix_millis()
}

/// A duration in milliseconds, saturating.
pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_file_is_private_to_its_owner() {
        // GIVEN a directory without a database
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("webhooks.db");
        // WHEN the database is opened (and written, so the WAL file exists)
        let db = Db::open(&path).unwrap();
        {
            let conn = db.conn.lock().unwrap();
            conn.execute(
                "INSERT INTO secrets (webhook_id, current) VALUES ('wh_1', 's')",
                [],
            )
            .unwrap();
        }
        // THEN the file, its WAL companions and the created directory are owner-only
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        for suffix in ["-wal", "-shm"] {
            let companion = PathBuf::from(format!("{}{suffix}", path.display()));
            if companion.exists() {
                assert_eq!(mode(&companion), 0o600, "{suffix}");
            }
        }
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }

    #[test]
    fn the_database_runs_in_wal_mode_with_normal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("w.db")).unwrap();
        let conn = db.conn.lock().unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 1, "NORMAL");
    }

    #[test]
    fn opening_twice_keeps_the_schema_and_the_data() {
        // GIVEN a database with one row
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        {
            let db = Db::open(&path).unwrap();
            let conn = db.conn.lock().unwrap();
            conn.execute(
                "INSERT INTO secrets (webhook_id, current) VALUES ('wh_1', 's')",
                [],
            )
            .unwrap();
        }
        // WHEN it is opened again
        let db = Db::open(&path).unwrap();
        // THEN the migrations are not reapplied and the row is still there
        let conn = db.conn.lock().unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, i64::try_from(MIGRATIONS.len()).unwrap());
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM secrets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }

    #[test]
    fn a_database_from_a_newer_program_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 999).unwrap();
        }
        let error = Db::open(&path).unwrap_err();
        assert!(
            error.to_string().contains("newer than this program"),
            "{error}"
        );
    }
}

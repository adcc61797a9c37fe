//! The SQLite file: created private (mode 0600) before SQLite opens it, in WAL mode,
//! with one connection that every adapter shares. The connection lives on one thread
//! of its own (`webhooks-sqlite`); async code hands it work through a channel:
//!
//! - [`Db::call`]: a closure that runs alone (it may open its own transaction);
//! - [`Db::write`]: a small write that may share a transaction with the other writes
//!   waiting at that moment (group commit). Its caller hears back only after that
//!   transaction committed, so an acknowledged write is as durable as one made alone;
//!   and writes commit in the order they were handed in.
//!
//! One thread is what the single connection allowed anyway (calls took a mutex), and
//! one channel hop is cheaper than a trip through the blocking pool.

use std::any::Any;
use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::oneshot;
use tracing::warn;
use webhooks_core::ports::{BoxError, StoreError};
use webhooks_core::time::Timestamp;

use webhooks_core::webhook::Webhook;

use crate::cache::Cache;
use crate::schema::MIGRATIONS;

/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The most writes one transaction takes; more wait for the next one.
const MAX_WRITES_PER_TRANSACTION: usize = 512;

/// WAL pages between automatic checkpoints.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 4096;

/// Prepared statements kept per connection (`prepare_cached`).
const STATEMENT_CACHE: usize = 64;

/// One SQLite database file. Cloning is cheap: clones share the connection and its
/// thread, which ends when the last clone is dropped.
#[derive(Clone)]
pub struct Db {
    /// The database thread's connection; this module's tests inspect it directly.
    #[cfg_attr(not(test), allow(dead_code))]
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
    requests: mpsc::Sender<Request>,
    /// Each event type's subscribers (`SqliteWebhookStore::subscribers`).
    pub(crate) subscribers: Arc<Cache<String, Arc<[Webhook]>>>,
    /// Each webhook's stored secret row (`SqliteSecretStore::get`).
    pub(crate) secrets: Arc<Cache<String, Option<SecretRow>>>,
}

/// A `secrets` row: current, previous, rotated-at (Unix ms).
pub(crate) type SecretRow = (String, Option<String>, Option<i64>);

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// Work for the database thread.
enum Request {
    Call(Box<dyn FnOnce(&mut Connection) + Send>),
    Write(Box<dyn WriteOp>),
}

/// A write that can share a transaction with others, and be run again on its own if
/// a write beside it failed.
trait WriteOp: Send {
    fn apply(&mut self, conn: &Connection) -> Result<(), StoreError>;
    /// Hands the outcome to the caller (after the commit, or with the error).
    fn finish(self: Box<Self>, result: Result<(), StoreError>);
}

struct Write<T, F> {
    work: F,
    output: Option<T>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteOp for Write<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &Connection) -> Result<(), StoreError> {
        self.output = Some((self.work)(conn)?);
        Ok(())
    }

    fn finish(self: Box<Self>, result: Result<(), StoreError>) {
        let Write { output, reply, .. } = *self;
        let outcome = result.and_then(|()| {
            output.ok_or_else(|| StoreError::backend("a write finished without its result"))
        });
        let _ = reply.send(outcome);
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
        let conn = Arc::new(Mutex::new(conn));
        let (requests, inbox) = mpsc::channel();
        let served = Arc::clone(&conn);
        std::thread::Builder::new()
            .name("webhooks-sqlite".to_owned())
            .spawn(move || serve(&served, &inbox))
            .map_err(|e| StoreError::backend(format!("cannot start the database thread: {e}")))?;
        Ok(Db {
            conn,
            path: Arc::new(path.to_owned()),
            requests,
            subscribers: Arc::new(Cache::new()),
            secrets: Arc::new(Cache::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with the connection on the database thread, alone.
    pub(crate) async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = move |conn: &mut Connection| {
            let _ = reply.send(work(conn));
        };
        self.requests
            .send(Request::Call(Box::new(job)))
            .map_err(|_| StoreError::backend("the database thread has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::backend("a database call panicked"))?
    }

    /// Like [`call`](Self::call), then forgets everything in `cache`, on the database
    /// thread right after `work`: whether or not the caller still waits (a dropped
    /// request future), no reader keeps a row read before the write.
    pub(crate) async fn call_invalidating<T, F, K, V>(
        &self,
        cache: &Arc<Cache<K, V>>,
        work: F,
    ) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
        K: Eq + std::hash::Hash + Send + 'static,
        V: Clone + Send + 'static,
    {
        let cache = Arc::clone(cache);
        self.call(move |conn| {
            let result = work(conn);
            cache.invalidate();
            result
        })
        .await
    }

    /// Runs the write `work` on the database thread inside a transaction it may share
    /// with other writes; resolves after that transaction committed. `work` must not
    /// open a transaction of its own, and may run twice (the first run rolled back)
    /// when another write of its batch fails.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let op = Write {
            work,
            output: None,
            reply,
        };
        self.requests
            .send(Request::Write(Box::new(op)))
            .map_err(|_| StoreError::backend("the database thread has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::backend("a database write panicked"))?
    }
}

/// The database thread: takes what is waiting, commits the writes among it in one
/// transaction, then runs the calls, until every `Db` clone is gone.
fn serve(conn: &Mutex<Connection>, inbox: &mpsc::Receiver<Request>) {
    let mut calls = Vec::new();
    let mut writes: Vec<Box<dyn WriteOp>> = Vec::new();
    while let Ok(first) = inbox.recv() {
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Call(call) => calls.push(call),
                Request::Write(write) => writes.push(write),
            }
            if writes.len() < MAX_WRITES_PER_TRANSACTION {
                next = inbox.try_recv().ok();
            }
        }
        // A panic inside a call rolled its transaction back while unwinding, so the
        // connection is still usable: recover from the poison instead of failing
        // every later call.
        let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
        if !writes.is_empty() {
            commit_writes(&mut guard, std::mem::take(&mut writes));
        }
        for call in calls.drain(..) {
            // The caller hears of a panic through its dropped reply.
            let _ = catch_unwind(AssertUnwindSafe(|| call(&mut guard)));
        }
    }
}

/// Commits `writes` in one transaction and answers each; if one fails, the batch is
/// rolled back and each write runs again in a transaction of its own, so only the
/// failing one reports the error.
fn commit_writes(conn: &mut Connection, mut writes: Vec<Box<dyn WriteOp>>) {
    let batch = catch_unwind(AssertUnwindSafe(|| -> Result<(), StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .or_backend()?;
        for write in &mut writes {
            write.apply(&tx)?;
        }
        tx.commit().or_backend()
    }));
    if matches!(batch, Ok(Ok(()))) {
        for write in writes {
            write.finish(Ok(()));
        }
        return;
    }
    if writes.len() == 1 {
        let result = match batch {
            Ok(result) => result,
            Err(panic) => Err(panicked(&panic)),
        };
        if let Some(write) = writes.pop() {
            write.finish(result);
        }
        return;
    }
    for mut write in writes {
        let alone = catch_unwind(AssertUnwindSafe(|| -> Result<(), StoreError> {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .or_backend()?;
            write.apply(&tx)?;
            tx.commit().or_backend()
        }))
        .unwrap_or_else(|panic| Err(panicked(&panic)));
        write.finish(alone);
    }
}

fn panicked(panic: &Box<dyn Any + Send>) -> StoreError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    StoreError::backend(format!("a database write panicked: {message}"))
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

    fn secret_written(db: &Db, id: &str) -> bool {
        let conn = db.conn.lock().unwrap();
        conn.query_row(
            "SELECT COUNT(*) FROM secrets WHERE webhook_id = ?1",
            [id],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    }

    fn insert_secret(id: &'static str) -> impl FnMut(&Connection) -> Result<(), StoreError> {
        move |conn| {
            conn.execute(
                "INSERT INTO secrets (webhook_id, current) VALUES (?1, 's')",
                [id],
            )
            .or_backend()
            .map(drop)
        }
    }

    #[tokio::test]
    async fn a_failing_write_in_a_shared_transaction_fails_alone() {
        // GIVEN the database thread busy with a call, and three writes waiting behind
        // it, so that they share the next transaction; the middle one fails
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("w.db")).unwrap();
        let (started, running) = mpsc::channel();
        let (release, hold) = mpsc::channel::<()>();
        let busy = db.call(move |_| {
            let _ = started.send(());
            let _ = hold.recv_timeout(Duration::from_secs(10));
            Ok(())
        });
        let mut busy = Box::pin(busy);
        assert!(futures::poll!(&mut busy).is_pending());
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        let mut first = Box::pin(db.write(insert_secret("wh_first")));
        let mut failing = Box::pin(db.write(|_: &Connection| -> Result<(), StoreError> {
            Err(StoreError::backend("this write fails"))
        }));
        let mut last = Box::pin(db.write(insert_secret("wh_last")));
        for write in [&mut first, &mut last] {
            assert!(futures::poll!(write).is_pending());
        }
        assert!(futures::poll!(&mut failing).is_pending());

        // WHEN the thread is free again
        release.send(()).unwrap();
        busy.await.unwrap();

        // THEN only the failing write reports an error, and the others are committed
        assert!(first.await.is_ok());
        assert!(failing.await.is_err());
        assert!(last.await.is_ok());
        assert!(secret_written(&db, "wh_first"));
        assert!(secret_written(&db, "wh_last"));
    }

    #[tokio::test]
    async fn a_write_commits_before_its_caller_hears_of_it() {
        // GIVEN a database
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("w.db")).unwrap();
        // WHEN a write is acknowledged
        db.write(insert_secret("wh_1")).await.unwrap();
        // THEN a new connection to the file sees it: it was committed
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        let count: i64 = other
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

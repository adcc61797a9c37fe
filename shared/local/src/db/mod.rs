//! The `Db` handle on one SQLite file: one connection that every adapter shares, served
//! by the database thread; [`Db::call`] runs work alone, [`Db::write`] joins a group commit.

mod connection;
mod file;
#[cfg(test)]
mod tests;
mod thread;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;
use webhooks_core::domain::time::Timestamp;
use webhooks_core::ports::{BoxError, StoreError};

use crate::cache::Cache;
use connection::{configure, migrate};
use file::{create_private, lock_owner};
use thread::{serve, Request, Write};

/// One SQLite database file. Cloning is cheap: clones share the connection and its
/// thread, which ends when the last clone is dropped.
#[derive(Clone)]
pub struct Db {
    path: Arc<PathBuf>,
    /// The opened file's (device, inode): the path must keep naming this file.
    identity: (u64, u64),
    requests: mpsc::Sender<Request>,
    /// The lock that makes this process the file's only owner, held as long as a
    /// clone lives.
    _owner: Arc<std::fs::File>,
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
        let owner = lock_owner(path)?;
        // No SQLITE_OPEN_CREATE: the file exists, with the mode we chose. The WAL and
        // shared-memory files SQLite creates beside it copy that mode.
        // No SQLITE_OPEN_URI either: the path is the file std just created, verbatim.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).or_backend()?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let (requests, inbox) = mpsc::channel();
        std::thread::Builder::new()
            .name("webhooks-sqlite".to_owned())
            .spawn(move || serve(conn, &inbox))
            .map_err(|e| StoreError::backend(format!("cannot start the database thread: {e}")))?;
        let identity = file_identity(path)
            .map_err(|e| StoreError::backend(format!("cannot read {}: {e}", path.display())))?;
        Ok(Db {
            path: Arc::new(path.to_owned()),
            identity,
            requests,
            _owner: Arc::new(owner),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the path still names the file this handle writes to. After the file
    /// was deleted (or replaced), every write goes to a file nobody will ever open
    /// again: the owner should stop.
    pub fn still_on_disk(&self) -> bool {
        file_identity(&self.path).is_ok_and(|identity| identity == self.identity)
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

/// Maps any backend error (rusqlite, serde_json, ...) to [`StoreError::Backend`].
pub(crate) trait OrBackend<T> {
    fn or_backend(self) -> Result<T, StoreError>;
}

impl<T, E: Into<BoxError>> OrBackend<T> for Result<T, E> {
    fn or_backend(self) -> Result<T, StoreError> {
        self.map_err(|error| {
            let error: BoxError = error.into();
            if disk_full(&error) {
                StoreError::Unavailable(error)
            } else {
                StoreError::Backend(error)
            }
        })
    }
}

/// SQLite's "database or disk is full": writes may work again once space is freed.
fn disk_full(error: &BoxError) -> bool {
    matches!(
        error.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(failure, _))
            if failure.code == rusqlite::ErrorCode::DiskFull
    )
}

/// A file's (device, inode).
fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

/// A timestamp as stored: Unix milliseconds.
pub(crate) fn millis(at: Timestamp) -> i64 {
    at.unix_millis()
}

/// A duration in milliseconds, saturating.
pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

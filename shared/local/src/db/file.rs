//! The database file on disk: created private to its owner (mode 0600, its directory
//! 0700) before SQLite opens it, an existing one made private, and owned by one
//! process at a time through an OS lock on a lock file beside it.

use std::fs::{DirBuilder, File, OpenOptions, Permissions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tracing::warn;
use webhooks_core::ports::StoreError;

/// Creates the file with mode 0600 if it does not exist yet (and its directory with
/// 0700); warns when an existing file is readable by others.
pub(super) fn create_private(path: &Path) -> Result<(), StoreError> {
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
        // It holds signing secrets: make it (and SQLite's side files, which copy its
        // mode when created) private, as a new one would be.
        for file in [
            path.to_owned(),
            side_file(path, "-wal"),
            side_file(path, "-shm"),
        ] {
            if file.exists() {
                std::fs::set_permissions(&file, Permissions::from_mode(0o600))
                    .map_err(|e| io_error("cannot make the database file private", &file, e))?;
            }
        }
        warn!(
            path = %path.display(),
            was = format!("{:o}", mode & 0o777),
            "the database file holds signing secrets and was accessible to other users; its mode is now 600"
        );
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name (`webhooks.db-wal`).
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes this process the database's only owner: an exclusive OS lock on
/// `<path>.lock` (released when the process ends, however it ends), holding the
/// owner's pid. A second process gets an error naming the file and the holder.
pub(super) fn lock_owner(path: &Path) -> Result<File, StoreError> {
    let lock_path = side_file(path, ".lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| io_error("cannot open the lock file", &lock_path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => String::from("another process"),
                pid => format!("process {pid}"),
            };
            return Err(StoreError::backend(format!(
                "{} is in use by {holder} (lock {}); stop it, or give this one another --db",
                path.display(),
                lock_path.display()
            )));
        }
        Err(TryLockError::Error(e)) => return Err(io_error("cannot lock", &lock_path, e)),
    }
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .map_err(|e| io_error("cannot write the lock file", &lock_path, e))?;
    Ok(file)
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> StoreError {
    StoreError::backend(format!("{what} {}: {error}", path.display()))
}

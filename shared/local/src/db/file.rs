//! The database file on disk: created private to its owner (mode 0600, its directory
//! 0700) before SQLite opens it, with a warning when an existing file is not.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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

//! The database file's privacy, its settings and migrations, and group commit.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;
use webhooks_core::ports::StoreError;

use super::{Db, OrBackend};
use crate::schema::MIGRATIONS;

/// Runs `look` on the database thread's connection and waits for its answer.
fn on_connection<T: Send + 'static>(
    db: &Db,
    look: impl FnOnce(&mut Connection) -> T + Send + 'static,
) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(db.call(move |conn| Ok(look(conn))))
        .unwrap()
}

#[test]
fn a_new_database_file_is_private_to_its_owner() {
    // GIVEN a directory without a database
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("webhooks.db");
    // WHEN the database is opened (and written, so the WAL file exists)
    let db = Db::open(&path).unwrap();
    on_connection(&db, |conn| {
        conn.execute(
            "INSERT INTO secrets (webhook_id, current) VALUES ('wh_1', 's')",
            [],
        )
        .unwrap();
    });
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
    let (mode, sync): (String, i64) = on_connection(&db, |conn| {
        (
            conn.pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap(),
            conn.pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap(),
        )
    });
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
        on_connection(&db, |conn| {
            conn.execute(
                "INSERT INTO secrets (webhook_id, current) VALUES ('wh_1', 's')",
                [],
            )
            .unwrap();
        });
    }
    // WHEN it is opened again
    let db = Db::open(&path).unwrap();
    // THEN the migrations are not reapplied and the row is still there
    let (version, count): (i64, i64) = on_connection(&db, |conn| {
        (
            conn.pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap(),
            conn.query_row("SELECT COUNT(*) FROM secrets", [], |r| r.get(0))
                .unwrap(),
        )
    });
    assert_eq!(version, i64::try_from(MIGRATIONS.len()).unwrap());
    assert_eq!(count, 1);
}

async fn secret_written(db: &Db, id: &str) -> bool {
    let id = id.to_owned();
    db.call(move |conn| {
        Ok(conn
            .query_row(
                "SELECT COUNT(*) FROM secrets WHERE webhook_id = ?1",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 1)
    })
    .await
    .unwrap()
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
    assert!(secret_written(&db, "wh_first").await);
    assert!(secret_written(&db, "wh_last").await);
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

#[test]
fn a_second_owner_of_the_file_is_refused_naming_it_and_the_holder() {
    // GIVEN a database opened by this process
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("owned.db");
    let first = Db::open(&path).unwrap();
    // WHEN it is opened again while the first owner lives
    let second = Db::open(&path);
    // THEN the second is refused, naming the file and the holding process
    let error = second.expect_err("a second owner is refused").to_string();
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(
        error.contains(&format!("process {}", std::process::id())),
        "{error}"
    );
    // AND once the first owner is gone, the file opens again
    drop(first);
    assert!(Db::open(&path).is_ok());
}

#[tokio::test]
async fn an_existing_file_readable_by_others_is_made_private_and_so_are_its_side_files() {
    // GIVEN a database file left at mode 0644
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.db");
    drop(Db::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    // WHEN it is opened and written (SQLite creates its WAL and SHM files then, with
    // the database file's mode)
    let db = Db::open(&path).unwrap();
    db.write(insert_secret("wh_private")).await.unwrap();
    // THEN the file and its side files are owner-only
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            assert_eq!(mode(&side), 0o600, "{suffix}");
        }
    }
}

#[test]
fn a_full_disk_is_a_store_that_is_unavailable_for_now_not_broken() {
    // GIVEN SQLite's "database or disk is full", and another failure
    let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(13), None);
    let other = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(11), None);
    // WHEN they become store errors
    let full = Err::<(), _>(full).or_backend().unwrap_err();
    let other = Err::<(), _>(other).or_backend().unwrap_err();
    // THEN the full disk says "try later" and the rest is a backend failure
    assert!(matches!(full, StoreError::Unavailable(_)), "{full:?}");
    assert!(matches!(other, StoreError::Backend(_)), "{other:?}");
}

#[test]
fn a_deleted_or_replaced_database_file_is_noticed() {
    // GIVEN an open database
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.db");
    let db = Db::open(&path).unwrap();
    assert!(db.still_on_disk());
    // WHEN its file is deleted, THEN the handle knows
    std::fs::remove_file(&path).unwrap();
    assert!(!db.still_on_disk());
    // AND a new file at the path is not the one it writes to
    std::fs::write(&path, b"").unwrap();
    assert!(!db.still_on_disk());
}

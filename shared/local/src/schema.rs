//! The SQLite schema, as an ordered list of migrations. `PRAGMA user_version` records
//! how many have been applied; a new table or column is a new entry at the end.

/// Migration `n` (1-based) brings a database from `user_version = n - 1` to `n`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "
    CREATE TABLE IF NOT EXISTS webhooks (
        id       TEXT    PRIMARY KEY NOT NULL,
        event    TEXT    NOT NULL,
        enabled  INTEGER NOT NULL,
        version  INTEGER NOT NULL,
        body     TEXT    NOT NULL
    );
    CREATE INDEX IF NOT EXISTS webhooks_by_event ON webhooks (event, id);

    CREATE TABLE IF NOT EXISTS secrets (
        webhook_id    TEXT    PRIMARY KEY NOT NULL,
        current       TEXT    NOT NULL,
        previous      TEXT,
        rotated_at_ms INTEGER
    );

    CREATE TABLE IF NOT EXISTS jobs (
        id              INTEGER PRIMARY KEY,
        kind            TEXT    NOT NULL,
        payload         TEXT    NOT NULL,
        not_before_ms   INTEGER NOT NULL,
        leased_until_ms INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS jobs_by_due ON jobs (not_before_ms, id);

    CREATE TABLE IF NOT EXISTS dead_jobs (
        id        INTEGER PRIMARY KEY,
        kind      TEXT    NOT NULL,
        payload   TEXT    NOT NULL,
        attempts  INTEGER NOT NULL,
        reason    TEXT    NOT NULL,
        buried_at_ms INTEGER NOT NULL
    );

    CREATE TABLE IF NOT EXISTS delivery_logs (
        webhook_id  TEXT    NOT NULL,
        sk          TEXT    NOT NULL,
        delivery_id TEXT    NOT NULL,
        attempt     INTEGER NOT NULL,
        outcome     TEXT    NOT NULL,
        at_ms       INTEGER NOT NULL,
        body        TEXT    NOT NULL,
        PRIMARY KEY (webhook_id, sk)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS delivery_logs_by_delivery
        ON delivery_logs (webhook_id, delivery_id, attempt);
    CREATE INDEX IF NOT EXISTS delivery_logs_by_time ON delivery_logs (at_ms);
    ",
    // 2: leased jobs by lease end, so the worker finds the next due time without
    // reading the whole queue (see `SqliteQueue::claim_ready`).
    "
    CREATE INDEX IF NOT EXISTS jobs_by_lease ON jobs (leased_until_ms);
    ",
    // 3: the values of webhooks' custom headers, beside the signing secrets (a webhook
    // may have either or both); a database from before reads as having none.
    "
    CREATE TABLE IF NOT EXISTS custom_headers (
        webhook_id TEXT NOT NULL,
        name       TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (webhook_id, name)
    ) WITHOUT ROWID;
    ",
    // 4: a webhook's health, tallied as attempts are logged (see `stats.rs`): counts
    // and a latency histogram (a JSON array of counts) per bucket of each granularity,
    // and each webhook's latest success and failure. Starts empty: attempts logged
    // before this migration are not counted.
    "
    CREATE TABLE IF NOT EXISTS webhook_stats (
        webhook_id    TEXT    NOT NULL,
        granularity   TEXT    NOT NULL,
        start_ms      INTEGER NOT NULL,
        succeeded     INTEGER NOT NULL,
        failed        INTEGER NOT NULL,
        latency       TEXT    NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (webhook_id, granularity, start_ms)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS webhook_stats_by_expiry ON webhook_stats (expires_at_ms);

    CREATE TABLE IF NOT EXISTS webhook_last_seen (
        webhook_id      TEXT    PRIMARY KEY NOT NULL,
        last_success_ms INTEGER,
        last_failure_ms INTEGER
    );
    ",
];

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection, SqliteConnection};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Config, Waits};
use crate::demo::ctx::Gauge;
use crate::demo::{Ctx, Ended};

pub const ACCOUNTS: i64 = 4;

/// The slow read: SQLite counts the combinations of a 200-row table with itself, 40,000 for
/// each of ?1 rows of a longer one: real work on the connection's own thread.
pub const SLOW_READ: &str =
    "SELECT count(*) FROM units AS a, digits AS b, digits AS c WHERE a.i < ?1";

/// The pool opens `min` connections now and more on demand, never more than `max`.
/// Each new connection gets a number, kept in a TEMP table (which only it can see).
pub async fn open_pool(
    ctx: &Ctx,
    file: &Path,
    cfg: &Config,
    opened: Arc<AtomicU32>,
) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal) // readers never block the writer
        .busy_timeout(Duration::from_secs(5));
    // Turning a new file to WAL needs the database to itself, and SQLite may answer "database
    // is locked" at once, without waiting, to connections that try it together, as the pool's
    // `min` would. So one connection does it first; the mode is kept in the file.
    SqliteConnection::connect_with(&options)
        .await?
        .close()
        .await?;
    let ctx = ctx.clone();
    SqlitePoolOptions::new()
        .min_connections(cfg.min_connections)
        .max_connections(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout_ms)
        .idle_timeout(cfg.idle_timeout()) // None for 0: never closed
        .max_lifetime(None)
        .after_connect(move |conn, _meta| {
            let n = opened.fetch_add(1, SeqCst) + 1;
            let ctx = ctx.clone();
            Box::pin(async move {
                sqlx::query("CREATE TEMP TABLE conn_info AS SELECT ?1 AS id")
                    .bind(n)
                    .execute(&mut *conn)
                    .await?;
                ctx.mark(format!("opened conn #{n}"));
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// One task: wait for a connection, use it, hand it back (by dropping it).
async fn query(
    ctx: Ctx,
    pool: SqlitePool,
    k: i64,
    units: i64,
    waiting: Gauge,
    waits: Waits,
) -> Ended {
    let asked = Instant::now();
    waiting.enter();
    // With `max` connections all in use this waits, in line, until one comes back.
    let acquired = pool.acquire().await;
    waiting.leave();
    let waited = waits.record(asked.elapsed());
    let mut conn = match acquired {
        Ok(conn) => conn,
        Err(sqlx::Error::PoolTimedOut) => {
            ctx.mark("gave up waiting");
            return Ended::timeout(format!("no connection within {waited} ms"));
        }
        Err(e) => return Ended::error(format!("cannot get a connection: {e}")),
    };
    ctx.mark("acquired");
    let ended = match work(&ctx, &mut conn, k, units).await {
        Ok(id) => Ended::ok(format!("waited {waited} ms; conn #{id}")),
        Err(e) => Ended::error(format!("database error: {e}")),
    };
    drop(conn); // back to the pool: the first task still waiting gets it
    ended
}

/// A slow read, then a transfer: three statements that commit together or not at all.
async fn work(
    ctx: &Ctx,
    conn: &mut SqliteConnection,
    k: i64,
    units: i64,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar("SELECT id FROM conn_info")
        .fetch_one(&mut *conn)
        .await?;
    // Runs on the connection's own thread; this task just awaits the answer.
    sqlx::query_scalar::<_, i64>(SLOW_READ)
        .bind(units)
        .fetch_one(&mut *conn)
        .await?;
    ctx.mark("read done");
    let (from, to) = (k % ACCOUNTS + 1, (k + 1) % ACCOUNTS + 1);
    // IMMEDIATE takes the write lock now; a second writer waits (busy_timeout) instead of failing.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("UPDATE accounts SET balance = balance - 10 WHERE id = ?1")
        .bind(from)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE accounts SET balance = balance + 10 WHERE id = ?1")
        .bind(to)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO transfers VALUES (?1, ?2, ?3, ?4, 10)")
        .bind(k)
        .bind(id)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    // An error above drops `tx` before this line: SQLite rolls the whole transfer back.
    tx.commit().await?;
    ctx.mark(format!("committed on conn #{id}"));
    Ok(id)
}

/// Start every task at once: more tasks than connections.
pub async fn run_queries(ctx: &Ctx, pool: &SqlitePool, cfg: &Config, units: i64, waits: &Waits) {
    let waiting = ctx.gauge("waiting");
    let mut set = JoinSet::new();
    for k in 1..=cfg.queries {
        let task = query(
            ctx.clone(),
            pool.clone(),
            k as i64,
            units,
            waiting.clone(),
            waits.clone(),
        );
        ctx.spawn_in(&mut set, format!("query {k}"), task);
    }
    while set.join_next().await.is_some() {}
}

//! Q6: a real connection pool. sqlx's `SqlitePool` on a temporary database file: more queries
//! than connections, so tasks wait in `acquire` for one to come back; each task runs a slow read
//! and a multi-statement transaction on the connection it got.

mod shown;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::sqlite::SqlitePool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, SetupError, VariantSpec, params,
    variants,
};
use shown::{ACCOUNTS, SLOW_READ};

pub struct ConnectionPool;

variants! {
    pub enum Variant {
        SqlxPool => VariantSpec::real(
            "sqlx-pool",
            "sqlx::SqlitePool on a temporary SQLite file (WAL mode), real clock",
        ),
    }
}

params! {
    pub struct Config {
        queries: usize = Int(1..=100), "8",
            "tasks that each need a connection, all started at t = 0";
        min_connections: u32 = Int(0..=16), "1",
            "connections opened when the pool is created and kept open when idle \
             (sqlx clamps it to max_connections)";
        max_connections: u32 = Int(1..=16), "3", "most connections the pool ever has open";
        query_ms: Duration = Ms(0..=250), "100",
            "database work of each slow read: SQLite counts rows, calibrated at start \
             to take about this long on one core";
        acquire_timeout_ms: Duration = Ms(10..=10_000), "5000",
            "a task that waits longer than this for a connection gives up (timeout)";
        idle_timeout_ms: Duration = Ms(0..=2000), "200",
            "after the work, connections idle this long are closed down to \
             min_connections (0: never, and the run ends at once)";
    }
}

impl Config {
    /// How long an idle connection lives; `None` (never closed) for 0.
    fn idle_timeout(&self) -> Option<Duration> {
        (!self.idle_timeout_ms.is_zero()).then_some(self.idle_timeout_ms)
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "connection-pool",
    title: "A real connection pool (sqlx + SQLite)",
    about: "`queries` tasks start at once; each needs a connection from a pool that opens \
            `min_connections` up front and at most `max_connections` in all. Tasks beyond the \
            max wait in acquire until a connection is handed back. Each runs a slow read and a \
            three-statement transfer transaction on its connection; afterwards idle connections \
            are closed down to the min.",
    variants: Variant::SPECS,
    default_variants: &[Variant::SqlxPool.name()],
    params: Config::PARAMS,
    metrics: &[
        (
            "max_pool_size",
            "most connections the pool had open, sampled every 2 ms",
        ),
        (
            "max_open_db_files",
            "most file handles on the database file at once, as the kernel counts them \
             (one per open connection; Linux only)",
        ),
        ("connections_opened", "connections opened during the run"),
        (
            "pool_size_at_end",
            "connections still open after the idle ones were closed: min_connections",
        ),
        (
            "max_acquire_wait_ms",
            "longest a task waited for a connection",
        ),
        (
            "transfers_committed",
            "transactions committed (one per task that got a connection)",
        ),
        (
            "balance_total",
            "sum of all balances after the run: transfers move money, never make or lose it",
        ),
    ],
    source: include_str!("connection_pool/shown.rs"),
    source_file: "src/demo/catalog/connection_pool/shown.rs",
};

const OPENING_BALANCE: i64 = 1000;
/// Rows of the table the slow read counts units from: its longest read. A small table caps how
/// long a read can last, and on a fast machine the demo would then promise a longer read than
/// it makes.
const MAX_UNITS: i64 = 10_000;

impl DemoProgram for ConnectionPool {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        async move {
            // The temporary directory lives as long as this future: a finished or a cancelled
            // run drops it, and with it the database file.
            let dir = match tempfile::Builder::new().prefix("asyncdojo-pool-").tempdir() {
                Ok(dir) => dir,
                Err(e) => {
                    let e = SetupError::new("cannot create a temporary directory", e);
                    return ctx.setup_failed("open pool", e).await;
                }
            };
            ctx.metric("db_dir", dir.path().display().to_string());
            match variant {
                Variant::SqlxPool => run_pool(&ctx, dir.path().join("bank.db"), &cfg).await,
            }
            match dir.close() {
                Ok(()) => ctx.mark("temporary database removed"),
                Err(e) => {
                    let e = SetupError::new("cannot remove the temporary database", e);
                    ctx.setup_failed("clean up", e).await;
                }
            }
        }
        .boxed()
    }
}

/// Set up the tables and measure how many units of SLOW_READ this machine does in `query`.
/// One connection does it all, so the pool holds just `min_connections` (at least one) when the
/// queries start.
async fn prepare(pool: &SqlitePool, query: Duration) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
         CREATE TABLE transfers (task INTEGER, conn INTEGER, from_id INTEGER, to_id INTEGER,
                                 amount INTEGER);
         CREATE TABLE digits (i INTEGER PRIMARY KEY);
         INSERT INTO digits (i)
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
             SELECT i FROM n;
         CREATE TABLE units (i INTEGER PRIMARY KEY);
         INSERT INTO units (i)
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
             SELECT i FROM n",
    )
    .execute(&mut *conn)
    .await?;
    for id in 1..=ACCOUNTS {
        sqlx::query("INSERT INTO accounts (id, balance) VALUES (?1, ?2)")
            .bind(id)
            .bind(OPENING_BALANCE)
            .execute(&mut *conn)
            .await?;
    }
    if query.is_zero() {
        return Ok(0);
    }
    // Large enough that the query's fixed cost (a statement, a trip to the connection's thread)
    // does not count as rows (with a few units it did, and reads came out short).
    const PROBE: i64 = 16;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        sqlx::query_scalar::<_, i64>(SLOW_READ)
            .bind(PROBE)
            .fetch_one(&mut *conn)
            .await?;
        best = best.min(t.elapsed());
    }
    let per_unit = best.as_secs_f64() / PROBE as f64;
    Ok(((query.as_secs_f64() / per_unit.max(1e-12)).round() as i64).clamp(1, MAX_UNITS))
}

async fn run_pool(ctx: &Ctx, file: PathBuf, cfg: &Config) {
    let opened = Arc::new(AtomicU32::new(0));
    let open = async {
        let pool = shown::open_pool(ctx, &file, cfg, Arc::clone(&opened))
            .await
            .map_err(|e| SetupError::new("cannot open the database", e))?;
        match prepare(&pool, cfg.query_ms).await {
            Ok(units) => {
                let detail = format!(
                    "{} connection(s) open; slow read = {units} × 40,000 rows ≈ {} ms",
                    pool.size(),
                    cfg.query_ms.as_millis()
                );
                Ok(((pool, units), detail))
            }
            Err(e) => {
                pool.close().await;
                Err(SetupError::new("cannot set up the database", e))
            }
        }
    };
    let Some((pool, units)) = ctx.setup_lane("open pool", open).await else {
        return;
    };

    let stop = CancellationToken::new();
    let watch = Watch::new(&file);
    let monitor = ctx.spawn(
        "pool monitor",
        monitor(ctx.clone(), pool.clone(), watch.clone(), stop.clone()),
    );
    let waits = Waits::default();
    shown::run_queries(ctx, &pool, cfg, units, &waits).await;
    ctx.metric("max_acquire_wait_ms", waits.max_ms());

    match totals(&pool).await {
        Ok((balance, transfers)) => {
            ctx.metric("balance_total", balance);
            ctx.metric("transfers_committed", transfers);
        }
        Err(e) => {
            let e = SetupError::new("cannot read the totals", e);
            ctx.setup_failed("check balances", e).await
        }
    }
    if let Some(idle) = cfg.idle_timeout() {
        ctx.mark("work done: idle connections start to age");
        let min = cfg.min_connections.min(cfg.max_connections);
        shrink_to_min(&pool, min, idle).await;
    }
    ctx.metric("pool_size_at_end", pool.size());
    pool.close().await;
    ctx.mark("pool closed");
    stop.cancel();
    let _ = monitor.await;
    ctx.metric("connections_opened", opened.load(SeqCst));
    ctx.metric("max_pool_size", watch.max_size.load(SeqCst));
    if let Some(files) = watch.max_files() {
        ctx.metric("max_open_db_files", files);
    }
}

/// Wait (bounded) until the pool is back to its minimum: the reaper checks every `idle`.
async fn shrink_to_min(pool: &SqlitePool, min: u32, idle: Duration) {
    let deadline = Instant::now() + idle * 2 + Duration::from_millis(200);
    while Instant::now() < deadline && (pool.size() != min || pool.num_idle() != min as usize) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn totals(pool: &SqlitePool) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as("SELECT (SELECT sum(balance) FROM accounts), (SELECT count(*) FROM transfers)")
        .fetch_one(pool)
        .await
}

/// How long each task waited for its connection.
#[derive(Clone, Default)]
struct Waits(Arc<std::sync::Mutex<Vec<Duration>>>);

impl Waits {
    /// Keep `d`; return it in whole milliseconds, for messages.
    fn record(&self, d: Duration) -> u128 {
        if let Ok(mut w) = self.0.lock() {
            w.push(d);
        }
        d.as_millis()
    }

    fn max_ms(&self) -> f64 {
        let w = self.0.lock().map(|w| w.clone()).unwrap_or_default();
        let max = w.iter().map(Duration::as_secs_f64).fold(0.0, f64::max);
        (max * 1000.0 * 10.0).round() / 10.0
    }
}

/// What the monitor saw: the pool's own count and the kernel's count of open database files.
#[derive(Clone)]
struct Watch {
    db: PathBuf,
    max_size: Arc<AtomicU32>,
    max_files: Arc<AtomicUsize>,
    files_seen: Arc<AtomicBool>,
}

impl Watch {
    fn new(db: &Path) -> Watch {
        Watch {
            db: db.to_owned(),
            max_size: Arc::default(),
            max_files: Arc::default(),
            files_seen: Arc::default(),
        }
    }

    fn max_files(&self) -> Option<usize> {
        self.files_seen
            .load(SeqCst)
            .then(|| self.max_files.load(SeqCst))
    }

    /// File descriptors of this process open on the database file (each SQLite connection holds
    /// one): `/proc/self/fd` on Linux, nothing elsewhere.
    fn count_files(&self) {
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
            return;
        };
        let n = fds
            .filter_map(Result::ok)
            .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == self.db))
            .count();
        self.files_seen.store(true, SeqCst);
        self.max_files.fetch_max(n, SeqCst);
    }
}

/// Sample the pool every 2 ms: its size, its idle connections, and the open database files.
async fn monitor(ctx: Ctx, pool: SqlitePool, watch: Watch, stop: CancellationToken) -> Ended {
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let size = pool.size();
        let idle = pool.num_idle();
        ctx.series("pool_size", size as usize);
        ctx.series("pool_idle", idle);
        watch.max_size.fetch_max(size, SeqCst);
        watch.count_files();
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
    }
    Ended::ok(format!(
        "at most {} connection(s) open",
        watch.max_size.load(SeqCst)
    ))
}

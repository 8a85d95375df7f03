//! Q6: a real connection pool. sqlx's `SqlitePool` on a temporary database file: more queries
//! than connections, so tasks wait in `acquire` for one to come back; each task runs a slow read
//! and a multi-statement transaction on the connection it got.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct ConnectionPool;

static SPEC: DemoSpec = DemoSpec {
    id: "connection-pool",
    title: "A real connection pool (sqlx + SQLite)",
    about: "`queries` tasks start at once; each needs a connection from a pool that opens \
            `min_connections` up front and at most `max_connections` in all. Tasks beyond the \
            max wait in acquire until a connection is handed back. Each runs a slow read and a \
            three-statement transfer transaction on its connection; afterwards idle connections \
            are closed down to the min.",
    variants: &[VariantSpec::real(
        "sqlx-pool",
        "sqlx::SqlitePool on a temporary SQLite file (WAL mode), real clock",
    )],
    default_variants: &["sqlx-pool"],
    params: &[
        ParamSpec {
            name: "queries",
            kind: ParamKind::Int { min: 1, max: 100 },
            default: "8",
            help: "tasks that each need a connection, all started at t = 0",
        },
        ParamSpec {
            name: "min_connections",
            kind: ParamKind::Int { min: 0, max: 16 },
            default: "1",
            help: "connections opened when the pool is created and kept open when idle \
                   (sqlx clamps it to max_connections)",
        },
        ParamSpec {
            name: "max_connections",
            kind: ParamKind::Int { min: 1, max: 16 },
            default: "3",
            help: "most connections the pool ever has open",
        },
        ParamSpec {
            name: "query_ms",
            kind: ParamKind::Ms { min: 0, max: 250 },
            default: "100",
            help: "database work of each slow read: SQLite counts rows, calibrated at start \
                   to take about this long on one core",
        },
        ParamSpec {
            name: "acquire_timeout_ms",
            kind: ParamKind::Ms {
                min: 10,
                max: 10_000,
            },
            default: "5000",
            help: "a task that waits longer than this for a connection gives up (timeout)",
        },
        ParamSpec {
            name: "idle_timeout_ms",
            kind: ParamKind::Ms { min: 0, max: 2000 },
            default: "200",
            help: "after the work, connections idle this long are closed down to \
                   min_connections (0: never, and the run ends at once)",
        },
    ],
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
    source: include_str!("connection_pool.rs"),
    source_file: file!(),
};

/// The parameters of one run.
#[derive(Debug, Clone)]
struct Config {
    queries: usize,
    min: u32,
    max: u32,
    query: Duration,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
}

const ACCOUNTS: i64 = 4;
const OPENING_BALANCE: i64 = 1000;

impl LegacyDemo for ConnectionPool {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, _variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let idle = params.ms("idle_timeout_ms");
        let cfg = Config {
            queries: params.count("queries"),
            min: u32::try_from(params.int("min_connections")).unwrap_or(0),
            max: u32::try_from(params.int("max_connections")).unwrap_or(1),
            query: params.ms("query_ms"),
            acquire_timeout: params.ms("acquire_timeout_ms"),
            idle_timeout: (!idle.is_zero()).then_some(idle),
        };
        async move {
            // The temporary directory lives as long as this future: a finished or a cancelled
            // run drops it, and with it the database file.
            let dir = match tempfile::Builder::new().prefix("asyncdojo-pool-").tempdir() {
                Ok(dir) => dir,
                Err(e) => {
                    let msg = SetupError::new("cannot create a temporary directory", e);
                    ctx.setup_failed("open pool", msg).await;
                    return;
                }
            };
            ctx.metric("db_dir", dir.path().display().to_string());
            run_pool(&ctx, dir.path().join("bank.db"), &cfg).await;
            match dir.close() {
                Ok(()) => ctx.mark("temporary database removed"),
                Err(e) => {
                    let msg = SetupError::new("cannot remove the temporary database", e);
                    ctx.setup_failed("clean up", msg).await;
                }
            }
        }
        .boxed()
    }
}

/// The slow read: SQLite joins a 200-row table with itself three times and counts the
/// combinations, 40,000 per unit of ?1: real work on the connection's own thread.
const SLOW_READ: &str = "SELECT count(*) FROM digits AS a, digits AS b, digits AS c WHERE a.i < ?1";
const DIGITS: i64 = 200;

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
    const PROBE: i64 = 4;
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
    Ok(((query.as_secs_f64() / per_unit.max(1e-12)).round() as i64).clamp(1, DIGITS))
}

async fn run_pool(ctx: &Ctx, file: PathBuf, cfg: &Config) {
    let opened = Arc::new(AtomicU32::new(0));
    let mut setup = None;
    let open = async {
        let pool = match open_pool(ctx, &file, cfg, Arc::clone(&opened)).await {
            Ok(pool) => pool,
            Err(e) => return Ended::error(format!("cannot open the database: {e}")),
        };
        match prepare(&pool, cfg.query).await {
            Ok(units) => {
                let detail = format!(
                    "{} connection(s) open; slow read = {units} × 40,000 rows ≈ {} ms",
                    pool.size(),
                    cfg.query.as_millis()
                );
                setup = Some((pool, units));
                Ended::ok(detail)
            }
            Err(e) => {
                pool.close().await;
                Ended::error(format!("cannot set up the database: {e}"))
            }
        }
    };
    ctx.instrument("open pool", open).await;
    let Some((pool, units)) = setup else { return };

    let stop = CancellationToken::new();
    let watch = Watch::new(&file);
    let monitor = ctx.spawn(
        "pool monitor",
        monitor(ctx.clone(), pool.clone(), watch.clone(), stop.clone()),
    );
    let waits = Waits::default();
    run_queries(ctx, &pool, cfg, units, &waits).await;
    ctx.metric("max_acquire_wait_ms", waits.max_ms());

    match totals(&pool).await {
        Ok((balance, transfers)) => {
            ctx.metric("balance_total", balance);
            ctx.metric("transfers_committed", transfers);
        }
        Err(e) => {
            ctx.setup_failed(
                "check balances",
                SetupError::new("cannot read the totals", e),
            )
            .await
        }
    }
    if let Some(idle) = cfg.idle_timeout {
        ctx.mark("work done: idle connections start to age");
        shrink_to_min(&pool, cfg.min.min(cfg.max), idle).await;
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
    files_seen: Arc<std::sync::atomic::AtomicBool>,
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

// region:demo
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection, SqliteConnection};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::demo::ctx::Gauge;

/// The pool opens `min` connections now and more on demand, never more than `max`.
/// Each new connection gets a number, kept in a TEMP table (which only it can see).
async fn open_pool(
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
    let ctx = ctx.clone();
    SqlitePoolOptions::new()
        .min_connections(cfg.min)
        .max_connections(cfg.max)
        .acquire_timeout(cfg.acquire_timeout)
        .idle_timeout(cfg.idle_timeout)
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
async fn run_queries(ctx: &Ctx, pool: &SqlitePool, cfg: &Config, units: i64, waits: &Waits) {
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
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::runner::{self, RunRequest, VariantRun};
    use crate::demo::timeline::TimelineSnapshot;
    use crate::demo::{Clock, Outcome};

    fn run(sets: &[&str]) -> VariantRun {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let req = RunRequest::build("connection-pool", &[], &sets, Clock::Real).unwrap();
        let report = runner::run_blocking(req).unwrap();
        let r = report.run("sqlx-pool").unwrap().clone();
        assert_eq!(r.alive_after, 0, "no task left behind");
        assert_eq!(r.error, None);
        // The temporary database is gone.
        let dir = r.timeline.metrics["db_dir"].as_str().unwrap().to_owned();
        assert!(!std::path::Path::new(&dir).exists(), "{dir} was removed");
        r
    }

    fn mark_times(tl: &TimelineSnapshot, task: &str, prefix: &str) -> Vec<f64> {
        let id = tl.task(task).unwrap().id;
        tl.marks
            .iter()
            .filter(|m| m.task == Some(id) && m.label.starts_with(prefix))
            .map(|m| m.t_ms)
            .collect()
    }

    /// Most tasks holding a connection at once, from each task's `acquired` mark to its end.
    fn max_holding(tl: &TimelineSnapshot, queries: usize) -> usize {
        let mut events: Vec<(f64, i32)> = Vec::new();
        for k in 1..=queries {
            let name = format!("query {k}");
            let t = tl.task(&name).unwrap();
            if let [acquired] = mark_times(tl, &name, "acquired")[..] {
                events.push((acquired, 1));
                events.push((t.finished_ms.unwrap(), -1));
            }
        }
        // Ends before starts at the same instant: a handed-back connection is free again.
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut now, mut max) = (0i32, 0i32);
        for (_, d) in events {
            now += d;
            max = max.max(now);
        }
        max as usize
    }

    #[test]
    fn never_more_than_max_connections_and_the_rest_wait() {
        let r = run(&[]);
        let tl = &r.timeline;
        for k in 1..=8 {
            let t = tl.task(&format!("query {k}")).unwrap();
            assert_eq!(t.outcome, Outcome::Ok, "query {k}: {}", t.detail);
            assert_eq!(mark_times(tl, &t.name, "acquired").len(), 1);
            assert_eq!(mark_times(tl, &t.name, "committed on conn #").len(), 1);
        }
        // The pool grew to its max and never beyond, as the pool, the tasks and the kernel see it.
        assert_eq!(tl.metric("max_pool_size"), Some(3.0));
        assert_eq!(max_holding(tl, 8), 3);
        if cfg!(target_os = "linux") {
            let files = tl.metric("max_open_db_files").unwrap();
            assert!((1.0..=3.0).contains(&files), "{files} open database files");
        }
        // Exactly max tasks got a connection before the first commit; the other five waited.
        let first_commit = tl
            .marks
            .iter()
            .filter(|m| m.label.starts_with("committed"))
            .map(|m| m.t_ms)
            .fold(f64::INFINITY, f64::min);
        let early = tl
            .marks
            .iter()
            .filter(|m| m.label == "acquired" && m.t_ms < first_commit)
            .count();
        assert_eq!(early, 3);
        assert!(tl.metric("max_acquire_wait_ms").unwrap() >= 100.0);
        // Every transfer committed, and the money adds up.
        assert_eq!(tl.metric("transfers_committed"), Some(8.0));
        assert_eq!(tl.metric("balance_total"), Some(4000.0));
        assert!(tl.metric("connections_opened").unwrap() >= 3.0);
        // Idle connections were closed down to min_connections.
        assert_eq!(tl.metric("pool_size_at_end"), Some(1.0));
        let sizes: Vec<f64> = tl.series["pool_size"]
            .iter()
            .filter_map(|(_, v)| match v {
                crate::demo::timeline::SeriesValue::Num(n) => Some(*n),
                _ => None,
            })
            .collect();
        assert!(sizes.iter().all(|&s| s <= 3.0), "{sizes:?}");
    }

    #[test]
    fn min_connections_are_opened_up_front() {
        let r = run(&["queries=3", "min_connections=3", "idle_timeout_ms=0"]);
        let tl = &r.timeline;
        // sqlx opens the minimum from a task of its own. When exactly each one opens depends on
        // the machine's load (a query may even get there first), so assert what holds always:
        // three connections, opened once each, and every query served by them.
        let opened = tl
            .marks
            .iter()
            .filter(|m| m.label.starts_with("opened conn #"))
            .count();
        assert_eq!(opened, 3);
        for k in 1..=3 {
            let name = format!("query {k}");
            assert_eq!(tl.task(&name).unwrap().outcome, Outcome::Ok);
        }
        assert_eq!(tl.metric("connections_opened"), Some(3.0));
        assert_eq!(tl.metric("pool_size_at_end"), Some(3.0));
    }

    #[test]
    fn min_above_max_is_clamped_to_max() {
        let r = run(&[
            "queries=4",
            "min_connections=5",
            "max_connections=2",
            "query_ms=20",
            "idle_timeout_ms=0",
        ]);
        let tl = &r.timeline;
        assert_eq!(tl.metric("max_pool_size"), Some(2.0));
        assert_eq!(max_holding(tl, 4), 2);
        assert_eq!(tl.metric("transfers_committed"), Some(4.0));
    }

    #[test]
    fn a_task_that_waits_too_long_times_out() {
        let r = run(&[
            "queries=3",
            "max_connections=1",
            "query_ms=200",
            "acquire_timeout_ms=100",
            "idle_timeout_ms=0",
        ]);
        let tl = &r.timeline;
        assert_eq!(tl.task("query 1").unwrap().outcome, Outcome::Ok);
        for name in ["query 2", "query 3"] {
            let t = tl.task(name).unwrap();
            assert_eq!(t.outcome, Outcome::Timeout, "{name}: {}", t.detail);
            assert_eq!(mark_times(tl, name, "gave up waiting").len(), 1);
        }
        assert_eq!(tl.metric("transfers_committed"), Some(1.0));
        assert_eq!(tl.metric("balance_total"), Some(4000.0));
    }

    #[test]
    fn a_cancelled_run_closes_the_pool_and_removes_the_database() {
        let sets: Vec<String> = ["queries=40", "max_connections=2", "query_ms=200"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let req = RunRequest::build("connection-pool", &[], &sets, Clock::Real).unwrap();
        let run = runner::DemoRun::start(req).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(!run.is_finished());
        run.cancel();
        let report = run.wait();
        let r = &report.runs[0];
        assert_eq!(r.error, Some(crate::demo::RunError::Cancelled));
        assert_eq!(r.alive_after, 0);
        let dir = r.timeline.metrics["db_dir"].as_str().unwrap();
        assert!(!std::path::Path::new(dir).exists(), "{dir} was removed");
    }
}

//! The demo engine itself: isolation, cancellation, panics, both clocks.

use std::time::Duration;

use asyncdojo::demo::{
    Clock, Ctx, DemoProgram, DemoRun, DemoSpec, DemoVariant, Ended, FromParams, Outcome, Params,
    RunError, RunRequest, VariantSpec, params, runner, variants,
};
use futures::FutureExt;
use futures::future::BoxFuture;

variants! {
    enum Only {
        Only => VariantSpec::single("only", "the only variant"),
    }
}

params! {
    struct NoParams {}
}

/// A demo written for these tests: a task that panics, a task that runs long, a task that is
/// never awaited.
struct Troublemaker;

static SPEC: DemoSpec = DemoSpec {
    id: "troublemaker",
    title: "test demo",
    about: "panics, hangs and forgets",
    variants: Only::SPECS,
    default_variants: &["only"],
    params: NoParams::PARAMS,
    metrics: &[],
    source: "1\n2\n3\n4\n5\n",
    source_file: "",
};

impl DemoProgram for Troublemaker {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Only;
    type Config = NoParams;

    fn run(ctx: Ctx, _: Only, _: NoParams) -> BoxFuture<'static, ()> {
        async move {
            let bomb = ctx.spawn("bomb", async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                panic!("boom at 10 ms");
            });
            // Left running when main returns: the engine must end it.
            let _forgotten = ctx.spawn("forever", async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ended::ok("")
            });
            let _lazy = ctx.instrument("never polled", async { Ended::ok("") });
            let ended = bomb.await.expect("the engine turns a panic into an ending");
            assert_eq!(ended.outcome, Outcome::Panicked);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        .boxed()
    }
}

fn troublemaker(clock: Clock) -> RunRequest {
    RunRequest {
        demo: &Troublemaker,
        variants: vec!["only"],
        params: Params::defaults(&SPEC),
        clock,
        os_signals: false,
    }
}

#[test]
fn a_panicking_task_is_recorded_and_the_run_goes_on() {
    let report = runner::run_blocking(troublemaker(Clock::Virtual)).expect("run");
    let run = &report.runs[0];
    assert_eq!(run.error, None);
    assert_eq!(run.total_ms, 30.0);
    let bomb = run.timeline.task("bomb").expect("bomb lane");
    assert_eq!(bomb.outcome, Outcome::Panicked);
    assert_eq!(bomb.detail, "boom at 10 ms");
    assert_eq!(bomb.finished_ms, Some(10.0));
    assert_eq!(bomb.parent, Some(1), "spawned by main");
}

#[test]
fn leftover_tasks_end_with_the_run_and_nothing_stays_alive() {
    let report = runner::run_blocking(troublemaker(Clock::Virtual)).expect("run");
    let run = &report.runs[0];
    assert_eq!(run.alive_after, 0);
    let forever = run.timeline.task("forever").expect("lane");
    assert_eq!(forever.outcome, Outcome::Cancelled);
    let lazy = run.timeline.task("never polled").expect("lane");
    assert_eq!(lazy.outcome, Outcome::Cancelled);
    assert_eq!(lazy.detail, "never started: dropped before its first poll");
    assert!(lazy.polls.is_empty());
}

#[test]
fn a_run_cancelled_mid_way_ends_every_task() {
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &["latencies_ms=50,5000,60000".into()],
        Clock::Real,
    )
    .expect("request");
    let run = DemoRun::start(req).expect("start");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!run.is_finished());
    let started = std::time::Instant::now();
    run.cancel();
    let report = run.wait();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "cancel is prompt"
    );
    let v = &report.runs[0];
    assert_eq!(v.error, Some(RunError::Cancelled));
    assert_eq!(v.alive_after, 0);
    let outcomes: Vec<Outcome> = v.timeline.tasks.iter().map(|t| t.outcome).collect();
    // main, then requests 1..3: the 50 ms one finished, the others were ended by the cancel.
    assert_eq!(
        outcomes,
        [
            Outcome::Cancelled,
            Outcome::Ok,
            Outcome::Cancelled,
            Outcome::Cancelled
        ]
    );
}

/// A finished variant's run is moved, not copied, out of its recorder; the live view must still
/// show it, whole, while the next variant runs, and the report must still carry every run.
#[test]
fn a_finished_variant_stays_in_the_live_view_while_the_next_one_runs() {
    let req = RunRequest::build(
        "gather",
        &["join-all".into(), "sequential".into()],
        // join-all takes 40 ms; sequential, 400 ms.
        &[format!("latencies_ms={}", ["40"; 10].join(","))],
        Clock::Real,
    )
    .expect("request");
    let run = DemoRun::start(req).expect("start");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last_version = 0;
    let first = loop {
        let version = run.version();
        assert!(version >= last_version, "the version never goes back");
        last_version = version;
        let snaps = run.snapshots();
        if snaps.len() == 2 {
            break snaps[0].clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second variant never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(first.0, "join-all");
    assert_eq!(first.1.tasks.len(), 11, "main and ten requests");
    assert!(
        first.1.tasks.iter().all(|t| t.outcome == Outcome::Ok),
        "the first variant is shown finished"
    );
    let report = run.wait();
    let variants: Vec<&str> = report.runs.iter().map(|r| r.variant).collect();
    assert_eq!(variants, ["join-all", "sequential"]);
    assert_eq!(
        report.runs[0].timeline, first.1,
        "the live view showed the run as reported"
    );
    assert_eq!(report.runs[1].timeline.tasks.len(), 11);
}

#[test]
fn dropping_a_run_cancels_it() {
    let req = RunRequest::build("gather", &[], &["latencies_ms=60000".into()], Clock::Real)
        .expect("request");
    let started = std::time::Instant::now();
    drop(DemoRun::start(req).expect("start"));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn the_virtual_clock_is_exact_and_repeatable() {
    let run = || {
        let req = RunRequest::build(
            "gather",
            &[],
            &["latencies_ms=123,7,1000".into()],
            Clock::Virtual,
        )
        .expect("request");
        runner::run_blocking(req).expect("run")
    };
    let (a, b) = (run(), run());
    assert_eq!(a.runs[0].total_ms, 1130.0);
    assert_eq!(a.runs[1].total_ms, 1000.0);
    assert_eq!(a.runs[0].timeline, b.runs[0].timeline);
}

#[test]
fn the_real_clock_measures_real_time() {
    let req = RunRequest::build(
        "gather",
        &["sequential".into(), "join-all".into()],
        &["latencies_ms=60,60,60".into()],
        Clock::Real,
    )
    .expect("request");
    let report = runner::run_blocking(req).expect("run");
    let seq = report.run("sequential").expect("sequential").total_ms;
    let all = report.run("join-all").expect("join-all").total_ms;
    // Generous bounds: the machine is shared, but 180 ms of sleeps never take under 180 ms.
    assert!((180.0..600.0).contains(&seq), "sequential took {seq} ms");
    assert!((60.0..400.0).contains(&all), "join-all took {all} ms");
    assert!(seq > all + 60.0);
}

#[test]
fn runs_happen_on_a_named_thread_of_their_own() {
    struct WhereAmI;
    static WHERE: DemoSpec = DemoSpec {
        id: "where",
        title: "t",
        about: "t",
        variants: Only::SPECS,
        default_variants: &["only"],
        params: NoParams::PARAMS,
        metrics: &[],
        source: "",
        source_file: "",
    };
    impl DemoProgram for WhereAmI {
        const SPEC: &'static DemoSpec = &WHERE;
        type Variant = Only;
        type Config = NoParams;

        fn run(ctx: Ctx, _: Only, _: NoParams) -> BoxFuture<'static, ()> {
            async move {
                let name = std::thread::current().name().unwrap_or("").to_owned();
                ctx.mark(name);
            }
            .boxed()
        }
    }
    let req = RunRequest {
        demo: &WhereAmI,
        variants: vec![],
        params: Params::defaults(&WHERE),
        clock: Clock::Virtual,
        os_signals: false,
    };
    let report = runner::run_blocking(req).expect("run");
    assert_eq!(report.runs[0].timeline.marks[0].label, "demo-where");
    assert_ne!(
        std::thread::current().name(),
        Some("demo-where"),
        "not the caller's thread"
    );
}

#[test]
fn an_environment_failure_fails_the_run_with_the_reason_and_run_exits_1() {
    // A temp dir that is a file: the downloader cannot set up, and says so for the whole run.
    let not_a_dir = tempfile::NamedTempFile::new().expect("a file");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args(["run", "downloader", "--variant", "shared-client"])
        .env("TMPDIR", not_a_dir.path())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("shared-client: cannot create a temporary directory"),
        "{stderr}"
    );
}

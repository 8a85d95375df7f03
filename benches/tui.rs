//! The terminal app's budgets: process start to first frame (50 ms), a 160×48 frame showing a
//! 10,000-task run (4 ms), a 160×48 frame of the one-axis comparison of two 5,000-task runs
//! (2 ms), one time-cursor step on a 100,000-event run with its code link and narration (0.1 ms), CPU while idle for 10 s (under 1 % of a core), resident memory after
//! opening every lesson (under 60 MB). The last two are measured once on the real binary in a
//! pseudo-terminal and printed after divan's table.

use std::time::{Duration, Instant};

use asyncdojo::app::{Action, App, CodeView, LessonLayout, Pane, RunView};
use asyncdojo::demo::timeline::narrate::narrate;
use asyncdojo::demo::timeline::{Mark, Outcome, TaskRecord, TimelineSnapshot, Wake, WakeCause};
use asyncdojo::demo::{Clock, Registry, RunRequest, runner};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn main() {
    divan::main();
    let mut starts: Vec<Duration> = (0..21).map(|_| start_to_first_frame()).collect();
    starts.sort();
    println!(
        "process start to first frame: median {:.1} ms, fastest {:.1} ms, slowest {:.1} ms over {} runs (budget 50 ms)",
        starts[starts.len() / 2].as_secs_f64() * 1000.0,
        starts[0].as_secs_f64() * 1000.0,
        starts[starts.len() - 1].as_secs_f64() * 1000.0,
        starts.len()
    );
    idle_and_memory();
}

/// The app in a pseudo-terminal, on a progress directory of its own: a first start, whatever
/// the machine's own progress holds.
fn spawn_app(rows: u16, cols: u16, data_dir: &std::path::Path) -> rexpect::session::PtySession {
    let bin = env!("CARGO_BIN_EXE_asyncdojo");
    let dir = data_dir.display();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c"])
        .arg(format!(
            "stty rows {rows} cols {cols}; exec {bin} --data-dir '{dir}'"
        ))
        .env("TERM", "xterm-256color");
    rexpect::session::spawn_command(cmd, Some(10_000)).expect("spawn in a pty")
}

fn key(p: &mut rexpect::session::PtySession, keys: &str) {
    p.send(keys).expect("send");
    p.flush().expect("flush");
}

/// Process start to the first frame's bytes on the pseudo-terminal. The pty is read directly
/// (rexpect's session reader polls every 100 ms, too coarse to time this); the app is started
/// with `exec`, after `stty` has sized the terminal, so the time is the app's own.
fn start_to_first_frame() -> Duration {
    use std::io::{Read, Write};
    let bin = env!("CARGO_BIN_EXE_asyncdojo");
    {
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["--norc", "--noprofile", "-c"])
            .arg(format!(
                "stty rows 24 cols 80; printf READY; read -r _; exec {bin}"
            ))
            .env("TERM", "xterm-256color");
        let process = rexpect::process::PtyProcess::new(cmd).expect("pty");
        let mut pty = process.get_file_handle().expect("pty file");
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(5).any(|w| w == b"READY") {
            let n = pty.read(&mut buf).expect("read");
            seen.extend_from_slice(&buf[..n]);
        }
        seen.clear();
        // The clock starts when the shell is told to exec the app.
        let started = Instant::now();
        pty.write_all(b"\n").expect("go");
        while !seen.windows(7).any(|w| w == b"Lessons") {
            let n = pty.read(&mut buf).expect("read");
            seen.extend_from_slice(&buf[..n]);
        }
        let elapsed = started.elapsed();
        pty.write_all(b"q").expect("quit");
        let _ = process.wait();
        elapsed
    }
}

/// The in-process part of start-up: load the lessons, build the state, draw the first frame.
#[divan::bench]
fn load_and_draw_first_frame() -> usize {
    let app = App::new(asyncdojo::lesson::load_embedded(&Registry), false);
    let area = Rect::new(0, 0, 160, 48);
    let mut buf = Buffer::empty(area);
    asyncdojo::ui::draw(&app, area, &mut buf);
    buf.content().len()
}

#[divan::bench(sample_count = 50)]
fn frame_160x48_with_10k_tasks(bencher: divan::Bencher) {
    let mut app = App::new(asyncdojo::lesson::load_embedded(&Registry), false);
    let _ = app.update(Action::Open);
    let list = (1..=10_000)
        .map(|i| (i % 500).to_string())
        .collect::<Vec<_>>()
        .join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("request");
    let report = runner::run_blocking(req).expect("run");
    let runs =
        asyncdojo::demo::run::Run::from_report(report, asyncdojo::demo::asyncio::Runtime::Tokio);
    if let Some(v) = app.lesson.as_mut() {
        v.run = RunView::finished(runs, None);
        v.run.cursor_ms = Some(250.0);
    }
    let area = Rect::new(0, 0, 160, 48);
    let mut buf = Buffer::empty(area);
    bencher.bench_local(|| {
        asyncdojo::ui::draw(&app, area, &mut buf);
    });
}

/// The 10,000-task frame again, the run's wakes filled in by hand as a recorder fills them
/// (each request woken by its spawn and, 10 ms before its second poll, by its timer), so each
/// lane's cells read its wakes and the ready strip is drawn (budget 2 ms).
#[divan::bench(sample_count = 50)]
fn frame_160x48_with_10k_tasks_and_wakes(bencher: divan::Bencher) {
    let mut app = App::new(asyncdojo::lesson::load_embedded(&Registry), false);
    let _ = app.update(Action::Open);
    let list = (1..=10_000)
        .map(|i| (i % 500).to_string())
        .collect::<Vec<_>>()
        .join(",");
    let req = RunRequest::build(
        "gather",
        &["join-set".into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("request");
    let mut report = runner::run_blocking(req).expect("run");
    for v in &mut report.runs {
        let tl = &mut v.timeline;
        let mut wakes = Vec::new();
        for t in tl.tasks.iter().filter(|t| t.parent.is_some()) {
            let seq = |n: usize| t.poll_seq(n).unwrap_or(0);
            if let Some(&(a, _)) = t.polls.first() {
                wakes.push(Wake {
                    seq: seq(0),
                    t_ms: a,
                    task: t.id,
                    cause: WakeCause::Spawn,
                    by: None,
                    line: None,
                });
            }
            if let Some(&(a, _)) = t.polls.get(1) {
                wakes.push(Wake {
                    seq: seq(1),
                    // Due 10 ms before the poll (as if the thread were held): the ready strip
                    // has a queue to draw.
                    t_ms: (a - 10.0).max(t.polls[0].1),
                    task: t.id,
                    cause: WakeCause::Timer,
                    by: None,
                    line: None,
                });
            }
        }
        wakes.sort_by_key(|w| w.seq);
        tl.wakes = wakes;
    }
    let runs =
        asyncdojo::demo::run::Run::from_report(report, asyncdojo::demo::asyncio::Runtime::Tokio);
    assert!(runs[0].timeline.series.contains_key("ready"));
    if let Some(v) = app.lesson.as_mut() {
        v.run = RunView::finished(runs, None);
        v.run.cursor_ms = Some(250.0);
    }
    let area = Rect::new(0, 0, 160, 48);
    let mut buf = Buffer::empty(area);
    bencher.bench_local(|| {
        asyncdojo::ui::draw(&app, area, &mut buf);
    });
}

/// A recorded run of `variant` of the gather demo with `n` requests, on the virtual clock.
fn gather_run(variant: &str, n: usize) -> asyncdojo::demo::run::Run {
    let list = (1..=n)
        .map(|i| (i % 500 + 1).to_string())
        .collect::<Vec<_>>()
        .join(",");
    let req = RunRequest::build(
        "gather",
        &[variant.into()],
        &[format!("latencies_ms={list}")],
        Clock::Virtual,
    )
    .expect("request");
    asyncdojo::demo::run::Run::from_report(
        runner::run_blocking(req).expect("run"),
        asyncdojo::demo::asyncio::Runtime::Tokio,
    )
    .into_iter()
    .next()
    .expect("one variant")
}

/// The one-axis comparison of two 5,000-task runs in the demo layout at 160×48, the cursor on
/// an event mid-run (budget 2 ms).
#[divan::bench(sample_count = 50)]
fn frame_160x48_compare_two_5k_task_runs(bencher: divan::Bencher) {
    let mut app = App::new(asyncdojo::lesson::load_embedded(&Registry), false);
    let _ = app.update(Action::Open);
    let runs = vec![gather_run("join-all", 5_000), gather_run("join-set", 5_000)];
    if let Some(v) = app.lesson.as_mut() {
        v.run = RunView::finished(runs, None);
        let mid = v.run.index().map_or(0, |x| x.len() / 2);
        v.run.go_to_event(mid);
        v.layout = LessonLayout::Demo;
        v.code = CodeView::DemoSource;
        v.focus = Pane::Timeline;
    }
    let area = Rect::new(0, 0, 160, 48);
    let mut buf = Buffer::empty(area);
    bencher.bench_local(|| {
        asyncdojo::ui::draw(&app, area, &mut buf);
    });
}

/// The trace screen (`asyncdojo trace`) on a 10,000-task script's run at 160×48, the cursor on an
/// event mid-run: its own layout and status line around the demo's widgets (budget 2 ms). The
/// run stands in for a traced script's (gather's join-set with 10,000 requests, as a script).
#[divan::bench(sample_count = 50)]
fn frame_160x48_script_10k(bencher: divan::Bencher) {
    use asyncdojo::app::script_screen::ScriptScreen;
    use asyncdojo::demo::run::{Origin, Run};
    use asyncdojo::demo::source::Source;
    let run = gather_run("join-set", 10_000);
    let script = "import asyncio\n\n\nasync def work(i):\n    await asyncio.sleep(i / 1000)\n\n\n\
                  async def main():\n    async with asyncio.TaskGroup() as tg:\n        for i in \
                  range(10_000):\n            tg.create_task(work(i))\n\n\nasyncio.run(main())\n";
    let run = Run {
        label: "run 1".into(),
        origin: Origin::Script {
            path: "ten_thousand.py".into(),
            args: Vec::new(),
        },
        runtime: asyncdojo::demo::asyncio::Runtime::Asyncio,
        sources: vec![Source::new(
            "ten_thousand.py",
            asyncdojo::lesson::Language::Python,
            script,
        )],
        ..run
    };
    let mut screen = ScriptScreen::new("ten_thousand.py".into(), false);
    screen.finished(vec![run], None, Default::default());
    let mid = screen.run.index().map_or(0, |x| x.len() / 2);
    screen.run.go_to_event(mid);
    let area = Rect::new(0, 0, 160, 48);
    let mut buf = Buffer::empty(area);
    bencher.bench_local(|| {
        asyncdojo::ui::script_pane::draw(&screen, area, &mut buf);
    });
}

/// A run of 16,667 tasks, each spawned at line 3, polled twice, woken by its timer 30 ms before
/// its second poll (so it sits in the ready queue while others are polled: the narration looks
/// for who held the thread), marking at line 5 and finishing: 100,002 events.
fn run_of_100k_events() -> RunView {
    let mut snap = TimelineSnapshot::default();
    for id in 1..=16_667u32 {
        let t0 = f64::from(id % 1000);
        snap.tasks.push(TaskRecord {
            file: None,
            id,
            name: format!("task {id}"),
            parent: None,
            spawned_ms: t0,
            finished_ms: Some(t0 + 50.0),
            outcome: Outcome::Ok,
            detail: String::new(),
            polls: vec![(t0, t0), (t0 + 50.0, t0 + 50.0)],
            seqs: Vec::new(),
            line: Some(3),
        });
        snap.marks.push(Mark {
            file: None,
            t_ms: t0 + 50.0,
            task: Some(id),
            label: "done".into(),
            line: Some(5),
            seq: 0,
        });
        snap.wakes.push(Wake {
            seq: 0,
            t_ms: t0 + 20.0,
            task: id,
            cause: WakeCause::Timer,
            by: None,
            line: None,
        });
    }
    snap.wakes.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    snap.now_ms = 1050.0;
    RunView::finished(
        vec![asyncdojo::demo::run::Run::stand_in("v", snap, 1050.0)],
        None,
    )
}

/// One → step of the time cursor on a 100,000-event run, with everything the link and the
/// narration then read: the event, the lines lanes are at, the sentence (budget 0.1 ms).
#[divan::bench(sample_count = 200)]
fn step_the_cursor_on_a_100k_event_run(bencher: divan::Bencher) {
    let mut run = run_of_100k_events();
    assert_eq!(run.index().map(|x| x.len()), Some(100_002));
    let mid = 50_000;
    run.go_to_event(mid);
    bencher.bench_local(|| {
        run.update(Action::Right);
        if run.event.is_some_and(|e| e > mid + 10_000) {
            run.go_to_event(mid);
        }
        let index = run.index().expect("index");
        let i = run.event.expect("event");
        let lanes = index.lanes_at(i);
        let e = index.event(i).expect("event");
        let said = narrate(run.snapshot().expect("run"), index, e);
        (lanes.len(), said.len())
    });
}

/// Our child process running `comm` (bash `exec`s the app, so it is our direct child).
fn child_named(comm: &str) -> Option<i32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let name = &stat[stat.find('(')? + 1..stat.rfind(')')?];
            let ppid = stat[stat.rfind(')')? + 2..].split_whitespace().nth(1)?;
            (name == comm && ppid == me).then_some(pid)
        })
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

fn idle_and_memory() {
    let data_dir = tempfile::tempdir().expect("a temporary progress directory");
    let mut p = spawn_app(48, 160, data_dir.path());
    p.exp_string("Lessons").expect("first frame");
    // A first start asks how to watch the demos: answered, or the keys below would answer it.
    p.exp_string("How do you want to watch the demos?")
        .expect("the first start asks");
    key(&mut p, "2");
    let pid = child_named("asyncdojo").expect("the app's process");
    // Let start-up work (highlighting warm-up) finish, then measure a quiet 10 s.
    std::thread::sleep(Duration::from_secs(2));
    let ticks_per_s = 100.0; // Linux USER_HZ
    let t0 = cpu_ticks(pid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    let used = (cpu_ticks(pid) - t0) as f64 / ticks_per_s;
    let idle_pct = used / started.elapsed().as_secs_f64() * 100.0;
    // Open every lesson once, then read resident memory.
    let lessons = asyncdojo::lesson::load_embedded(&Registry).lessons.len();
    for _ in 0..lessons {
        key(&mut p, "\r");
        std::thread::sleep(Duration::from_millis(60));
        key(&mut p, "\x1b");
        std::thread::sleep(Duration::from_millis(60));
        key(&mut p, "j");
    }
    std::thread::sleep(Duration::from_millis(300));
    let rss = rss_kib(pid);
    key(&mut p, "q");
    let _ = p.exp_eof();
    println!("idle CPU over 10 s: {idle_pct:.2} % of one core (budget < 1 %)");
    println!(
        "resident memory after opening all {lessons} lessons: {:.1} MB (budget < 60 MB)",
        rss as f64 / 1024.0
    );
}

//! tokio-console sees the demos' tasks by name, over the real gRPC protocol.
#![cfg(all(feature = "console", tokio_unstable))]

use std::collections::BTreeSet;
use std::time::Duration;

use asyncdojo::demo::{Clock, DemoRun, RunRequest};
use console_api::field::{Name, Value};
use console_api::instrument::InstrumentRequest;
use console_api::instrument::instrument_client::InstrumentClient;

#[test]
fn named_demo_tasks_appear_in_the_console_task_stream() {
    let status = asyncdojo::console::serve("127.0.0.1:0".parse().expect("addr"), Box::new(|_| {}))
        .expect("serve on an ephemeral loopback port");
    assert!(status.addr.ip().is_loopback());
    let req = RunRequest::build(
        "semaphore",
        &[],
        &["tasks=4".into(), "permits=2".into(), "work_ms=1500".into()],
        Clock::Real,
    )
    .expect("request");
    let run = DemoRun::start(req).expect("start");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let names = rt.block_on(async {
        let mut client = InstrumentClient::connect(format!("http://{}", status.addr))
            .await
            .expect("connect");
        let mut updates = client
            .watch_updates(InstrumentRequest {})
            .await
            .expect("watch")
            .into_inner();
        let mut names = BTreeSet::new();
        let wanted = ["semaphore/task 1", "semaphore/task 4"];
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Ok(Some(update)) = updates.message().await {
                let tasks = update.task_update.map(|t| t.new_tasks).unwrap_or_default();
                for field in tasks.into_iter().flat_map(|t| t.fields) {
                    if let (Some(Name::StrName(n)), Some(Value::DebugVal(v) | Value::StrVal(v))) =
                        (&field.name, &field.value)
                        && n == "task.name"
                    {
                        names.insert(v.trim_matches('"').to_owned());
                    }
                }
                if wanted.iter().all(|w| names.contains(*w)) {
                    break;
                }
            }
        })
        .await;
        names
    });
    run.cancel();
    let _ = run.wait();
    for want in [
        "semaphore/task 1",
        "semaphore/task 2",
        "semaphore/task 3",
        "semaphore/task 4",
    ] {
        assert!(names.contains(want), "{want} not in {names:?}");
    }
}

#[test]
fn a_taken_port_is_reported_and_the_run_still_completes() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_asyncdojo"))
        .args([
            "run",
            "gather",
            "--console",
            "--console-addr",
            &addr.to_string(),
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve tokio-console on {addr}")),
        "{stderr}"
    );
    assert!(stderr.contains("running without tokio-console"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("total join-all"));
}

//! Running a demo in a test, on tokio or on its asyncio twin, failing the test on a run's error.
//! Shared by the test binaries that include it (`#[path = "support/runs.rs"] mod runs;`).

use asyncdojo::demo::asyncio::{self, Python};
use asyncdojo::demo::runner::{self, RunReport, RunRequest};

/// Every variant on tokio; any variant's error fails the test, naming the demo.
pub fn on_tokio(req: RunRequest) -> RunReport {
    let demo = req.demo.spec().id;
    let report = runner::run_blocking(req).unwrap();
    for run in &report.runs {
        assert_eq!(run.error, None, "tokio: {demo} {}", run.variant);
    }
    report
}

/// Every variant on the twin; any variant's error fails the test with what Python said.
pub fn on_asyncio(py: &Python, req: &RunRequest) -> RunReport {
    let demo = req.demo.spec().id;
    let twin = asyncio::run_twin(req, py).unwrap();
    assert_eq!(twin.report.clock, req.clock);
    for run in &twin.report.runs {
        let variant = &run.variant;
        assert_eq!(
            run.error, None,
            "asyncio {demo} {variant}; Python said:\n{}",
            twin.stderr
        );
    }
    twin.report
}

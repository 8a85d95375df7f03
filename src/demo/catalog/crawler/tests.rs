use std::collections::BTreeSet;
use std::time::Duration;

use super::{Crawler, Variant};
use crate::demo::services::site::{Site, SiteConfig};
use crate::demo::testing::{cancel_midway, clean, metric, ports_closed, run_real};
use crate::demo::timeline::TimelineSnapshot;
use crate::demo::{DemoVariant, Outcome};

fn site(pages: usize, seed: u64) -> Site {
    Site::generate(SiteConfig {
        pages,
        links: 3,
        broken_pct: 10,
        offsite_pct: 10,
        seed,
        latency: Duration::ZERO,
    })
}

/// The paths fetched, in the order their lanes started.
fn fetched(tl: &TimelineSnapshot) -> Vec<String> {
    tl.tasks
        .iter()
        .filter_map(|t| t.name.strip_prefix("GET ").map(str::to_owned))
        .collect()
}

fn is_broken(path: &str, pages: usize) -> bool {
    path.strip_prefix("/page/")
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n >= pages)
}

fn is_sequential(variant: &str) -> bool {
    Variant::parse(variant) == Some(Variant::Sequential)
}

#[test]
fn both_crawls_visit_exactly_the_reachable_same_site_pages_once() {
    let sets = [
        "pages=40",
        "seed=2",
        "latency_ms=10",
        "workers=4",
        "max_pages=2000",
    ];
    let reachable = site(40, 2).reachable();
    let expected: BTreeSet<&str> = reachable.iter().map(String::as_str).collect();
    let broken = reachable.iter().filter(|p| is_broken(p, 40)).count();
    assert!(broken > 0, "seed 2 has reachable broken links");
    let report = run_real::<Crawler>(&[], &sets);
    for r in &report.runs {
        clean(r);
        let v = r.variant;
        let tl = &r.timeline;
        let paths = fetched(tl);
        let unique: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
        assert_eq!(unique.len(), paths.len(), "{v}: a page was fetched twice");
        assert_eq!(unique, expected, "{v}");
        assert_eq!(metric(tl, "pages_fetched"), reachable.len() as f64, "{v}");
        assert_eq!(metric(tl, "duplicate_fetches"), 0.0, "{v}");
        assert_eq!(metric(tl, "broken_links"), broken as f64, "{v}");
        let broken_lanes = tl
            .tasks
            .iter()
            .filter(|t| t.name.starts_with("GET ") && t.outcome == Outcome::Error)
            .count();
        assert_eq!(broken_lanes, broken, "{v}");
        assert!(metric(tl, "offsite_links_skipped") > 0.0, "{v}");
        assert!(metric(tl, "pages_per_s") > 0.0, "{v}");
        let max_in_flight = metric(tl, "max_in_flight");
        if is_sequential(v) {
            // The guide's loop: breadth-first, one page at a time.
            assert_eq!(paths, reachable, "{v}");
            assert_eq!(max_in_flight, 1.0);
        } else {
            assert!(
                max_in_flight > 1.0 && max_in_flight <= 4.0,
                "{max_in_flight}"
            );
        }
        ports_closed(tl, "server_addr");
    }
}

#[test]
fn the_page_budget_is_spent_at_enqueue_time() {
    let sets = [
        "pages=40",
        "seed=2",
        "latency_ms=5",
        "workers=4",
        "max_pages=12",
    ];
    let reachable = site(40, 2).reachable();
    assert!(reachable.len() > 12);
    let report = run_real::<Crawler>(&[], &sets);
    for r in &report.runs {
        clean(r);
        let paths = fetched(&r.timeline);
        let unique: BTreeSet<&String> = paths.iter().collect();
        assert_eq!(paths.len(), 12, "{}", r.variant);
        assert_eq!(unique.len(), 12, "{}", r.variant);
        assert!(paths.iter().all(|p| reachable.contains(p)), "{}", r.variant);
        if is_sequential(r.variant) {
            assert_eq!(paths, reachable[..12]);
        }
    }
}

#[test]
fn cancelling_mid_crawl_closes_the_site() {
    let sets = ["pages=200", "latency_ms=500", "workers=3"];
    cancel_midway::<Crawler>(Variant::Workers, &sets, 700, "server_addr");
}

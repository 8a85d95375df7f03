//! A generated website for the crawler: `pages` pages (`/` is page 0, then `/page/1`, ...), each
//! linking to `links` others chosen by a seeded draw. Some links are broken (a page number past
//! the last page: 404), some go off-site (`http://elsewhere.invalid/...`, a name that can never
//! resolve, so even a crawler without a same-site filter sends nothing off this machine), some
//! are written as absolute same-site URLs and some carry a `#fragment`.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};

use super::Rng;
use super::server::{Handler, Request, text};

/// The host of every off-site link.
pub const OFFSITE_HOST: &str = "elsewhere.invalid";

#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub pages: usize,
    pub links: usize,
    pub broken_pct: u64,
    pub offsite_pct: u64,
    pub seed: u64,
    /// How long the server takes to answer each page.
    pub latency: Duration,
}

/// One link on a page, as written in its HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// `/page/N` (or `/` for page 0), possibly with a `#fragment`.
    Page { page: usize, fragment: bool },
    /// `http://HOST/page/N`: the same site, written absolute.
    Absolute(usize),
    /// `/page/N` with N past the last page: 404.
    Broken(usize),
    /// `http://elsewhere.invalid/page/N`.
    Offsite(usize),
}

/// The path of page `n`.
pub fn path_of(n: usize) -> String {
    if n == 0 {
        "/".to_owned()
    } else {
        format!("/page/{n}")
    }
}

#[derive(Debug)]
pub struct Site {
    cfg: SiteConfig,
    links: Vec<Vec<Link>>,
    /// Requests per path, counted by the server.
    hits: Mutex<HashMap<String, u32>>,
}

impl Site {
    pub fn generate(cfg: SiteConfig) -> Site {
        let pages = cfg.pages.max(1);
        let mut rng = Rng::new(cfg.seed);
        // Broken targets come from a small pool, so several pages can share a broken link.
        let broken_pool = (pages / 4).max(3) as u64;
        let links = (0..pages)
            .map(|_| {
                (0..cfg.links)
                    .map(|_| {
                        let roll = rng.below(100);
                        if roll < cfg.broken_pct {
                            Link::Broken(pages + rng.below(broken_pool) as usize)
                        } else if roll < cfg.broken_pct + cfg.offsite_pct {
                            Link::Offsite(rng.below(pages as u64) as usize)
                        } else {
                            let page = rng.below(pages as u64) as usize;
                            match rng.below(8) {
                                0 => Link::Absolute(page),
                                1 => Link::Page {
                                    page,
                                    fragment: true,
                                },
                                _ => Link::Page {
                                    page,
                                    fragment: false,
                                },
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        Site {
            cfg,
            links,
            hits: Mutex::default(),
        }
    }

    pub fn config(&self) -> &SiteConfig {
        &self.cfg
    }

    pub fn links(&self, page: usize) -> &[Link] {
        self.links.get(page).map_or(&[], Vec::as_slice)
    }

    /// Every same-site path a crawler starting at `/` can reach, broken targets included (a
    /// crawler finds a link broken only by requesting it), in breadth-first order.
    pub fn reachable(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut order = Vec::new();
        let mut queue = VecDeque::from([0usize]);
        seen.insert(0usize);
        while let Some(p) = queue.pop_front() {
            order.push(path_of(p));
            for link in self.links(p) {
                let target = match *link {
                    Link::Page { page, .. } | Link::Absolute(page) | Link::Broken(page) => page,
                    Link::Offsite(_) => continue,
                };
                if seen.insert(target) {
                    queue.push_back(target);
                }
            }
        }
        order
    }

    /// How many times each path was requested.
    pub fn hits(&self) -> HashMap<String, u32> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// The HTML of page `n`; `host` is used for the absolute links.
    pub fn html(&self, n: usize, host: &str) -> String {
        let mut out =
            format!("<html><head><title>Page {n}</title></head><body>\n<h1>Page {n}</h1>\n");
        for link in self.links(n) {
            let href = match *link {
                Link::Page {
                    page,
                    fragment: false,
                } => path_of(page),
                Link::Page {
                    page,
                    fragment: true,
                } => format!("{}#section", path_of(page)),
                Link::Absolute(page) => format!("http://{host}{}", path_of(page)),
                Link::Broken(page) => path_of(page),
                Link::Offsite(page) => format!("http://{OFFSITE_HOST}{}", path_of(page)),
            };
            out.push_str(&format!("<p><a href=\"{href}\">{href}</a></p>\n"));
        }
        out.push_str("</body></html>\n");
        out
    }

    fn page_number(&self, path: &str) -> Option<usize> {
        let n = if path == "/" {
            0
        } else {
            path.strip_prefix("/page/")?.parse().ok()?
        };
        (n < self.links.len()).then_some(n)
    }

    /// The server's handler: pages after `latency`, 404 for anything else.
    pub fn handler(self: &Arc<Self>) -> impl Handler + use<> {
        let site = Arc::clone(self);
        move |req: Request| {
            let site = Arc::clone(&site);
            let path = req.uri().path().to_owned();
            let host = req
                .headers()
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1")
                .to_owned();
            async move {
                if let Ok(mut hits) = site.hits.lock() {
                    *hits.entry(path.clone()).or_default() += 1;
                }
                if !site.cfg.latency.is_zero() {
                    tokio::time::sleep(site.cfg.latency).await;
                }
                match site.page_number(&path) {
                    Some(n) => {
                        let mut resp = text(StatusCode::OK, site.html(n, &host));
                        resp.headers_mut()
                            .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
                        resp
                    }
                    None => text(StatusCode::NOT_FOUND, format!("no page at {path}")),
                }
            }
            .boxed()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(pages: usize) -> Site {
        Site::generate(SiteConfig {
            pages,
            links: 3,
            broken_pct: 10,
            offsite_pct: 10,
            seed: 1,
            latency: Duration::ZERO,
        })
    }

    #[test]
    fn the_site_is_seeded_and_has_every_kind_of_link() {
        let a = site(40);
        let b = site(40);
        assert_eq!(a.links, b.links);
        let all: Vec<&Link> = (0..40).flat_map(|p| a.links(p)).collect();
        assert!(all.iter().any(|l| matches!(l, Link::Broken(_))));
        assert!(all.iter().any(|l| matches!(l, Link::Offsite(_))));
        assert!(all.iter().any(|l| matches!(l, Link::Absolute(_))));
        let reach = a.reachable();
        assert_eq!(reach[0], "/");
        let unique: BTreeSet<&String> = reach.iter().collect();
        assert_eq!(unique.len(), reach.len());
        assert!(a.html(0, "h:1").contains("<a href="));
    }
}

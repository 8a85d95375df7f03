use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use super::Tally;
use crate::demo::ctx::Gauge;
use crate::demo::services;
use crate::demo::{Ctx, Ended, SetupError};

/// A line of the manifest.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub progress: String, // the name of its progress series
}

pub struct Downloads {
    pub ctx: Ctx,
    pub client: Option<reqwest::Client>, // None: a new client per file
    pub dir: Arc<TempDir>,               // removed when the last holder drops it
    pub in_flight: Gauge,
    pub tally: Tally,
}

/// Why a file was not kept.
#[derive(Debug, thiserror::Error)]
pub enum Failed {
    #[error(transparent)]
    NoClient(SetupError),
    #[error("{0}")]
    Request(String),
    #[error("the server answered {0}")]
    Status(reqwest::StatusCode),
    #[error("cannot create {}: {why}", path.display())]
    Create { path: PathBuf, why: std::io::Error },
    #[error("cut off after {got} of {size} bytes ({why})")]
    CutOff { got: u64, size: u64, why: String },
    #[error("cannot write {}: {why}", path.display())]
    Write { path: PathBuf, why: std::io::Error },
    #[error("cannot rename to {}: {why}", to.display())]
    Rename { to: PathBuf, why: std::io::Error },
    #[error("{got} bytes instead of {size}")]
    Short { got: u64, size: u64 },
    #[error("sha256 {got} is not the manifest's {want}")]
    Checksum { got: String, want: String },
}

impl Downloads {
    /// The shared client, or (variant client-per-file) a new one with a pool of its own.
    fn client(&self) -> Result<reqwest::Client, Failed> {
        match &self.client {
            Some(c) => Ok(c.clone()),
            None => services::client().map_err(Failed::NoClient),
        }
    }

    /// Create `dir/NAME.part`. The blocking create holds the directory, so a run cancelled
    /// meanwhile removes the directory (and the new file) only once the create is over.
    async fn create_part(&self, name: &str) -> Result<PartFile, Failed> {
        let path = self.dir.path().join(format!("{name}.part"));
        let dir = Arc::clone(&self.dir);
        let create = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let _dir = dir;
                std::fs::File::create(path)
            })
        };
        let why = match create.await {
            Ok(Ok(file)) => {
                let file = tokio::fs::File::from_std(file);
                return Ok(PartFile {
                    file,
                    path,
                    kept: false,
                });
            }
            Ok(Err(e)) => e,
            Err(e) => std::io::Error::other(e),
        };
        Err(Failed::Create { path, why })
    }

    fn count(&self, name: &str, result: &Result<u64, Failed>) {
        let t = &self.tally;
        match result {
            Ok(bytes) => {
                t.ok.fetch_add(1, Ordering::SeqCst);
                t.bytes.fetch_add(*bytes, Ordering::SeqCst);
            }
            Err(why) => {
                t.failed.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut f) = t.failures.lock() {
                    f.push(format!("{name}: {why}"));
                }
            }
        }
    }
}

/// A file being written. Dropped before it was kept (an error, a cancelled task), it deletes
/// itself: no partial file can be left behind, whatever way the download ends.
struct PartFile {
    file: tokio::fs::File,
    path: PathBuf,
    kept: bool,
}

impl PartFile {
    /// Flush to disk and rename `NAME.part` to `NAME`.
    async fn keep(mut self, to: &Path) -> Result<(), Failed> {
        if let Err(why) = self.file.sync_all().await {
            let path = self.path.clone();
            return Err(Failed::Write { path, why });
        }
        if let Err(why) = tokio::fs::rename(&self.path, to).await {
            let to = to.to_owned();
            return Err(Failed::Rename { to, why });
        }
        self.kept = true;
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Stream one file to `NAME.part`, hashing every chunk as it is written. Returns its size if
/// every byte arrived and the sha256 matches the manifest.
async fn fetch_to_disk(d: &Downloads, file: &Entry, url: &str) -> Result<u64, Failed> {
    let client = d.client()?;
    let sent = client.get(url).send().await;
    let mut resp = sent.map_err(|e| Failed::Request(services::request_error(e)))?;
    if !resp.status().is_success() {
        return Err(Failed::Status(resp.status()));
    }
    let mut part = d.create_part(&file.name).await?;
    let mut sha = Sha256::new();
    let mut got = 0;
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                let why = services::root_cause(&e);
                let size = file.size;
                return Err(Failed::CutOff { got, size, why });
            }
        };
        if let Err(why) = part.file.write_all(&chunk).await {
            let path = part.path.clone();
            return Err(Failed::Write { path, why });
        }
        sha.update(&chunk);
        got += chunk.len() as u64;
        d.ctx
            .series(&file.progress, (got * 100 / file.size.max(1)) as usize);
    }
    if got != file.size {
        return Err(Failed::Short {
            got,
            size: file.size,
        });
    }
    let sum = services::hex(&sha.finalize());
    if sum != file.sha256 {
        return Err(Failed::Checksum {
            got: sum[..12].to_owned(),
            want: file.sha256[..12].to_owned(),
        });
    }
    part.keep(&d.dir.path().join(&file.name)).await?;
    Ok(got)
}

async fn download(d: Arc<Downloads>, file: Entry, url: String, permits: Arc<Semaphore>) -> Ended {
    let Ok(_permit) = permits.acquire_owned().await else {
        return Ended::error("semaphore closed");
    };
    d.in_flight.enter();
    let result = fetch_to_disk(&d, &file, &url).await;
    d.in_flight.leave();
    d.count(&file.name, &result);
    match result {
        Ok(bytes) => {
            d.ctx.mark(format!("{} verified", file.name));
            Ended::ok(format!("{bytes} B, sha256 ok"))
        }
        Err(why) => {
            // The part file was already deleted when `part` was dropped.
            d.ctx.mark(format!("{} failed, nothing kept", file.name));
            Ended::error(why.to_string())
        }
    }
}

/// Every file is a task from the start; `concurrency` permits let that many download at once.
/// A failed file ends its own task only: the others carry on.
pub async fn download_files(d: &Arc<Downloads>, files: Vec<Entry>, urls: Vec<String>, k: usize) {
    let permits = Arc::new(Semaphore::new(k));
    let mut tasks = tokio::task::JoinSet::new();
    for (file, url) in files.into_iter().zip(urls) {
        let name = file.name.clone();
        let task = download(Arc::clone(d), file, url, Arc::clone(&permits));
        d.ctx.spawn_in(&mut tasks, name, task);
    }
    while tasks.join_next().await.is_some() {}
}

//! Progress is written on its own thread: a save (an atomic write with fsync) never holds up a
//! frame. The latest progress wins — saves that are already out of date when the thread gets to
//! them are skipped — and `finish` waits until everything handed over is on disk.

use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;

use crate::progress::{Progress, Store};

pub struct Saver {
    tx: Option<Sender<Progress>>,
    thread: Option<JoinHandle<()>>,
}

impl Saver {
    /// `on_error` gets what to tell the user when a save fails.
    pub fn start(
        store: Store,
        on_error: impl Fn(String) + Send + 'static,
    ) -> std::io::Result<Saver> {
        let (tx, rx) = mpsc::channel::<Progress>();
        let thread = std::thread::Builder::new()
            .name("save-progress".into())
            .spawn(move || {
                while let Ok(mut latest) = rx.recv() {
                    while let Ok(newer) = rx.try_recv() {
                        latest = newer;
                    }
                    if let Err(err) = store.save(&latest) {
                        on_error(err.to_string());
                    }
                }
            })?;
        Ok(Saver {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn save(&self, progress: Progress) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(progress);
        }
    }

    /// Wait until every save handed over has been written.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        // The thread drains what was sent before the channel closed, then ends.
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Saver {
    fn drop(&mut self) {
        self.close();
    }
}

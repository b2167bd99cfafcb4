//! What the data endpoints read: one engine over the lake, `metrics.json` for the
//! window and the service owners, built together and swapped in whole.
//!
//! The first build starts in the background when the server starts, so the port
//! answers (and `/readyz` says 503) while it runs. After that, a request at most
//! every [`CHECK_EVERY`] starts a background check of the lake's fingerprint (Parquet
//! file count, total size, newest modification time); when the lake or the
//! window changed, a new snapshot is built off the request path and replaces the
//! old one. Requests meanwhile read the previous snapshot. Only one check or build
//! runs at a time. Serving writes no table (no OKR check-ins, no scorecard results),
//! only the derived tables its engines keep in `_derived`, which the fingerprint
//! does not count, so a build cannot trigger the next one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use serde_json::Value as Json;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::lake::Lake;
use crate::pipeline::{self, Computed};
use crate::report::access::{ServiceOwners, service_owners};
use crate::report::metrics::Section;
use crate::window::Window;

/// How often a request may trigger a look at the lake.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// The engine, `metrics.json` and owners of one state of the lake.
pub struct Snapshot {
    /// The engine over the lake (custom metrics loaded).
    pub engine: Engine,
    /// `metrics.json` for [`Snapshot::window`], unscoped.
    pub metrics: Json,
    /// Which team owns each service.
    pub owners: ServiceOwners,
    /// The window of `metrics`.
    pub window: Window,
    fingerprint: Fingerprint,
}

/// A cheap summary of the lake's files: a write adds or replaces a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Fingerprint {
    files: u64,
    bytes: u64,
    newest: Option<SystemTime>,
}

/// The current snapshot and the machinery that replaces it.
pub struct Snapshots {
    lake: Lake,
    config: Arc<Config>,
    window: Option<Window>,
    current: RwLock<Option<Arc<Snapshot>>>,
    busy: AtomicBool,
    last_check: Mutex<Option<Instant>>,
    last_error: Mutex<Option<String>>,
}

impl Snapshots {
    /// Nothing built yet. `window`: fixed, or `None` for the `compute` default,
    /// recomputed at each check (so a long-running server moves with the calendar).
    pub fn new(lake: Lake, config: Arc<Config>, window: Option<Window>) -> Snapshots {
        Snapshots {
            lake,
            config,
            window,
            current: RwLock::new(None),
            busy: AtomicBool::new(false),
            last_check: Mutex::new(None),
            last_error: Mutex::new(None),
        }
    }

    /// The current snapshot (None until the first build finished); may start a
    /// background check for a newer one.
    pub fn current(self: &Arc<Self>) -> Option<Arc<Snapshot>> {
        self.refresh_if_due();
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Why the last build failed, if it did.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts a check now unless one ran within [`CHECK_EVERY`] or one is running.
    pub fn refresh_if_due(self: &Arc<Self>) {
        {
            let mut last = self
                .last_check
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < CHECK_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        if self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let _busy = Busy(&this.busy);
            this.refresh().await;
        });
    }

    /// Builds a snapshot when there is none, or the lake or the window changed.
    async fn refresh(&self) {
        let fingerprint = match fingerprint(self.lake.local_root()).await {
            Ok(f) => f,
            Err(e) => return self.failed(&e),
        };
        let window = match self.window {
            Some(w) => w,
            None => match Window::from_flags(None, None) {
                Ok(w) => w,
                Err(e) => return self.failed(&e),
            },
        };
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if current.is_some_and(|s| s.fingerprint == fingerprint && s.window == window) {
            return;
        }
        let started = Instant::now();
        match build(&self.lake, &self.config, window, fingerprint).await {
            Ok(snapshot) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(Arc::new(snapshot));
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                tracing::info!(
                    files = fingerprint.files,
                    ms = started.elapsed().as_millis() as u64,
                    "Built the metrics snapshot."
                );
            }
            Err(e) => self.failed(&e),
        }
    }

    fn failed(&self, e: &Error) {
        tracing::warn!(error = %e, "Cannot build the metrics snapshot; serving the previous one.");
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
    }
}

/// Clears the busy flag however the task ends.
struct Busy<'a>(&'a AtomicBool);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

async fn build(
    lake: &Lake,
    config: &Config,
    window: Window,
    fingerprint: Fingerprint,
) -> Result<Snapshot> {
    let Computed {
        engine,
        doc: metrics,
        ..
    } = pipeline::compute(lake, config, window, &Section::ALL, Utc::now()).await?;
    let owners = service_owners(&engine).await?;
    Ok(Snapshot {
        engine,
        metrics,
        owners,
        window,
        fingerprint,
    })
}

/// Walks the lake folder (off the async threads).
async fn fingerprint(root: &Path) -> Result<Fingerprint> {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || walk(&root))
        .await
        .map_err(|e| Error::encode("lake fingerprint", e))?
}

fn walk(root: &Path) -> Result<Fingerprint> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut out = Fingerprint::default();
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let path = entry.path();
            let meta = entry.metadata().map_err(io(&path))?;
            if meta.is_dir() {
                // `_derived`, `_staging`, `_state`: not tables. A snapshot's own
                // derived tables must not look like a change to the lake.
                if dir != root || !entry.file_name().to_string_lossy().starts_with('_') {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.files += 1;
                out.bytes += meta.len();
                out.newest = out.newest.max(meta.modified().ok());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_counts_parquet_files_only_and_sees_a_new_one() {
        let dir = tempfile::tempdir().expect("dir");
        let table = dir.path().join("deployments");
        std::fs::create_dir_all(&table).expect("mkdir");
        std::fs::write(table.join("a.parquet"), b"1234").expect("write");
        std::fs::write(table.join("notes.txt"), b"ignored").expect("write");
        let first = walk(dir.path()).expect("walk");
        assert_eq!((first.files, first.bytes), (1, 4));
        std::fs::write(table.join("b.parquet"), b"12").expect("write");
        let second = walk(dir.path()).expect("walk");
        assert_eq!((second.files, second.bytes), (2, 6));
        assert_ne!(first, second);
        let derived = dir.path().join("_derived").join("cost_lines");
        std::fs::create_dir_all(&derived).expect("mkdir");
        std::fs::write(derived.join("f.parquet"), b"123").expect("write");
        assert_eq!(
            walk(dir.path()).expect("walk"),
            second,
            "derived tables are not the lake"
        );
    }
}

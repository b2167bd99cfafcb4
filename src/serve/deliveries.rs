//! The delivery ids a webhook source has already processed, so a redelivery (same
//! `X-GitHub-Delivery`, same GitLab idempotency key) is answered without being
//! processed again.
//!
//! Kept in `<lake>/_state/<source>/webhook-deliveries.json`, beside the collector's
//! state, bounded to the newest [`KEPT`] ids. An id is recorded only after its rows
//! are written: a crash in between means a redelivery is processed again, which the
//! lake's idempotent writes make harmless.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::collect::state::SourceState;
use crate::error::{Error, Result};
use crate::lake::Lake;

/// Redeliveries come within hours or days; 10 000 ids covers that at any
/// plausible delivery rate and keeps the file a few hundred kilobytes.
const KEPT: usize = 10_000;

/// The persisted recent delivery ids of one source, oldest first.
#[derive(Debug)]
pub(crate) struct Deliveries {
    path: PathBuf,
    order: VecDeque<String>,
    seen: HashSet<String>,
}

#[derive(Serialize, Deserialize)]
struct File {
    ids: Vec<String>,
}

impl Deliveries {
    /// Loads the ids (none on a first run). A corrupt file is an error: silently
    /// starting empty would reprocess whatever is redelivered.
    pub(crate) fn load(lake: &Lake, source: &str) -> Result<Deliveries> {
        let path = SourceState::dir(lake, source).join("webhook-deliveries.json");
        let ids =
            match std::fs::read(&path) {
                Ok(bytes) => serde_json::from_slice::<File>(&bytes)
                    .map_err(|e| Error::BadFile {
                        file: path.display().to_string(),
                        reason: format!(
                            "unreadable webhook delivery ids ({e}); delete the file to start afresh"
                        ),
                    })?
                    .ids,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(source) => return Err(Error::Io { path, source }),
            };
        let mut deliveries = Deliveries {
            path,
            order: VecDeque::with_capacity(ids.len()),
            seen: HashSet::with_capacity(ids.len()),
        };
        for id in ids {
            deliveries.push(id);
        }
        Ok(deliveries)
    }

    /// Whether `id` was processed before.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    fn push(&mut self, id: String) {
        if !self.seen.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > KEPT {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }

    /// Records `id` and saves the set atomically. Call only after the delivery's
    /// rows are in the lake.
    pub(crate) async fn record(&mut self, id: &str) -> Result<()> {
        self.push(id.to_string());
        let file = File {
            ids: self.order.iter().cloned().collect(),
        };
        let bytes =
            serde_json::to_vec(&file).map_err(|e| Error::encode("webhook deliveries", e))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || crate::atomic_file::write(&path, &bytes))
            .await
            .map_err(|e| Error::encode("webhook deliveries", e))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_persist_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_local(dir.path()).unwrap();
        let mut d = Deliveries::load(&lake, "gh").unwrap();
        assert!(!d.contains("a"));
        d.record("a").await.unwrap();
        assert!(Deliveries::load(&lake, "gh").unwrap().contains("a"));
        for i in 0..KEPT {
            d.push(format!("id-{i}"));
        }
        assert!(!d.contains("a"), "the oldest id is dropped past the bound");
        assert_eq!(d.order.len(), KEPT);
        assert_eq!(d.seen.len(), KEPT);
    }
}

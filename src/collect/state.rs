//! What a source remembers between runs: watermarks per stream, records to re-poll
//! until they settle, and the recent successful deployments that later ones are
//! compared against.
//!
//! Crash safety rests on one ordering: a run writes its rows to the lake first and
//! saves the state after. A run killed in between re-reads the same window next
//! time, and the lake skips rows it already holds unchanged.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::collect::delivery::Deployment;
use crate::error::{Error, Result};
use crate::lake::Lake;

/// How many recent successful deployments per repo and environment are kept as
/// compare bases: enough to cover any overlap window.
const SHIPPED_KEPT: usize = 200;

/// Unsettled records older than this many days stop being polled.
pub const PENDING_GIVE_UP_DAYS: i64 = 7;

/// A successful production deployment, as a base for the next compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipped {
    /// Canonical deployment id.
    pub id: String,
    /// The commit it deployed.
    pub sha: String,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

/// A compare a collector must run: what `deployment_id` shipped is the commits in
/// `head` and not in `base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareJob {
    /// The deployment.
    pub deployment_id: String,
    /// The previous successful deployment's commit.
    pub base: String,
    /// This deployment's commit.
    pub head: String,
}

/// The persisted state of one source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    /// Per stream (`<repo>/deployments`, `<repo>/pulls`, …): everything up to this
    /// time is in the lake.
    #[serde(default)]
    pub watermarks: BTreeMap<String, DateTime<Utc>>,
    /// Per stream: records seen before they reached a final state (id → created
    /// time), read again on every run until they settle or grow too old.
    #[serde(default)]
    pub pending: BTreeMap<String, BTreeMap<String, DateTime<Utc>>>,
    /// Per `<repo>|<environment>`: recent successful deployments, oldest first.
    #[serde(default)]
    pub shipped: BTreeMap<String, Vec<Shipped>>,
    /// Per stream: an opaque marker of what was last read (a billing source's
    /// file fingerprint).
    #[serde(default)]
    pub markers: BTreeMap<String, String>,
}

impl SourceState {
    /// The marker of `stream`, if any.
    pub fn text(&self, stream: &str) -> Option<&str> {
        self.markers.get(stream).map(String::as_str)
    }

    /// Sets the marker of `stream`.
    pub fn set_text(&mut self, stream: &str, marker: String) {
        self.markers.insert(stream.to_string(), marker);
    }

    /// The folder holding a source's state and HTTP cache.
    pub fn dir(lake: &Lake, source: &str) -> PathBuf {
        lake.local_root().join("_state").join(source)
    }

    fn file(lake: &Lake, source: &str) -> PathBuf {
        Self::dir(lake, source).join("state.json")
    }

    /// Loads the state (empty on a first run). A corrupt file is an error, not a
    /// silent full re-sync.
    pub fn load(lake: &Lake, source: &str) -> Result<SourceState> {
        let path = Self::file(lake, source);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::BadFile {
                file: path.display().to_string(),
                reason: format!(
                    "unreadable collector state ({e}); delete it to re-sync from scratch"
                ),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SourceState::default()),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    /// Saves the state atomically; call only after the rows it covers are written.
    pub fn save(&self, lake: &Lake, source: &str) -> Result<()> {
        if Self::load(lake, source).ok().as_ref() == Some(self) {
            return Ok(());
        }
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::encode("state", e))?;
        crate::atomic_file::write(&Self::file(lake, source), &bytes)
    }

    /// Where to start reading a stream: the watermark minus the overlap, else the
    /// configured first-run start, else the beginning.
    pub fn since(
        &self,
        stream: &str,
        overlap_minutes: u32,
        first_run: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        match self.watermarks.get(stream) {
            Some(w) => Some(*w - chrono::Duration::minutes(i64::from(overlap_minutes))),
            None => first_run,
        }
    }

    /// The oldest creation time among a stream's unsettled records.
    pub fn oldest_pending(&self, stream: &str) -> Option<DateTime<Utc>> {
        self.pending
            .get(stream)
            .and_then(|p| p.values().min().copied())
    }

    /// Whether `id` is an unsettled record of `stream`.
    pub fn is_pending(&self, stream: &str, id: &str) -> bool {
        self.pending.get(stream).is_some_and(|p| p.contains_key(id))
    }

    /// Replaces a stream's unsettled records. Records created more than
    /// [`PENDING_GIVE_UP_DAYS`] before the stream's newest record are dropped with a
    /// log line: a deployment stuck "in progress" while a week of newer ones went by
    /// was abandoned, and re-reading that far back on every run would cost more than
    /// it tells. Measuring from the stream, not the clock, keeps backfills of old
    /// history exact.
    pub fn set_pending(&mut self, stream: &str, pending: BTreeMap<String, DateTime<Utc>>) {
        self.set_pending_within(stream, pending, PENDING_GIVE_UP_DAYS);
    }

    /// [`SourceState::set_pending`] with the give-up horizon in days: incidents
    /// stay open far longer than deployments run, and an incident dropped while
    /// open would never get its resolution time.
    pub fn set_pending_within(
        &mut self,
        stream: &str,
        pending: BTreeMap<String, DateTime<Utc>>,
        days: i64,
    ) {
        let Some(newest) = self.watermarks.get(stream).copied() else {
            self.pending.remove(stream);
            return;
        };
        let horizon = newest - chrono::Duration::days(days);
        let kept: BTreeMap<String, DateTime<Utc>> = pending
            .into_iter()
            .filter(|(id, created)| {
                let keep = *created >= horizon;
                if !keep {
                    tracing::info!(
                        stream,
                        id,
                        "Still unfinished after {days} days; no longer polled."
                    );
                }
                keep
            })
            .collect();
        if kept.is_empty() {
            self.pending.remove(stream);
        } else {
            self.pending.insert(stream.to_string(), kept);
        }
    }

    /// Moves a stream's watermark forward (never back).
    pub fn advance(&mut self, stream: &str, to: Option<DateTime<Utc>>) {
        if let Some(to) = to {
            let w = self.watermarks.entry(stream.to_string()).or_insert(to);
            if *w < to {
                *w = to;
            }
        }
    }

    /// The deployment a new one at `finished_at` is compared against, and whether
    /// `id` was already compared on an earlier run.
    pub fn compare_base(
        &self,
        key: &str,
        id: &str,
        finished_at: DateTime<Utc>,
    ) -> (Option<&Shipped>, bool) {
        let list = self.shipped.get(key).map(Vec::as_slice).unwrap_or_default();
        let done = list.iter().any(|s| s.id == id);
        let base = list
            .iter()
            .rev()
            .find(|s| s.finished_at < finished_at && s.id != id);
        (base, done)
    }

    /// For the successful production deployments among `deployments`, oldest first:
    /// the compares still to run (against the previous successful production
    /// deployment of the same repository and environment, failed ones skipped), each
    /// recorded as the next one's base. A deployment compared on an earlier run is
    /// not compared again; the very first one has no base and ships nothing.
    pub fn plan_compares(&mut self, repo: &str, deployments: &[Deployment]) -> Vec<CompareJob> {
        let mut successes: Vec<&Deployment> = deployments
            .iter()
            .filter(|d| d.env_tier == "production" && d.status == "success")
            .collect();
        successes.sort_by(|a, b| {
            a.finished_at
                .cmp(&b.finished_at)
                .then(a.deployment_id.cmp(&b.deployment_id))
        });
        let mut jobs = Vec::new();
        for d in successes {
            let (Some(sha), Some(finished_at)) = (d.commit_sha.clone(), d.finished_at) else {
                continue;
            };
            let key = format!("{repo}|{}", d.environment.as_deref().unwrap_or_default());
            let (base, done) = self.compare_base(&key, &d.deployment_id, finished_at);
            if !done && let Some(base) = base {
                jobs.push(CompareJob {
                    deployment_id: d.deployment_id.clone(),
                    base: base.sha.clone(),
                    head: sha.clone(),
                });
            }
            self.record_shipped(
                &key,
                Shipped {
                    id: d.deployment_id.clone(),
                    sha,
                    finished_at,
                },
            );
        }
        jobs
    }

    /// Records a successful deployment as a future compare base.
    pub fn record_shipped(&mut self, key: &str, shipped: Shipped) {
        let list = self.shipped.entry(key.to_string()).or_default();
        if list.iter().any(|s| s.id == shipped.id) {
            return;
        }
        list.push(shipped);
        list.sort_by(|a, b| a.finished_at.cmp(&b.finished_at).then(a.id.cmp(&b.id)));
        if list.len() > SHIPPED_KEPT {
            let drop = list.len() - SHIPPED_KEPT;
            list.drain(..drop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(
        id: &str,
        sha: &str,
        status: &'static str,
        tier: &'static str,
        hour: u32,
    ) -> Deployment {
        Deployment {
            deployment_id: id.into(),
            source: "s".into(),
            repo: "r".into(),
            service: "svc".into(),
            environment: Some("production".into()),
            env_tier: tier,
            status,
            commit_sha: Some(sha.into()),
            started_at: None,
            finished_at: "2025-01-01T00:00:00Z"
                .parse::<DateTime<Utc>>()
                .ok()
                .map(|t| t + chrono::Duration::hours(i64::from(hour))),
            kind: "planned",
            via_platform: false,
            url: None,
        }
    }

    #[test]
    fn compares_skip_failures_and_never_repeat() {
        let mut state = SourceState::default();
        let batch = vec![
            deployment("d3", "c3", "success", "production", 3),
            deployment("d1", "c1", "success", "production", 1),
            deployment("d2", "c2", "failure", "production", 2),
            deployment("s1", "c9", "success", "staging", 4),
        ];
        let jobs = state.plan_compares("r", &batch);
        assert_eq!(
            jobs,
            vec![CompareJob {
                deployment_id: "d3".into(),
                base: "c1".into(),
                head: "c3".into()
            }],
            "d1 is the first (no base), d2 failed, s1 is not production"
        );
        // Re-reading the same deployments (an overlap window) plans nothing new.
        assert!(state.plan_compares("r", &batch).is_empty());
        let later = vec![deployment("d4", "c4", "success", "production", 5)];
        let jobs = state.plan_compares("r", &later);
        assert_eq!(jobs[0].base, "c3");
    }

    #[test]
    fn unsettled_records_are_dropped_a_week_behind_the_stream() {
        let mut state = SourceState::default();
        let t = |d: i64| {
            "2025-01-10T00:00:00Z"
                .parse::<DateTime<Utc>>()
                .ok()
                .map(|x| x + chrono::Duration::days(d))
        };
        state.advance("s", t(0));
        let pending = [
            ("old".to_string(), t(-8).unwrap_or_default()),
            ("new".to_string(), t(-1).unwrap_or_default()),
        ];
        state.set_pending("s", pending.into_iter().collect());
        assert!(state.is_pending("s", "new") && !state.is_pending("s", "old"));
        assert_eq!(state.oldest_pending("s"), t(-1));
        assert_eq!(
            state.since("s", 30, None),
            t(0).map(|x| x - chrono::Duration::minutes(30))
        );
    }
}

//! Compaction after a write: committing a [`TableWriter`] makes its parts visible,
//! then compacts the table when it has more visible files than `[lake]
//! compact_after_files`, or sweeps the files an earlier compaction replaced once
//! their grace period is over.
//!
//! Neither the writer's module nor compaction's: compaction writes through a
//! `TableWriter`, so the trigger sits above both and the writer never calls
//! compaction.

use super::compact::{CompactOptions, compact_table};
use super::tables::TableSpec;
use super::writer::TableWriter;
use super::{Lake, WriteSummary};
use crate::error::Result;

impl TableWriter {
    /// Makes every part visible at once (see [`super::writer`]). Then, when the
    /// table has more visible files than the lake's threshold, compacts it (a
    /// failure there is logged: the write itself is done).
    pub async fn commit(self) -> Result<WriteSummary> {
        let lake = self.lake().clone();
        let spec = self.spec().clone();
        let summary = self.commit_replacing(&[]).await?;
        if !summary.files.is_empty() {
            lake.compact_if_many_files(&spec).await;
        }
        Ok(summary)
    }
}

impl Lake {
    /// After a write: compacts the table when it has more visible files than the
    /// threshold; otherwise, when a compaction left replaced files behind, deletes
    /// those whose grace period is over (a table that stays small would keep them
    /// forever otherwise).
    async fn compact_if_many_files(&self, spec: &TableSpec) {
        if self.compact_after_files == 0 {
            return;
        }
        let listing = match self.listing(spec.name).await {
            Ok(listing) => listing,
            Err(e) => {
                return tracing::warn!(table = spec.name, error = %e, "Cannot list the table to decide on compaction.");
            }
        };
        let options = CompactOptions::default();
        let files = listing.files.len();
        let done = if files > self.compact_after_files {
            tracing::info!(
                table = spec.name,
                files,
                threshold = self.compact_after_files,
                "Compacting a table with many files."
            );
            compact_table(self, spec, options).await.map(|_| ())
        } else if listing.has_replaced_files() {
            self.sweep(spec.name, options.grace).await.map(|_| ())
        } else {
            Ok(())
        };
        if let Err(e) = done {
            tracing::warn!(table = spec.name, error = %e, "Automatic compaction failed; the write stands.");
        }
    }
}

//! Which files of a table a reader sees, and removing what no reader needs any more.
//!
//! A file is **visible** when every part of its group is present and no committed
//! compaction replaced it. That one rule is what makes a multi-file write (or a
//! compaction) appear in one step: parts are renamed in one by one, and the group
//! counts only when its last part lands. Compaction then writes a manifest,
//! `compact-<group>.replaces`, naming the files it replaced; from that moment they
//! are hidden, and they are deleted only after a grace period (see
//! [`super::compact`]), so a reader that listed them a moment earlier can still
//! open them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::Result as DfResult;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStoreExt};

use super::Lake;
use super::names::{FileName, Origin};
use crate::error::{Error, Result};

/// A DataFusion table over the lake objects `paths` (as listed: visible files, or
/// a derived table's file), read one by one, with `schema`. Readers name files,
/// not folders: a folder listing would also read parts of a write still committing
/// and files a compaction replaced.
pub fn parquet_table(paths: &[String], schema: SchemaRef) -> DfResult<Arc<dyn TableProvider>> {
    let urls = paths
        .iter()
        .map(|p| ListingTableUrl::parse(format!("file:///{p}")))
        .collect::<DfResult<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Suffix of a compaction's manifest of replaced files.
pub const MANIFEST_SUFFIX: &str = ".replaces";

/// Folder (under the lake root) where writes stage their parts; readers never list
/// it because no table is named so.
pub const STAGING: &str = "_staging";

/// What a table folder holds, sorted out.
#[derive(Debug, Default)]
pub struct Listing {
    /// Visible files (object paths), sorted.
    pub files: Vec<String>,
    /// Each visible file's path, size, modification time and e-tag, sorted: what
    /// tells one version of a file from another. A file's name comes from its rows
    /// without `_ingested_at`, so writing the same rows again replaces the file
    /// under the same name with a newer `_ingested_at`.
    pub versions: Vec<String>,
    /// The groups the visible files belong to.
    groups: BTreeSet<(Origin, String)>,
    /// Parts of groups that are not complete: a write committing right now, or
    /// one killed while committing.
    pub(super) incomplete: Vec<ObjectMeta>,
    /// Compaction manifests, oldest first, with the files (names) each replaced.
    pub(super) manifests: Vec<(ObjectMeta, Vec<String>)>,
    /// Files hidden by a manifest but still on disk.
    pub(super) hidden: Vec<String>,
}

impl Listing {
    /// Whether a compaction's manifest is waiting for its grace period to end.
    pub fn has_replaced_files(&self) -> bool {
        !self.manifests.is_empty()
    }

    /// Whether the visible files are exactly one compacted group, so that every
    /// natural key occurs at most once and a reader may skip the newest-version
    /// dedupe.
    pub fn keys_unique(&self) -> bool {
        self.groups.len() == 1
            && self
                .groups
                .iter()
                .all(|(origin, _)| *origin == Origin::Compact)
    }
}

fn last_segment(location: &ObjectPath) -> String {
    location.filename().unwrap_or_default().to_string()
}

impl Lake {
    /// The visible Parquet files of a table (complete groups, not replaced by a
    /// compaction), sorted by path. This is what every reader must read.
    pub async fn files(&self, table: &str) -> Result<Vec<String>> {
        Ok(self.listing(table).await?.files)
    }

    /// Lists a table's folder and sorts its objects into visible files, incomplete
    /// groups, manifests and hidden files.
    pub async fn listing(&self, table: &str) -> Result<Listing> {
        let prefix = self.root.clone().join(table);
        let objects: Vec<ObjectMeta> =
            self.store
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(|source| Error::Lake {
                    path: prefix.to_string(),
                    source,
                })?;
        let mut groups: BTreeMap<(Origin, String, usize), Vec<ObjectMeta>> = BTreeMap::new();
        let mut manifests = Vec::new();
        for meta in objects {
            let name = last_segment(&meta.location);
            if name.ends_with(MANIFEST_SUFFIX) {
                let replaced = self.read_manifest(&meta.location).await?;
                manifests.push((meta, replaced));
            } else if let Some(file) = FileName::parse(&name) {
                groups
                    .entry((file.origin, file.group, file.parts))
                    .or_default()
                    .push(meta);
            }
        }
        manifests.sort_by_key(|(meta, _)| meta.last_modified);
        let replaced: BTreeSet<&str> = manifests
            .iter()
            .flat_map(|(_, names)| names.iter().map(String::as_str))
            .collect();
        let mut listing = Listing::default();
        for ((origin, group, parts), metas) in groups {
            let present: BTreeSet<usize> = metas
                .iter()
                .filter_map(|m| FileName::parse(&last_segment(&m.location)).map(|f| f.part))
                .collect();
            if present.len() != parts {
                listing.incomplete.extend(metas);
                continue;
            }
            for meta in metas {
                let path = meta.location.to_string();
                if replaced.contains(last_segment(&meta.location).as_str()) {
                    listing.hidden.push(path);
                } else {
                    listing.versions.push(format!(
                        "{path}\u{0}{}\u{0}{}\u{0}{}",
                        meta.size,
                        meta.last_modified.to_rfc3339(),
                        meta.e_tag.as_deref().unwrap_or_default()
                    ));
                    listing.files.push(path);
                    listing.groups.insert((origin, group.clone()));
                }
            }
        }
        listing.files.sort();
        listing.versions.sort();
        listing.manifests = manifests;
        Ok(listing)
    }

    async fn read_manifest(&self, location: &ObjectPath) -> Result<Vec<String>> {
        let lake_error = |source| Error::Lake {
            path: location.to_string(),
            source,
        };
        let bytes = self
            .store
            .get(location)
            .await
            .map_err(lake_error)?
            .bytes()
            .await
            .map_err(lake_error)?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect())
    }

    /// Deletes what no reader can need any more, when older than `grace`: files
    /// replaced by a compaction (then the manifest itself), parts of groups that
    /// never completed (a writer killed mid-commit), and staged parts of writes
    /// that never committed. Returns how many objects it removed.
    pub async fn sweep(&self, table: &str, grace: Duration) -> Result<usize> {
        let cutoff = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
        let listing = self.listing(table).await?;
        let dir = self.root.clone().join(table);
        let mut removed = 0;
        // Oldest manifest first, and its files before the manifest: a crash in
        // between leaves a manifest naming missing files, which the next sweep
        // finishes, never a replaced file that is visible again.
        for (meta, names) in &listing.manifests {
            if meta.last_modified > cutoff {
                continue;
            }
            for name in names {
                removed += self
                    .delete_if_present(&dir.clone().join(name.as_str()))
                    .await?;
            }
            removed += self.delete_if_present(&meta.location).await?;
        }
        for meta in listing.incomplete.iter().filter(|m| old(m, cutoff)) {
            tracing::warn!(file = %meta.location, "Removing a part of a write that never completed.");
            removed += self.delete_if_present(&meta.location).await?;
        }
        // Staged parts belong to writes that may still be running (a long import
        // stages its first parts hours before it commits), so they get a day, not
        // the replaced files' grace: a sweep with no grace must not pull the parts
        // from under a write in progress.
        let staging_cutoff =
            cutoff.min(Utc::now() - chrono::Duration::hours(STAGING_MIN_AGE_HOURS));
        removed += self.sweep_staging(staging_cutoff).await?;
        Ok(removed)
    }

    async fn sweep_staging(&self, cutoff: DateTime<Utc>) -> Result<usize> {
        let staging = self.root.clone().join(STAGING);
        let stale: Vec<ObjectMeta> = self
            .store
            .list(Some(&staging))
            .try_filter(|m| futures::future::ready(old(m, cutoff)))
            .try_collect()
            .await
            .map_err(|source| Error::Lake {
                path: staging.to_string(),
                source,
            })?;
        let mut removed = 0;
        for meta in stale {
            removed += self.delete_if_present(&meta.location).await?;
        }
        Ok(removed)
    }

    /// Deletes an object; 1 if it was there, 0 if it was already gone.
    pub(super) async fn delete_if_present(&self, location: &ObjectPath) -> Result<usize> {
        match self.store.delete(location).await {
            Ok(()) => Ok(1),
            Err(object_store::Error::NotFound { .. }) => Ok(0),
            Err(source) => Err(Error::Lake {
                path: location.to_string(),
                source,
            }),
        }
    }
}

/// How old a staged part must be before a sweep takes it for a crashed write's.
const STAGING_MIN_AGE_HOURS: i64 = 24;

fn old(meta: &ObjectMeta, cutoff: DateTime<Utc>) -> bool {
    meta.last_modified <= cutoff
}

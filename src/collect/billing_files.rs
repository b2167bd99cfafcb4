//! `kind = "billing"`: billing export files from a folder (a glob) or an S3 bucket
//! (an `s3://bucket/prefix/*.csv.gz` URL; `api_url` points at an S3-compatible
//! endpoint, credentials come from the standard `AWS_*` environment variables).
//!
//! A billing period is replaced as a whole by its newest import, so the files of a
//! period must be read together. The collector therefore reads every matching file
//! whenever any of them changed (by name, size and modification time or ETag), and
//! nothing at all when none did. Unreadable records go to quarantine; the import
//! summary names them.

use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};

use super::SourceRun;
use super::state::SourceState;
use crate::billing::{self, CostImportOptions};
use crate::config::BillingSource;
use crate::error::{Error, Result};

/// The state stream holding the fingerprint of the last files read.
const FILES_STREAM: &str = "billing_files";

/// One export file found: its name, and what says whether it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    name: String,
    version: String,
}

/// Reads the source's files into `costs` when any changed.
pub async fn collect(run: &mut SourceRun<'_>, billing: &BillingSource) -> Result<()> {
    let source = run.source;
    let location = billing.path.clone();
    // Downloads land beside the source's state and are removed after the import.
    let scratch = SourceState::dir(run.lake, &source.name).join("download");
    let (found, listing) = if location.starts_with("s3://") {
        let (found, listing) =
            list_bucket(&source.name, source.api_url.as_deref(), &location).await?;
        (found, Some(listing))
    } else {
        (glob_files(&source.name, &location)?, None)
    };
    let fingerprint = fingerprint(&found);
    run.progress.read("export files", found.len());
    if found.is_empty() {
        tracing::warn!(source = %source.name, %location, "No billing files match.");
        return Ok(());
    }
    if run.state.text(FILES_STREAM) == Some(fingerprint.as_str()) {
        tracing::info!(source = %source.name, files = found.len(), "Billing files unchanged.");
        return Ok(());
    }
    let options = CostImportOptions {
        format: billing.format,
        skip_bad: true,
        defaults: billing.set.clone(),
    };
    let local = match &listing {
        Some(listing) => download(&source.name, listing, &scratch).await?,
        None => found.iter().map(|f| PathBuf::from(&f.name)).collect(),
    };
    let imported = billing::import_costs(run.lake, &local, &options).await;
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(|e| Error::Io {
            path: scratch.clone(),
            source: e,
        })?;
    }
    let summary = imported?;
    for p in summary.periods.iter().filter(|p| p.replaced) {
        tracing::info!(provider = %p.provider, account = %p.billing_account_id, period = %p.period, "Restated billing period replaced.");
    }
    if summary.quarantined > 0 {
        tracing::warn!(
            quarantined = summary.quarantined,
            "Billing records quarantined."
        );
    }
    run.progress.read("cost lines", summary.lines);
    run.written.record("costs", summary.written);
    run.state.set_text(FILES_STREAM, fingerprint);
    run.state.save(run.lake, &source.name)?;
    Ok(())
}

/// Files matching a local glob, sorted.
fn glob_files(source: &str, pattern: &str) -> Result<Vec<Found>> {
    let paths = glob::glob(pattern)
        .map_err(|e| Error::collector(source, format!("bad path glob `{pattern}`: {e}")))?;
    let mut found = Vec::new();
    for entry in paths {
        let path = entry.map_err(|e| Error::collector(source, e.to_string()))?;
        if !path.is_file() {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        found.push(Found {
            name: path.to_string_lossy().into_owned(),
            version: format!("{}:{modified}", meta.len()),
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// `s3://bucket/prefix/*.csv.gz` → the bucket, the literal prefix before the
/// first glob character, and the pattern for the key.
fn split_bucket_url(url: &str) -> Option<(String, String, glob::Pattern)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key_glob) = rest.split_once('/').unwrap_or((rest, "**"));
    let key_glob = if key_glob.is_empty() || key_glob.ends_with('/') {
        format!("{key_glob}**")
    } else {
        key_glob.to_string()
    };
    let literal = key_glob
        .find(['*', '?', '['])
        .map_or(key_glob.as_str(), |i| &key_glob[..i]);
    let prefix = literal.rsplit_once('/').map_or("", |(p, _)| p).to_string();
    let pattern = glob::Pattern::new(&key_glob).ok()?;
    Some((bucket.to_string(), prefix, pattern))
}

/// A bucket's objects matching the source's key glob, in key order.
struct Listing {
    store: object_store::aws::AmazonS3,
    bucket: String,
    objects: Vec<object_store::ObjectMeta>,
}

/// Lists the objects matching `url` (`api_url` as the S3-compatible endpoint).
async fn list_bucket(
    source: &str,
    endpoint: Option<&str>,
    url: &str,
) -> Result<(Vec<Found>, Listing)> {
    let bad = |reason: String| Error::collector(source, reason);
    let (bucket, prefix, pattern) = split_bucket_url(url)
        .ok_or_else(|| bad(format!("not an s3://bucket/key-glob URL: {url}")))?;
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
    if let Some(endpoint) = endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    let store = builder
        .build()
        .map_err(|e| bad(format!("cannot open bucket {bucket}: {e}")))?;
    let listed: Vec<_> = store
        .list(Some(&ObjectPath::from(prefix.as_str())))
        .try_collect()
        .await
        .map_err(|e| bad(format!("cannot list {url}: {e}")))?;
    let mut objects: Vec<_> = listed
        .into_iter()
        .filter(|o| pattern.matches(o.location.as_ref()))
        .collect();
    objects.sort_by(|a, b| a.location.cmp(&b.location));
    let found = objects
        .iter()
        .map(|o| Found {
            name: format!("s3://{bucket}/{}", o.location),
            version: format!(
                "{}:{}",
                o.size,
                o.e_tag
                    .clone()
                    .unwrap_or_else(|| o.last_modified.to_rfc3339())
            ),
        })
        .collect();
    Ok((
        found,
        Listing {
            store,
            bucket,
            objects,
        },
    ))
}

/// Downloads the listed objects into `dir`, keeping their names (their extensions
/// tell the layout).
async fn download(source: &str, listing: &Listing, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut local = Vec::with_capacity(listing.objects.len());
    for (i, o) in listing.objects.iter().enumerate() {
        let read_error = |e: object_store::Error| {
            let url = format!("s3://{}/{}", listing.bucket, o.location);
            Error::collector(source, format!("cannot read {url}: {e}"))
        };
        let got = listing.store.get(&o.location).await.map_err(read_error)?;
        let bytes = got.bytes().await.map_err(read_error)?;
        let name = o.location.filename().unwrap_or("export.csv");
        let path = dir.join(format!("{i:05}-{name}"));
        std::fs::write(&path, &bytes).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        local.push(path);
    }
    Ok(local)
}

fn fingerprint(found: &[Found]) -> String {
    let mut hasher = Sha256::new();
    for f in found {
        hasher.update(f.name.as_bytes());
        hasher.update([0x1f]);
        hasher.update(f.version.as_bytes());
        hasher.update([0x1e]);
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_urls_split_into_bucket_prefix_and_pattern() {
        let (b, p, g) = split_bucket_url("s3://bills/cur/2026/*.csv.gz").unwrap();
        assert_eq!((b.as_str(), p.as_str()), ("bills", "cur/2026"));
        assert!(g.matches("cur/2026/a.csv.gz"));
        assert!(!g.matches("cur/2025/a.csv.gz"));
        let (_, p, g) = split_bucket_url("s3://bills/focus/").unwrap();
        assert_eq!(p, "focus");
        assert!(g.matches("focus/x/y.parquet"));
    }
}

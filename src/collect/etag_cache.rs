//! The conditional-request cache: per URL, the last `ETag` and the body it came
//! with. On `304 Not Modified` the client replays the body, so a collector reads
//! the same records whether or not anything changed, and an unchanged re-sync costs
//! only 304s (which GitHub does not count against the rate limit).
//!
//! Entries live beside the source's state, one small JSON file per URL, each
//! written atomically. Nothing in them is secret: the token is never part of a URL.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::lake::short_sha256;

/// A cached answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The URL it answered (guards against hash collisions).
    pub url: String,
    /// The validator to send as `If-None-Match`.
    pub etag: String,
    /// The body, as text (every API here answers JSON).
    pub body: String,
    /// The next page as the 200 answer linked it: a 304 need not repeat `Link`.
    #[serde(default)]
    pub next: Option<String>,
}

/// A folder of cache entries.
#[derive(Debug, Clone)]
pub struct EtagCache {
    dir: Option<PathBuf>,
}

impl EtagCache {
    /// A cache in `dir` (created on first write).
    pub fn at(dir: &Path) -> EtagCache {
        EtagCache {
            dir: Some(dir.to_path_buf()),
        }
    }

    /// A cache that stores nothing.
    pub fn disabled() -> EtagCache {
        EtagCache { dir: None }
    }

    fn file(&self, url: &Url) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!(
            "{}.json",
            short_sha256(url.as_str().as_bytes(), 16)
        )))
    }

    /// The cached answer for `url`; an unreadable entry counts as absent.
    pub fn get(&self, url: &Url) -> Option<Entry> {
        let text = std::fs::read_to_string(self.file(url)?).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        (entry.url == url.as_str()).then_some(entry)
    }

    /// Stores an answer; bodies that are not UTF-8 are not cached.
    pub fn put(&self, url: &Url, etag: &str, body: &[u8], next: Option<&Url>) -> Result<()> {
        let Some(file) = self.file(url) else {
            return Ok(());
        };
        let Ok(body) = std::str::from_utf8(body) else {
            return Ok(());
        };
        let entry = Entry {
            url: url.to_string(),
            etag: etag.to_string(),
            body: body.to_string(),
            next: next.map(Url::to_string),
        };
        let text = serde_json::to_vec(&entry).map_err(|e| Error::encode("etag cache", e))?;
        crate::atomic_file::write(&file, &text)
    }
}

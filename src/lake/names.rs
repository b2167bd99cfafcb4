//! The names of lake files, which carry everything a reader needs to decide whether
//! a file is visible: which write (group) it belongs to, its place in that write and
//! how many parts the write has.
//!
//! - `part-<hash>.parquet`: a write of one file (the name every write had before
//!   multi-file writes; `<hash>` is the content hash of its rows).
//! - `part-<group>-<k>of<n>.parquet`: part `k` of a write of `n` files; `<group>`
//!   hashes the parts' content hashes, so the same rows give the same names.
//! - `compact-…`: the same two shapes, written by compaction: a compacted group
//!   holds at most one row per natural key.
//!
//! Any other `*.parquet` file (copied in by hand, or from a future writer) is read
//! as a complete group of one, so nothing a user put there is silently ignored.

use std::fmt;

/// Who wrote a file: an ordinary write or compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// An import, a collector batch, the demo: keys may repeat across files.
    Part,
    /// Compaction: one row per natural key within the group.
    Compact,
}

impl Origin {
    /// The file name prefix (`part`, `compact`).
    pub fn prefix(self) -> &'static str {
        match self {
            Origin::Part => "part",
            Origin::Compact => "compact",
        }
    }
}

/// A parsed lake file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName {
    /// Who wrote it.
    pub origin: Origin,
    /// The write it belongs to (for a single file: its content hash).
    pub group: String,
    /// 1-based part number.
    pub part: usize,
    /// Parts in the group.
    pub parts: usize,
}

impl FileName {
    /// The name of part `part` of `parts` of group `group`.
    pub fn new(origin: Origin, group: &str, part: usize, parts: usize) -> FileName {
        FileName {
            origin,
            group: group.to_string(),
            part,
            parts,
        }
    }

    /// Parses a file name (the last path segment); `None` for files that are not
    /// Parquet (staging leftovers such as `part-….parquet#1`, manifests).
    pub fn parse(name: &str) -> Option<FileName> {
        let stem = name.strip_suffix(".parquet")?;
        let parsed = [Origin::Part, Origin::Compact]
            .into_iter()
            .find_map(|origin| {
                let rest = stem.strip_prefix(origin.prefix())?.strip_prefix('-')?;
                parse_group(origin, rest)
            });
        // Unknown shapes are whole files of their own: visible, never grouped.
        Some(parsed.unwrap_or_else(|| FileName::new(Origin::Part, stem, 1, 1)))
    }

    /// Whether this file is part of a write of more than one file.
    pub fn is_multi(&self) -> bool {
        self.parts > 1
    }
}

fn parse_group(origin: Origin, rest: &str) -> Option<FileName> {
    let Some((group, counter)) = rest.rsplit_once('-') else {
        return is_hex(rest).then(|| FileName::new(origin, rest, 1, 1));
    };
    let (k, n) = counter.split_once("of")?;
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (is_hex(group) && (1..=n).contains(&k)).then(|| FileName::new(origin, group, k, n))
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = self.origin.prefix();
        if self.parts == 1 {
            write!(f, "{prefix}-{}.parquet", self.group)
        } else {
            write!(
                f,
                "{prefix}-{}-{}of{}.parquet",
                self.group, self.part, self.parts
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            FileName::new(Origin::Part, "0a1b", 1, 1),
            FileName::new(Origin::Part, "0a1b", 2, 3),
            FileName::new(Origin::Compact, "ff", 1, 1),
            FileName::new(Origin::Compact, "ff", 12, 12),
        ] {
            assert_eq!(FileName::parse(&name.to_string()), Some(name));
        }
        assert_eq!(
            FileName::new(Origin::Part, "ab", 2, 3).to_string(),
            "part-ab-2of3.parquet"
        );
    }

    #[test]
    fn other_files_are_single_groups_and_leftovers_are_ignored() {
        assert_eq!(FileName::parse("part-0000.parquet#1"), None);
        assert_eq!(FileName::parse("compact-ab.replaces"), None);
        let odd = FileName::parse("export-2024.parquet").expect("parquet");
        assert_eq!((odd.origin, odd.parts), (Origin::Part, 1));
        let bad_counter = FileName::parse("part-ab-4of3.parquet").expect("parquet");
        assert_eq!(bad_counter.parts, 1, "an impossible counter is not a group");
    }
}

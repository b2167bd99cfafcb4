//! What each table of an engine was computed from, as one fingerprint per table.
//!
//! A lake table's fingerprint names its visible files, each with its size,
//! modification time and e-tag (a write of rows already stored replaces a file
//! under its name); an in-memory table's names its rows; a view's or a
//! derived table's names its plan, its settings, the binary's sources and the
//! fingerprints of every table its plan scans. Two engines give a derived table the
//! same fingerprint exactly when it would compute the same rows, which is what lets
//! [`super::materialise`] reuse a derived table across processes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use datafusion::arrow::array::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use sha2::{Digest, Sha256};

use crate::lake::short_sha256_of;

/// A hash of the sources this binary was built from (see `build.rs`): a build whose
/// enrichment or SQL differs never takes another build's derived tables for its own.
const SOURCES: &str = env!("NORTHSTAR_SOURCE_HASH");

/// The fingerprints of an engine's tables, by name.
#[derive(Debug, Default)]
pub struct Lineage {
    known: Mutex<HashMap<String, String>>,
}

impl Lineage {
    fn record(&self, name: &str, hasher: Sha256) -> String {
        let fingerprint = short_sha256_of(hasher);
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_string(), fingerprint.clone());
        fingerprint
    }

    fn get(&self, name: &str) -> Option<String> {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// A table over the lake `files` (versions: path, size, time, e-tag).
    pub fn files(&self, name: &str, files: &[String]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"files\0");
        hasher.update(name.as_bytes());
        for file in files {
            hasher.update(b"\0");
            hasher.update(file.as_bytes());
        }
        self.record(name, hasher)
    }

    /// A table holding exactly `batch`.
    pub fn rows(&self, name: &str, batch: &RecordBatch) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"rows\0");
        hasher.update(name.as_bytes());
        hasher.update(format!("{batch:?}").as_bytes());
        self.record(name, hasher)
    }

    /// A table computed by `plans` with `settings` (whatever else decides its rows).
    pub fn derived(&self, name: &str, plans: &[&LogicalPlan], settings: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"derived\0");
        hasher.update(SOURCES.as_bytes());
        hasher.update(b"\0");
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
        hasher.update(settings.as_bytes());
        let mut inputs = BTreeMap::new();
        for plan in plans {
            hasher.update(b"\0");
            hasher.update(plan.display_indent_schema().to_string().as_bytes());
            for table in scanned_tables(plan) {
                let fingerprint = self.get(&table);
                inputs.insert(table, fingerprint);
            }
        }
        for (table, fingerprint) in inputs {
            hasher.update(b"\0");
            hasher.update(table.as_bytes());
            hasher.update(b"=");
            // A table of no known origin (the information schema, say) counts by name.
            hasher.update(fingerprint.unwrap_or_default().as_bytes());
        }
        self.record(name, hasher)
    }
}

/// Names of the tables `plan` scans, subqueries included.
fn scanned_tables(plan: &LogicalPlan) -> Vec<String> {
    let mut out = Vec::new();
    // The closure never fails, so neither does the walk.
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            out.push(scan.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn plan(ctx: &SessionContext, sql: &str) -> LogicalPlan {
        ctx.sql(sql).await.expect("plan").logical_plan().clone()
    }

    #[tokio::test]
    async fn a_derived_fingerprint_follows_the_files_it_reads() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (a INT) AS VALUES (1)")
            .await
            .expect("create")
            .collect()
            .await
            .expect("run");
        let p = plan(&ctx, "SELECT a FROM t WHERE a IN (SELECT a FROM t)").await;
        let lineage = Lineage::default();
        lineage.files("t", &["lake/t/part-1.parquet".into()]);
        let first = lineage.derived("d", &[&p], "");
        assert_eq!(first, lineage.derived("d", &[&p], ""), "same inputs");
        assert_ne!(first, lineage.derived("d", &[&p], "window=7"), "settings");
        lineage.files("t", &["lake/t/part-2.parquet".into()]);
        assert_ne!(first, lineage.derived("d", &[&p], ""), "new files");
        let other = plan(&ctx, "SELECT a + 1 AS a FROM t").await;
        assert_ne!(
            lineage.derived("d", &[&p], ""),
            lineage.derived("d", &[&other], ""),
            "another plan"
        );
        assert_eq!(scanned_tables(&p), vec!["t".to_string(), "t".to_string()]);
    }
}

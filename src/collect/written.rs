//! What a collection step wrote, per table: the counts behind the run summary.

use std::collections::BTreeMap;

use crate::lake::{Changed, tables};

/// Rows written per table, in the lake's table order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    by_table: BTreeMap<usize, (&'static str, Changed)>,
}

impl Written {
    /// Adds `changed` rows of `table` (a canonical table name).
    pub fn record(&mut self, table: &'static str, changed: Changed) {
        let order = tables::all_tables()
            .iter()
            .position(|t| t.name == table)
            .unwrap_or(usize::MAX);
        let entry = self
            .by_table
            .entry(order)
            .or_insert((table, Changed::default()));
        entry.1.new += changed.new;
        entry.1.updated += changed.updated;
    }

    /// Adds another step's counts.
    pub fn add(&mut self, other: &Written) {
        for (table, changed) in other.by_table.values() {
            self.record(table, *changed);
        }
    }

    /// The counts of one table (zero when it was not written).
    pub fn table(&self, table: &str) -> Changed {
        self.by_table
            .values()
            .find(|(t, _)| *t == table)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }

    /// New rows over all tables.
    pub fn new_rows(&self) -> usize {
        self.by_table.values().map(|(_, c)| c.new).sum()
    }

    /// Updated rows over all tables.
    pub fn updated_rows(&self) -> usize {
        self.by_table.values().map(|(_, c)| c.updated).sum()
    }

    /// `table n, table m, …` for every table written, in lake order.
    pub fn per_table(&self) -> String {
        self.by_table
            .values()
            .map(|(t, c)| format!("{t} {}", c.total()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

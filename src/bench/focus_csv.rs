//! FOCUS 1.2 billing CSVs, one per billing month (`costs/focus-YYYY-MM.csv`), as a
//! provider's FOCUS export would deliver them; read back by `northstar import costs`.

use super::csv_out::{Layout, TableCsv, TableFiles};
use super::timestamp::year_month;
use crate::billing::row::{CostRow, spec};
use crate::error::Result;
use crate::lake::tables::FOCUS_COLUMNS;

/// FOCUS 1.3 columns: left out, so the files read as the FOCUS 1.2 they claim to be.
const V13_ONLY: &[&str] = &["ServiceProviderName", "HostProviderName"];

/// The monthly files being written: rows arrive in day order, so a new billing
/// month closes the previous file.
pub(crate) struct FocusCsv {
    layout: Layout,
    /// (column name, index in a [`CostRow`]'s values).
    columns: Vec<(&'static str, usize)>,
    current: Option<(i64, TableCsv)>,
    done: TableFiles,
}

impl FocusCsv {
    pub(crate) fn new(layout: &Layout) -> Self {
        let columns = FOCUS_COLUMNS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| !V13_ONLY.contains(name))
            .filter_map(|name| {
                let at = spec().columns.iter().position(|c| c.name == name)?;
                Some((name, at))
            })
            .collect();
        FocusCsv {
            layout: Layout {
                chunk_rows: u64::MAX,
                ..layout.clone()
            },
            columns,
            current: None,
            done: TableFiles {
                table: "costs".into(),
                files: Vec::new(),
                rows: 0,
            },
        }
    }

    /// Writes a line to its billing month's file, giving it the month's invoice.
    pub(crate) fn write(&mut self, mut row: CostRow) -> Result<()> {
        let period = row.time("BillingPeriodStart").unwrap_or_default();
        let month = year_month(period);
        if self.current.as_ref().is_none_or(|(p, _)| *p != period) {
            self.close()?;
            let header = self.columns.iter().map(|(c, _)| c.to_string()).collect();
            let stem = format!("costs/focus-{month}");
            self.current = Some((period, TableCsv::new(&self.layout, "costs", &stem, header)));
        }
        row.set_text("InvoiceId", Some(format!("INV-{month}")));
        if let Some((_, file)) = self.current.as_mut() {
            let values = row.values();
            file.write(self.columns.iter().map(|(_, i)| &values[*i]))?;
        }
        Ok(())
    }

    /// Closes the last month; returns every file written.
    pub(crate) fn finish(mut self) -> Result<TableFiles> {
        self.close()?;
        Ok(self.done)
    }

    fn close(&mut self) -> Result<()> {
        if let Some((_, file)) = self.current.take() {
            let files = file.finish()?;
            self.done.files.extend(files.files);
            self.done.rows += files.rows;
        }
        Ok(())
    }
}

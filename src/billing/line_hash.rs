//! A cost line's content hash, the root of its `x_line_id` and of its period's
//! `x_import_id`.
//!
//! The hash is SHA-256 over the Rust `Debug` text of the line's FOCUS values
//! (`[Float(1.5), Text("USD"), Null, …]`), as northstar has always computed it: a
//! different text would give every stored line a new id, and re-importing an
//! unchanged bill would then replace every period. Building that text as a
//! `String` per line cost more than parsing the line, so [`content_hash`] streams
//! the same bytes into the hasher and writes plain ASCII text and numbers without
//! the formatting machinery.

use std::fmt::Write as _;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

use super::row::{CostRow, spec};
use crate::lake::batch::Value;

/// A line's content hash: the first 12 bytes of the SHA-256 of its FOCUS values.
pub type LineHash = [u8; 12];

/// A line's id: its content hash and its occurrence among identical lines of
/// its period.
pub(super) fn line_id(hash: &LineHash, occurrence: u32) -> String {
    format!("{}-{occurrence}", hex::encode(hash))
}

/// Positions of the columns hashed: the FOCUS ones and `x_provider` (the other
/// `x_` columns are northstar's, not the bill's).
static CONTENT: LazyLock<Vec<usize>> = LazyLock::new(|| {
    spec()
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.name.starts_with("x_") || c.name == "x_provider")
        .map(|(i, _)| i)
        .collect()
});

/// Hash of a line's FOCUS values (see the module docs).
pub fn content_hash(row: &CostRow) -> LineHash {
    let values = row.values();
    let mut sink = HashSink(Sha256::new());
    sink.0.update(b"[");
    for (n, i) in CONTENT.iter().enumerate() {
        if n > 0 {
            sink.0.update(b", ");
        }
        sink.debug(values.get(*i).unwrap_or(&Value::Null));
    }
    sink.0.update(b"]");
    let digest = sink.0.finalize();
    let mut out = [0u8; 12];
    out.copy_from_slice(&digest[..12]);
    out
}

/// Text formatted straight into SHA-256.
struct HashSink(Sha256);

impl std::fmt::Write for HashSink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

impl HashSink {
    /// Feeds `format!("{value:?}")`'s bytes.
    fn debug(&mut self, value: &Value) {
        match value {
            Value::Null => self.0.update(b"Null"),
            Value::Text(s) if s.bytes().all(debug_verbatim) => {
                self.0.update(b"Text(\"");
                self.0.update(s.as_bytes());
                self.0.update(b"\")");
            }
            Value::Float(f) => {
                self.0.update(b"Float(");
                // Writing to a hasher cannot fail.
                let _ = write!(self, "{f:?}");
                self.0.update(b")");
            }
            Value::Timestamp(t) => {
                self.0.update(b"Timestamp(");
                let _ = write!(self, "{t}");
                self.0.update(b")");
            }
            other => {
                let _ = write!(self, "{other:?}");
            }
        }
    }
}

/// Whether `str`'s `Debug` writes this byte as it is: printable ASCII other than
/// the quote and the backslash.
fn debug_verbatim(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash as it was first defined: SHA-256 of the `Debug` text of the values.
    fn reference(row: &CostRow) -> LineHash {
        let content: Vec<&Value> = CONTENT.iter().map(|i| &row.values()[*i]).collect();
        let digest = Sha256::digest(format!("{content:?}").as_bytes());
        let mut out = [0u8; 12];
        out.copy_from_slice(&digest[..12]);
        out
    }

    #[test]
    fn same_bytes_as_the_debug_text() {
        let texts = [
            "USD",
            "",
            "a \"quoted\" \\ value",
            "tab\there\nnewline",
            "Zürich €",
            "e\u{301}",
            "{\"team\":\"a\"}",
            "\u{7f}\u{0}",
        ];
        let floats = [0.0, -0.0, 1.5, 1e-7, 1e16, 1e17, 0.41472000000000003, -12.5];
        for (k, text) in texts.iter().enumerate() {
            let mut row = CostRow::new();
            row.set_text("BillingCurrency", Some(*text));
            row.set_text("x_provider", Some(*text));
            row.set_number("BilledCost", Some(floats[k % floats.len()]));
            row.set_number("EffectiveCost", Some(f64::NAN));
            row.set_number("ListCost", Some(f64::INFINITY));
            row.set_time("ChargePeriodStart", Some(-1_700_000_000_000_000 + k as i64));
            row.set("x_line_id", Value::text("not hashed"));
            assert_eq!(content_hash(&row), reference(&row), "{text:?}");
        }
        for f in floats {
            let mut row = CostRow::new();
            row.set_number("ContractedCost", Some(f));
            assert_eq!(content_hash(&row), reference(&row), "{f:?}");
        }
    }
}

//! The canonical tables: their columns, types, natural keys and allowed values.
//!
//! This is the one place that says what a table looks like. The importer validates
//! against it, the lake writes Parquet with its Arrow schema and the engine dedupes
//! on its natural key. Adding a column here is all a new field needs.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};

/// The time zone every timestamp in the lake carries.
pub const UTC: &str = "UTC";

/// Column added by the lake writer: when the row version was written. Newest wins.
pub const INGESTED_AT: &str = "_ingested_at";

/// The logical type of a column, as the importer parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// A UTC instant (RFC 3339 on input), stored as microseconds.
    Timestamp,
    /// true/false.
    Bool,
    /// 64-bit float (costs, quantities).
    Float,
    /// 64-bit integer.
    Int,
    /// A list of strings (JSON array, or space/`;`-separated in CSV).
    TextList,
}

impl ColumnType {
    /// The Arrow type the lake stores this column as.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Float => DataType::Float64,
            ColumnType::Int => DataType::Int64,
            ColumnType::TextList => {
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
            }
        }
    }
}

/// One column of a canonical table.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// Column name, exactly as in files and SQL.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Whether a record without it is invalid.
    pub required: bool,
    /// For enumerations: the allowed values (empty = any).
    pub allowed: &'static [&'static str],
    /// Value used when the input leaves the column empty.
    pub default: Option<&'static str>,
}

/// A canonical table.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// Table name (also its folder in the lake and its name in SQL).
    pub name: &'static str,
    /// Columns in order.
    pub columns: Vec<ColumnSpec>,
    /// Natural key: a record with the same key is a new version of the same thing.
    pub key: &'static [&'static str],
    /// The order compaction writes rows in (then the natural key): the columns the
    /// queries filter on first, usually the event time, so that the row groups'
    /// min/max statistics let a time window skip most of a table.
    pub sort: &'static [&'static str],
    /// Whether input columns not listed here are ignored (true for FOCUS billing,
    /// whose files carry dozens of optional columns) or rejected (catches typos).
    pub ignore_unknown_columns: bool,
}

impl TableSpec {
    /// The Arrow schema of the table as stored (columns plus `_ingested_at`).
    pub fn stored_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow_type(), !c.required))
            .collect();
        fields.push(Field::new(
            INGESTED_AT,
            ColumnType::Timestamp.arrow_type(),
            false,
        ));
        Arc::new(Schema::new(fields))
    }

    /// The column spec by name.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const ENV_TIERS: &[&str] = &["production", "staging", "testing", "development", "other"];
const DEPLOY_STATUSES: &[&str] = &["success", "failure", "error", "cancelled"];
const DEPLOY_KINDS: &[&str] = &["planned", "hotfix", "rollback"];
const PR_STATES: &[&str] = &["open", "closed", "merged"];

fn col(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: false,
        allowed: &[],
        default: None,
    }
}

fn req(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        required: true,
        ..col(name, ty)
    }
}

fn one_of(
    name: &'static str,
    allowed: &'static [&'static str],
    default: Option<&'static str>,
) -> ColumnSpec {
    ColumnSpec {
        required: default.is_none(),
        allowed,
        default,
        ..col(name, ColumnType::Text)
    }
}

use ColumnType::{Bool, Float, Text, TextList, Timestamp};

fn deployments() -> TableSpec {
    TableSpec {
        name: "deployments",
        columns: vec![
            req("deployment_id", Text),
            col("source", Text),
            col("repo", Text),
            req("service", Text),
            col("environment", Text),
            one_of("env_tier", ENV_TIERS, None),
            one_of("status", DEPLOY_STATUSES, None),
            col("commit_sha", Text),
            col("started_at", Timestamp),
            col("finished_at", Timestamp),
            one_of("kind", DEPLOY_KINDS, Some("planned")),
            col("via_platform", Bool),
            col("url", Text),
        ],
        key: &["deployment_id"],
        sort: &["finished_at", "service"],
        ignore_unknown_columns: false,
    }
}

fn commits() -> TableSpec {
    TableSpec {
        name: "commits",
        columns: vec![
            req("repo", Text),
            req("commit_sha", Text),
            col("parent_shas", TextList),
            col("authored_at", Timestamp),
            col("committed_at", Timestamp),
            col("author", Text),
            col("is_bot", Bool),
            col("pr_id", Text),
            col("pr_created_at", Timestamp),
            col("pr_merged_at", Timestamp),
        ],
        key: &["repo", "commit_sha"],
        sort: &["repo", "committed_at"],
        ignore_unknown_columns: false,
    }
}

fn deployment_commits() -> TableSpec {
    TableSpec {
        name: "deployment_commits",
        columns: vec![req("deployment_id", Text), req("commit_sha", Text)],
        key: &["deployment_id", "commit_sha"],
        sort: &["deployment_id"],
        ignore_unknown_columns: false,
    }
}

fn pull_requests() -> TableSpec {
    TableSpec {
        name: "pull_requests",
        columns: vec![
            req("pr_id", Text),
            col("source", Text),
            req("repo", Text),
            col("number", ColumnType::Int),
            col("title", Text),
            col("author", Text),
            col("head_ref", Text),
            col("base_ref", Text),
            one_of("state", PR_STATES, None),
            col("created_at", Timestamp),
            col("merged_at", Timestamp),
            col("merge_commit_sha", Text),
            col("commit_shas", TextList),
            col("url", Text),
        ],
        key: &["pr_id"],
        sort: &["created_at", "repo"],
        ignore_unknown_columns: false,
    }
}

fn incidents() -> TableSpec {
    TableSpec {
        name: "incidents",
        columns: vec![
            req("incident_id", Text),
            col("source", Text),
            col("service", Text),
            col("severity", Text),
            col("title", Text),
            req("started_at", Timestamp),
            col("acknowledged_at", Timestamp),
            col("resolved_at", Timestamp),
            col("caused_by_deployment_id", Text),
            col("caused_by_commit_sha", Text),
        ],
        key: &["incident_id"],
        sort: &["started_at", "service"],
        ignore_unknown_columns: false,
    }
}

fn tickets() -> TableSpec {
    TableSpec {
        name: "tickets",
        columns: vec![
            req("ticket_id", Text),
            col("source", Text),
            col("project", Text),
            col("issue_type", Text),
            col("request_type", Text),
            col("category", Text),
            col("requester_team", Text),
            col("assignee_team", Text),
            col("priority", Text),
            col("status", Text),
            req("created_at", Timestamp),
            col("first_response_at", Timestamp),
            col("resolved_at", Timestamp),
            col("labels", TextList),
        ],
        key: &["ticket_id"],
        sort: &["created_at"],
        ignore_unknown_columns: false,
    }
}

fn ticket_transitions() -> TableSpec {
    TableSpec {
        name: "ticket_transitions",
        columns: vec![
            req("ticket_id", Text),
            req("at", Timestamp),
            col("from_status", Text),
            req("to_status", Text),
            col("to_category", Text),
        ],
        key: &["ticket_id", "at", "to_status"],
        sort: &["at", "ticket_id"],
        ignore_unknown_columns: false,
    }
}

fn platform_actions() -> TableSpec {
    TableSpec {
        name: "platform_actions",
        columns: vec![
            req("action_id", Text),
            col("source", Text),
            req("action", Text),
            col("category", Text),
            col("team", Text),
            col("service", Text),
            req("requested_at", Timestamp),
            col("completed_at", Timestamp),
            col("status", Text),
        ],
        key: &["action_id"],
        sort: &["requested_at", "team"],
        ignore_unknown_columns: false,
    }
}

fn services() -> TableSpec {
    TableSpec {
        name: "services",
        columns: vec![
            req("service", Text),
            col("team", Text),
            col("created_at", Timestamp),
            col("tier", Text),
            col("on_platform", Bool),
        ],
        key: &["service"],
        sort: &["service"],
        ignore_unknown_columns: false,
    }
}

/// The FOCUS 1.0–1.3 cost-and-usage columns northstar keeps (names as FOCUS spells
/// them), after the `x_` columns the importer adds: the line's identity, the import
/// (billing account and period) it belongs to, and where it came from. Enumerations
/// are not constrained here: `northstar check` reports values FOCUS does not allow.
pub fn costs() -> TableSpec {
    let mut columns = vec![
        req("x_line_id", Text),
        req("x_import_id", Text),
        req("x_provider", Text),
        col("x_source_file", Text),
        col("x_source_format", Text),
        col("x_focus_version", Text),
    ];
    columns.extend(FOCUS_COLUMNS.iter().map(|(name, ty)| ColumnSpec {
        required: REQUIRED_FOCUS.contains(name),
        ..col(name, *ty)
    }));
    TableSpec {
        name: "costs",
        columns,
        key: &["x_line_id"],
        sort: &["ChargePeriodStart", "BillingAccountId"],
        ignore_unknown_columns: true,
    }
}

/// FOCUS columns a stored cost line must have: without them a line cannot be
/// placed in time, summed, or told apart from another account's.
pub const REQUIRED_FOCUS: &[&str] = &[
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "BillingAccountId",
    "BillingPeriodStart",
    "ChargePeriodStart",
];

/// The FOCUS columns of the `costs` table and their types, in FOCUS order.
pub const FOCUS_COLUMNS: &[(&str, ColumnType)] = &[
    ("BilledCost", Float),
    ("EffectiveCost", Float),
    ("ListCost", Float),
    ("ContractedCost", Float),
    ("BillingCurrency", Text),
    ("BillingAccountId", Text),
    ("BillingAccountName", Text),
    ("BillingAccountType", Text),
    ("BillingPeriodStart", Timestamp),
    ("BillingPeriodEnd", Timestamp),
    ("ChargePeriodStart", Timestamp),
    ("ChargePeriodEnd", Timestamp),
    ("ChargeCategory", Text),
    ("ChargeClass", Text),
    ("ChargeDescription", Text),
    ("ChargeFrequency", Text),
    ("ProviderName", Text),
    ("PublisherName", Text),
    ("InvoiceIssuerName", Text),
    ("ServiceProviderName", Text),
    ("HostProviderName", Text),
    ("InvoiceId", Text),
    ("SubAccountId", Text),
    ("SubAccountName", Text),
    ("SubAccountType", Text),
    ("RegionId", Text),
    ("RegionName", Text),
    ("AvailabilityZone", Text),
    ("ResourceId", Text),
    ("ResourceName", Text),
    ("ResourceType", Text),
    ("ServiceCategory", Text),
    ("ServiceSubcategory", Text),
    ("ServiceName", Text),
    ("SkuId", Text),
    ("SkuPriceId", Text),
    ("SkuMeter", Text),
    ("PricingCategory", Text),
    ("PricingUnit", Text),
    ("PricingQuantity", Float),
    ("ListUnitPrice", Float),
    ("ContractedUnitPrice", Float),
    ("ConsumedQuantity", Float),
    ("ConsumedUnit", Text),
    ("CommitmentDiscountId", Text),
    ("CommitmentDiscountName", Text),
    ("CommitmentDiscountCategory", Text),
    ("CommitmentDiscountType", Text),
    ("CommitmentDiscountStatus", Text),
    ("CommitmentDiscountQuantity", Float),
    ("CommitmentDiscountUnit", Text),
    ("CapacityReservationId", Text),
    ("CapacityReservationStatus", Text),
    ("PricingCurrency", Text),
    ("PricingCurrencyEffectiveCost", Float),
    ("PricingCurrencyListUnitPrice", Float),
    ("PricingCurrencyContractedUnitPrice", Float),
    ("Tags", Text),
];

/// One row per billing account, provider and billing period: the import whose
/// lines are current. Re-importing a restated period writes a new version of its
/// row, and the engine reads only the lines of the newest one.
pub fn cost_imports() -> TableSpec {
    TableSpec {
        name: "cost_imports",
        columns: vec![
            req("provider", Text),
            req("billing_account_id", Text),
            req("billing_period_start", Timestamp),
            req("import_id", Text),
            req("lines", ColumnType::Int),
            col("files", TextList),
        ],
        key: &["provider", "billing_account_id", "billing_period_start"],
        sort: &["billing_period_start", "provider", "billing_account_id"],
        ignore_unknown_columns: false,
    }
}

/// One row per billing file read (by content hash): its format, FOCUS version, the
/// columns it carried (for the presence checks of `northstar check`) and what the
/// reader normalised on the way in.
pub fn cost_files() -> TableSpec {
    TableSpec {
        name: "cost_files",
        columns: vec![
            req("file_sha256", Text),
            req("file_name", Text),
            req("format", Text),
            col("focus_version", Text),
            col("columns", TextList),
            req("lines", ColumnType::Int),
            req("rejected", ColumnType::Int),
            col("notes", TextList),
        ],
        key: &["file_sha256"],
        sort: &["file_sha256"],
        ignore_unknown_columns: false,
    }
}

/// Rows that could not be imported, with the reason. Readable with `northstar query`.
fn quarantine() -> TableSpec {
    TableSpec {
        name: "quarantine",
        columns: vec![
            req("quarantine_id", Text),
            req("target_table", Text),
            req("source_file", Text),
            req("record", ColumnType::Int),
            col("field", Text),
            req("reason", Text),
            col("raw", Text),
        ],
        key: &["quarantine_id"],
        sort: &["target_table", "source_file", "record"],
        ignore_unknown_columns: false,
    }
}

/// One row per key result per day a `compute` evaluated it: the OKR trend without
/// recomputing history. Computing again the same day replaces the day's row.
pub fn okr_checkins() -> TableSpec {
    TableSpec {
        name: "okr_checkins",
        columns: vec![
            req("okr_id", Text),
            req("kr_id", Text),
            req("date", Timestamp),
            col("value", Float),
            req("n", ColumnType::Int),
        ],
        key: &["okr_id", "kr_id", "date"],
        sort: &["date", "okr_id"],
        ignore_unknown_columns: false,
    }
}

/// One row per service, scorecard rule and day a `compute` evaluated it, with the
/// service's level that day. Computing again the same day replaces the day's rows.
pub fn scorecard_results() -> TableSpec {
    TableSpec {
        name: "scorecard_results",
        columns: vec![
            req("service", Text),
            req("rule_id", Text),
            req("date", Timestamp),
            req("passed", Bool),
            col("value", Float),
            req("level", Text),
        ],
        key: &["service", "rule_id", "date"],
        sort: &["date", "service"],
        ignore_unknown_columns: false,
    }
}

/// Every table the lake holds, in dependency order.
pub fn all_tables() -> Vec<TableSpec> {
    vec![
        services(),
        deployments(),
        commits(),
        deployment_commits(),
        pull_requests(),
        incidents(),
        tickets(),
        ticket_transitions(),
        platform_actions(),
        costs(),
        cost_imports(),
        cost_files(),
        quarantine(),
        okr_checkins(),
        scorecard_results(),
    ]
}

/// The table with this name, or a usage error listing the known ones.
pub fn table(name: &str) -> Result<TableSpec> {
    let tables = all_tables();
    let known = tables.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
    tables
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::UnknownTable(name.to_string(), known))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_column_exists_and_is_required() {
        for t in all_tables() {
            for k in t.key {
                let c = t
                    .column(k)
                    .unwrap_or_else(|| panic!("{}.{k} missing", t.name));
                assert!(c.required, "{}.{k} must be required", t.name);
            }
        }
    }

    #[test]
    fn every_sort_column_exists() {
        for t in all_tables() {
            assert!(!t.sort.is_empty(), "{} has no sort order", t.name);
            for c in t.sort {
                assert!(t.column(c).is_some(), "{}.{c} missing", t.name);
            }
        }
    }

    #[test]
    fn unknown_table_names_the_known_ones() {
        let err = table("deploys").unwrap_err().to_string();
        assert!(
            err.contains("deploys") && err.contains("deployments"),
            "{err}"
        );
    }
}

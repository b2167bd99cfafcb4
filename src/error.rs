//! The library's one error type. Variants are per stage and carry the context a user
//! needs to act on them (file, record, field); `kind()` maps them to exit codes.

use std::path::PathBuf;

/// Convenience alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who has to act on an error: drives the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command line or config is wrong (unknown table, bad flag value): exit 2.
    Usage,
    /// Something failed at run time (bad input file, I/O, the query engine): exit 1.
    Runtime,
}

/// Every failure the library reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A record in an input file could not be read.
    #[error("{file}: line {line}, column `{field}`: {reason}")]
    BadRecord {
        /// The input file.
        file: String,
        /// 1-based line in the file (the CSV header is line 1).
        line: u64,
        /// The column the problem is in.
        field: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// An input file as a whole cannot be used (missing column, unknown format, I/O).
    #[error("{file}: {reason}")]
    BadFile {
        /// The input file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A table name that is not one of the canonical tables.
    #[error("unknown table `{0}` (known: {1})")]
    UnknownTable(String, String),
    /// A configuration problem.
    #[error("config {key}: {reason}")]
    Config {
        /// The key or file at fault.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A dashboard spec (`dashboards/*.toml`) that cannot be rendered as written.
    #[error("{file}: panel `{panel}`, field `{field}`: {reason}")]
    Dashboard {
        /// The spec file.
        file: String,
        /// The panel's id (or `-` for the dashboard's own fields).
        panel: String,
        /// The field at fault.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// `check --strict` found FOCUS conformance violations in the cost data.
    #[error(
        "FOCUS conformance (--strict): {failed} rule(s) failed with {violations} violation(s), first {first}"
    )]
    Conformance {
        /// Rules that failed.
        failed: usize,
        /// Violations over all failed rules.
        violations: i64,
        /// The first failed rule's id.
        first: String,
    },
    /// A bad command-line value.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing the lake failed.
    #[error("lake {path}: {source}")]
    Lake {
        /// The object or folder involved.
        path: String,
        /// The underlying store error.
        #[source]
        source: object_store::Error,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The query engine failed.
    #[error("query {query}: {source}")]
    Query {
        /// The query id (file path under `queries/` without `.sql`) or `adhoc`.
        query: String,
        /// The engine's error.
        #[source]
        source: Box<datafusion::error::DataFusionError>,
    },
    /// A collector could not get what it needs from its source. `reason` never
    /// contains a secret: tokens travel only in headers marked sensitive.
    #[error("source {source_name}: {reason}")]
    Source {
        /// The source's configured name.
        source_name: String,
        /// What went wrong, with the URL or command involved.
        reason: String,
    },
    /// A `bench run` stage failed.
    #[error("bench stage `{stage}`: {reason}")]
    Bench {
        /// The stage (`import commits`, `compute`, ...).
        stage: String,
        /// How it failed and where its log is.
        reason: String,
    },
    /// Arrow or Parquet encoding failed.
    #[error("{context}: {reason}")]
    Encode {
        /// What was being encoded.
        context: String,
        /// The underlying error text.
        reason: String,
    },
}

impl Error {
    /// Whether the user or the run is at fault, for exit codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownTable(..)
            | Error::Config { .. }
            | Error::Dashboard { .. }
            | Error::Usage(_) => ErrorKind::Usage,
            Error::BadRecord { .. }
            | Error::BadFile { .. }
            | Error::Lake { .. }
            | Error::Io { .. }
            | Error::Query { .. }
            | Error::Source { .. }
            | Error::Encode { .. }
            | Error::Bench { .. }
            | Error::Conformance { .. } => ErrorKind::Runtime,
        }
    }

    /// Wraps a DataFusion error with the query it came from.
    pub fn query(query: impl Into<String>, source: datafusion::error::DataFusionError) -> Self {
        Error::Query {
            query: query.into(),
            source: Box::new(source),
        }
    }

    /// A collector failure of the named source.
    pub fn collector(source_name: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Source {
            source_name: source_name.into(),
            reason: reason.to_string(),
        }
    }

    /// Wraps an encoding error (Arrow, Parquet, JSON) with what was being encoded.
    pub fn encode(context: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Encode {
            context: context.into(),
            reason: reason.to_string(),
        }
    }
}

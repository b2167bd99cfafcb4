//! Custom metrics: `.sql` files a user drops into a folder (`[queries] custom_dir`,
//! default `queries/custom` next to the config file), read at run time.
//!
//! A file starts with header comments (read as the built-in queries' are,
//! [`super::header`]):
//!
//! ```sql
//! -- name: deploys_per_service
//! -- unit: deployments
//! -- description: Successful production deployments per service.
//! -- parameters: $from, $to, $scope, $grain
//! ```
//!
//! and is run like the built-in metric queries (`$from`, `$to`, `$scope`, `$grain`,
//! `$lead_time_start` bound; it should return `scope_key` and `n`). Its id is
//! `custom/<name>`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One custom metric file.
#[derive(Debug, Clone)]
pub struct CustomMetric {
    /// `-- name:` (else the file stem).
    pub name: String,
    /// `-- unit:`.
    pub unit: String,
    /// `-- description:`.
    pub description: String,
    /// `-- parameters:`, as written.
    pub parameters: String,
    /// The file's text.
    pub sql: String,
    /// Where it was read from.
    pub path: PathBuf,
}

impl CustomMetric {
    /// Its query id, `custom/<name>`.
    pub fn id(&self) -> String {
        format!("custom/{}", self.name)
    }
}

/// Reads every `*.sql` file of `dir`, by file name; a missing folder holds none.
pub fn load_dir(dir: &Path) -> Result<Vec<CustomMetric>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    paths.sort();
    let mut metrics: Vec<CustomMetric> = Vec::new();
    for path in paths {
        let sql = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let metric = parse(&path, sql)?;
        if metrics.iter().any(|m| m.name == metric.name) {
            return Err(Error::Config {
                key: path.display().to_string(),
                reason: format!("a second custom metric named `{}`", metric.name),
            });
        }
        metrics.push(metric);
    }
    Ok(metrics)
}

fn parse(path: &Path, sql: String) -> Result<CustomMetric> {
    let lines = super::header::parse_comments(&sql);
    let header = |key: &str| lines.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = header("name").unwrap_or(stem);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::Config {
            key: path.display().to_string(),
            reason: format!("custom metric name `{name}`: use a-z, 0-9 and _"),
        });
    }
    Ok(CustomMetric {
        name,
        unit: header("unit").unwrap_or_default(),
        description: header("description").unwrap_or_default(),
        parameters: header("parameters").unwrap_or_default(),
        path: path.to_path_buf(),
        sql,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_up_to_the_first_sql_line() {
        let sql = "-- name: x_rate\n-- unit: fraction\n-- description: A rate.\n\
                   -- parameters: $from, $to\nSELECT 1\n-- unit: not a header\n";
        let m = parse(Path::new("q/other.sql"), sql.to_string()).unwrap();
        assert_eq!(m.name, "x_rate");
        assert_eq!(m.unit, "fraction");
        assert_eq!(m.description, "A rate.");
        assert_eq!(m.parameters, "$from, $to");
        assert_eq!(m.id(), "custom/x_rate");
        let unnamed = parse(Path::new("q/by_stem.sql"), "SELECT 1".into()).unwrap();
        assert_eq!(unnamed.name, "by_stem");
        assert!(parse(Path::new("q/Bad-Name.sql"), "SELECT 1".into()).is_err());
    }
}

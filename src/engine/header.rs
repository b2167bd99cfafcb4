//! The header of a `.sql` file: the `-- key: value` lines of its leading comment
//! block, which is all the registry knows of a query (name, unit, grains, scopes,
//! description, ...).
//!
//! ```sql
//! -- name: rework_rate
//! -- unit: fraction
//! -- grains: window, week, month, quarter
//! -- scopes: org, team, service
//! -- description: Share of deployments that were unplanned rework.
//! SELECT ...
//! ```
//!
//! `build.rs` reads the built-in queries with this same file (it includes it with
//! `#[path]`), and [`super::custom`] reads custom metrics with it at run time, so
//! both agree on what a header is. It therefore uses nothing but `std`.

/// The `(key, value)` pairs of `sql`'s header, in file order: the lines
/// `-- key: value` the file starts with, where `key` is lower-case letters, digits
/// and `_`. The header ends at the first other line, so prose comments after it
/// (`-- budget: ...`) are not read as keys. A key may repeat (`gauge`).
pub fn parse(sql: &str) -> Vec<(String, String)> {
    sql.lines().map_while(key_line).collect()
}

/// Like [`parse`], but reading every `-- key: value` line of the whole leading
/// comment block, prose lines between them skipped: how custom metric files have
/// always been read.
pub fn parse_comments(sql: &str) -> Vec<(String, String)> {
    sql.lines()
        .take_while(|line| line.trim().starts_with("--"))
        .filter_map(key_line)
        .collect()
}

fn key_line(line: &str) -> Option<(String, String)> {
    let (key, value) = line.trim().strip_prefix("--")?.trim().split_once(':')?;
    let key_ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    key_ok.then(|| (key.to_string(), value.trim().to_string()))
}

/// The items of a comma-separated header value (`window, week, month`).
pub fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

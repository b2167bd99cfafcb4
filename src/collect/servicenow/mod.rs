//! ServiceNow (`kind = "servicenow"`): the `incident` table as `incidents` rows and
//! a request table (`request_table`, default `sc_req_item`) as `tickets` rows,
//! through the Table API.
//!
//! Each table is read by `sys_updated_on` from its watermark (minus the overlap):
//! `sysparm_query=sys_updated_on>=… ^ORDERBYsys_updated_on^ORDERBYsys_id` (`sys_id`
//! makes the order total, so offset pages do not shuffle ties), with raw values and
//! UTC times (`sysparm_display_value=false`). A record that changes comes back by
//! itself through that window: nothing is polled by id. Pages follow the `Link`
//! header's `rel="next"` when the instance sends one, else `sysparm_offset`; a page
//! shorter than `sysparm_limit` is the last.
//!
//! A record updated while a table is paged moves to the end of the order, and the
//! offset of every later record drops by one: the next page then skips one. That
//! only happens to a record already read, which is therefore met twice; the table
//! is then read again from that record's earlier `sys_updated_on`, at most
//! [`MAX_PASSES`] times in all, after which the watermark stops there for the next
//! run.
//!
//! No `ticket_transitions`: the Table API keeps no status history outside
//! `sys_audit`, which is not read.

pub mod map;

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use url::Url;

use super::SourceRun;
use super::http::{Auth, HttpClient};
use super::rest::{self, RestApi};
use super::service_desk::ServiceDesk;
use super::ticket_rules::TicketRules;
use crate::config::{ServicenowSource, SourceConfig};
use crate::error::{Error, Result};
use map::{Mapper, Record};

/// The incident table.
const INCIDENT_TABLE: &str = "incident";

/// The request table read when `request_table` is not set: requested items.
pub const DEFAULT_REQUEST_TABLE: &str = "sc_req_item";

/// Reads of one table per run, when records keep changing under the pager.
pub const MAX_PASSES: u32 = 3;

/// Basic auth with `user_env` and the password in `token_env`; with only
/// `token_env`, an OAuth bearer token.
fn auth(source: &SourceConfig, servicenow: &ServicenowSource) -> Result<Option<Auth>> {
    let bad = |key: &str, reason: String| Error::Config {
        key: format!("sources.{}.{key}", source.name),
        reason,
    };
    match (&servicenow.user_env, &source.token_env) {
        (Some(user_var), Some(password_var)) => {
            let user = std::env::var(user_var).map_err(|_| {
                bad(
                    "user_env",
                    format!("environment variable {user_var} is not set"),
                )
            })?;
            let password = source.token()?.unwrap_or_default();
            let secret = BASE64.encode(format!("{user}:{password}"));
            Ok(Some(Auth::new(
                &source.name,
                password_var,
                "authorization",
                "Basic ",
                &secret,
            )?))
        }
        (Some(_), None) => Err(bad(
            "token_env",
            "Basic auth needs the password too: set token_env".into(),
        )),
        (None, _) => rest::token_auth(source, "authorization", "Bearer "),
    }
}

/// The request table's name, checked: it becomes a URL path segment.
fn request_table(source: &str, servicenow: &ServicenowSource) -> Result<String> {
    let table = servicenow
        .request_table
        .clone()
        .unwrap_or_else(|| DEFAULT_REQUEST_TABLE.to_string());
    if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Config {
            key: format!("sources.{source}.request_table"),
            reason: format!("`{table}` is not a table name (letters, digits and `_`)"),
        });
    }
    Ok(table)
}

#[derive(Debug, Deserialize)]
struct TablePage {
    #[serde(default)]
    result: Vec<Map<String, Json>>,
}

/// What one pass over a table read.
struct Read {
    records: Vec<Record>,
    /// Set when a record was met twice: where to read again from, the earliest
    /// `sys_updated_on` such a record had when first met (`Some(None)`: from the
    /// start).
    again_from: Option<Option<DateTime<Utc>>>,
}

/// Which rows a table's records become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    Incidents,
    Tickets,
}

/// Collects the incident table, then the request table; returns the client for its
/// counters.
pub async fn collect(run: &mut SourceRun<'_>, servicenow: &ServicenowSource) -> Result<HttpClient> {
    let source = run.source;
    let requests = request_table(&source.name, servicenow)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    let http = rest::client(run, auth(source, servicenow)?, headers)?;
    // `api_url` is required for this kind (config validation): no default is used.
    let api = RestApi::new(source, http.clone(), "https://instance.service-now.com")?;
    let rules = TicketRules::new(source);
    let mapper = Mapper {
        source: &source.name,
        rules: &rules,
    };
    let incident_fields = map::incident_fields(rules.mapping());
    table(
        &api,
        run,
        &mapper,
        INCIDENT_TABLE,
        &incident_fields,
        Rows::Incidents,
    )
    .await?;
    let request_fields = map::request_fields(rules.mapping());
    table(
        &api,
        run,
        &mapper,
        &requests,
        &request_fields,
        Rows::Tickets,
    )
    .await?;
    Ok(http)
}

/// Reads one table's window (again, if records moved), maps, and commits.
async fn table(
    api: &RestApi,
    run: &mut SourceRun<'_>,
    mapper: &Mapper<'_>,
    name: &str,
    fields: &str,
    rows: Rows,
) -> Result<()> {
    let mut since = run.state.since(
        name,
        run.source.http.overlap_minutes,
        run.first_run_start()?,
    );
    // By sys_id; a later read of a record replaces an earlier one.
    let mut records: BTreeMap<String, Record> = BTreeMap::new();
    let mut complete = false;
    for pass in 1..=MAX_PASSES {
        let read = read(api, run, name, fields, since).await?;
        for r in read.records {
            if let Some(id) = r.sys_id() {
                records.insert(id, r);
            }
        }
        match read.again_from {
            None => {
                complete = true;
                break;
            }
            Some(from) => {
                tracing::debug!(source = %run.source.name, table = name, pass, "Records changed while paging; reading again from the earliest of them.");
                since = from;
            }
        }
    }
    if !complete {
        tracing::warn!(source = %run.source.name, table = name, "Records kept changing while the table was read {MAX_PASSES} times; the next run reads again from the earliest of them.");
    }
    let newest = records.values().filter_map(Record::updated).max();
    let mut desk = ServiceDesk::default();
    for r in records.values() {
        let mapped = match rows {
            Rows::Incidents => mapper.incident(r).map(|i| desk.incidents.push(i)),
            Rows::Tickets => mapper.ticket(name, r).map(|t| desk.tickets.push(t)),
        };
        if mapped.is_none() {
            tracing::warn!(source = %run.source.name, table = name, sys_id = r.sys_id().unwrap_or_default(), "Record without a number or an opened time; skipped.");
        }
    }
    run.state
        .advance(name, if complete { newest } else { since });
    run.commit(desk).await
}

/// One pass over `table` from `since`, every page.
async fn read(
    api: &RestApi,
    run: &SourceRun<'_>,
    table: &str,
    fields: &str,
    since: Option<DateTime<Utc>>,
) -> Result<Read> {
    let limit = api.http.per_page();
    let mut order = "ORDERBYsys_updated_on^ORDERBYsys_id".to_string();
    if let Some(s) = since {
        order = format!("sys_updated_on>={}^{order}", s.format("%Y-%m-%d %H:%M:%S"));
    }
    let page_url = |offset: usize| -> Result<Url> {
        api.url(
            &format!("api/now/table/{table}"),
            &[
                ("sysparm_query", order.clone()),
                ("sysparm_fields", fields.to_string()),
                ("sysparm_display_value", "false".into()),
                ("sysparm_exclude_reference_link", "true".into()),
                ("sysparm_limit", limit.to_string()),
                ("sysparm_offset", offset.to_string()),
            ],
        )
    };
    let mut first_seen: HashMap<String, Option<DateTime<Utc>>> = HashMap::new();
    let mut again_from: Option<Option<DateTime<Utc>>> = None;
    let mut records = Vec::new();
    let mut offset = 0usize;
    let mut next = Some(page_url(0)?);
    while let Some(url) = next {
        let (page, link): (TablePage, _) = api.http.get_json(&url).await?;
        let n = page.result.len();
        run.progress.read(table, n);
        for r in page.result.into_iter().map(Record) {
            let Some(id) = r.sys_id() else { continue };
            match first_seen.get(&id) {
                Some(earlier) => {
                    let from = earlier.or(since);
                    again_from = Some(match again_from {
                        Some(Some(prev)) => from.map(|f| f.min(prev)),
                        Some(None) => None,
                        None => from,
                    });
                }
                None => {
                    first_seen.insert(id, r.updated());
                }
            }
            records.push(r);
        }
        offset += n;
        next = if n < limit as usize {
            None
        } else {
            match link {
                Some(link) => Some(link),
                None => Some(page_url(offset)?),
            }
        };
    }
    Ok(Read {
        records,
        again_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn source(extra: &str) -> SourceConfig {
        let text = format!(
            "[[sources]]\nkind='servicenow'\nname='sn'\napi_url='https://x.service-now.com'\n{extra}"
        );
        Config::parse(&text, "t").expect("config").sources.remove(0)
    }

    fn settings(s: &SourceConfig) -> &ServicenowSource {
        match &s.kind {
            crate::config::SourceKind::Servicenow(sn) => sn,
            other => panic!("not servicenow: {}", other.name()),
        }
    }

    fn request_table_of(s: &SourceConfig) -> Result<String> {
        request_table(&s.name, settings(s))
    }

    fn auth_of(s: &SourceConfig) -> Result<Option<Auth>> {
        auth(s, settings(s))
    }

    #[test]
    fn the_request_table_must_be_a_plain_name() {
        assert_eq!(
            request_table_of(&source("")).ok().as_deref(),
            Some("sc_req_item")
        );
        assert_eq!(
            request_table_of(&source("request_table='u_infra_request'"))
                .ok()
                .as_deref(),
            Some("u_infra_request")
        );
        assert!(request_table_of(&source("request_table='../sys_user'")).is_err());
    }

    #[test]
    fn basic_auth_needs_the_password_variable() {
        let err =
            auth_of(&source("user_env='NORTHSTAR_TEST_SN_SURELY_UNSET'")).expect_err("no password");
        assert!(err.to_string().contains("token_env"), "{err}");
        let err = auth_of(&source(
            "user_env='NORTHSTAR_TEST_SN_SURELY_UNSET'\ntoken_env='NORTHSTAR_TEST_SN_PW_UNSET'",
        ))
        .expect_err("unset user");
        assert!(
            err.to_string()
                .contains("NORTHSTAR_TEST_SN_SURELY_UNSET is not set"),
            "{err}"
        );
        assert!(auth_of(&source("")).expect("anonymous").is_none());
    }
}

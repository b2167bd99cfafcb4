//! Panel data: rows from a query or from `metrics.json`, joined, filtered and
//! scoped to the caller's role, then drawn.

use datafusion::scalar::ScalarValue;
use serde_json::Value as Json;

use super::figure::{self, Row};
use super::path::{MetricsPath, key_column};
use super::spec::{Kind, Panel};
use super::{Dashboard, Rendered, RenderedPanel, Sources};
use crate::error::Result;
use crate::report::access::Access;
use crate::report::chart::{self, Figure};
use crate::report::json::rows;
use crate::window::params_for;

/// Draws every panel; see [`super::render`].
pub async fn render(
    dashboard: &Dashboard,
    sources: &Sources<'_>,
    access: &Access,
) -> Result<Rendered> {
    let metrics = access.scope_metrics(sources.metrics, sources.owners);
    let mut panels = Vec::with_capacity(dashboard.panels.len());
    for panel in &dashboard.panels {
        let (figure, rows) = match panel_rows(panel, sources, &metrics, access).await {
            Ok(Some(rows)) => (figure::build(panel, &rows, &metrics), rows),
            Ok(None) => (
                Figure::Empty(format!("no data yet: {} has nothing", source(panel))),
                Vec::new(),
            ),
            Err(e) => {
                tracing::warn!(dashboard = %dashboard.name, panel = %panel.id, error = %e, "Panel data failed.");
                (Figure::Empty(format!("unavailable: {e}")), Vec::new())
            }
        };
        let rows = if panel.kind == Kind::Kpi {
            figure::tile_rows(&figure)
        } else {
            rows
        };
        let size = figure::size(panel, dashboard.columns, &figure);
        let svg = chart::render_svg(&figure, size)?;
        panels.push(RenderedPanel {
            id: panel.id.clone(),
            title: panel.title.clone(),
            kind: panel.kind.as_str().to_string(),
            // Tiles carry their own n; a sum over different metrics means nothing.
            n: (panel.kind != Kind::Kpi)
                .then(|| figure::sample_size(panel, &rows))
                .flatten(),
            figure,
            rows,
            svg,
            source: source(panel),
            width: panel.width,
            size,
        });
    }
    Ok(Rendered {
        dashboard: dashboard.clone(),
        panels,
        window: sources.window,
        access: access.clone(),
    })
}

/// Where a panel's data comes from, for the page and for messages.
fn source(panel: &Panel) -> String {
    match (&panel.query, &panel.metrics) {
        (Some(q), _) => format!("query {q}"),
        (None, Some(m)) => format!("metrics.json {m}"),
        (None, None) => "metrics.json".into(),
    }
}

/// The panel's rows (`None`: the metrics path is not in the document yet).
async fn panel_rows(
    panel: &Panel,
    sources: &Sources<'_>,
    metrics: &Json,
    access: &Access,
) -> Result<Option<Vec<Row>>> {
    let found = if let Some(id) = &panel.query {
        let batches = sources
            .engine
            .run_query(id, &query_params(panel, sources))
            .await?;
        let scope = panel
            .params
            .get("scope")
            .and_then(toml::Value::as_str)
            .unwrap_or("org");
        Some(access.scope_query_rows(rows(&batches)?, scope, sources.owners))
    } else if let Some(path) = &panel.metrics {
        metrics_rows(panel, path, metrics)
    } else {
        Some(Vec::new())
    };
    Ok(found.map(|rows| figure::filter(rows, panel)))
}

fn metrics_rows(panel: &Panel, path: &str, metrics: &Json) -> Option<Vec<Row>> {
    let mut rows = MetricsPath::parse(path)
        .ok()?
        .rows(metrics, &panel.key_as)?;
    if let Some(join) = &panel.join {
        let others = MetricsPath::parse(&join.metrics)
            .ok()
            .and_then(|p| p.rows(metrics, &join.key_as))
            .unwrap_or_default();
        let keys: Vec<String> = (0..panel.key_as.len().max(1))
            .map(|i| key_column(&panel.key_as, i))
            .collect();
        for row in &mut rows {
            let matching = others
                .iter()
                .find(|o| keys.iter().all(|k| o.get(k) == row.get(k)));
            for (column, value) in matching.into_iter().flatten() {
                if !keys.contains(column) {
                    row.insert(format!("{}.{column}", join.prefix), value.clone());
                }
            }
        }
    }
    Some(rows)
}

/// `params_for` with the panel's `scope` and `grain`, then its other parameters.
fn query_params(panel: &Panel, sources: &Sources<'_>) -> crate::engine::Params {
    let text = |name: &str, default: &str| {
        panel
            .params
            .get(name)
            .and_then(toml::Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let mut params = params_for(
        sources.window,
        sources.config,
        &text("scope", "org"),
        &text("grain", "window"),
    );
    for (name, value) in &panel.params {
        let scalar = match value {
            toml::Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
            toml::Value::Integer(i) => ScalarValue::Int64(Some(*i)),
            toml::Value::Float(f) => ScalarValue::Float64(Some(*f)),
            toml::Value::Boolean(b) => ScalarValue::Boolean(Some(*b)),
            other => ScalarValue::Utf8(Some(other.to_string())),
        };
        params.insert(name.clone(), scalar);
    }
    params
}

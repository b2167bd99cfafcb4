//! The dashboard page: one self-contained HTML file (inline SVG and CSS, no
//! scripts, fonts or links to anything outside it), so it opens from `file://`,
//! offline, attached to an email, and prints; plus the per-panel files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use serde_json::{Map, Value as Json};

use super::{Rendered, RenderedPanel};
use crate::atomic_file;
use crate::error::{Error, Result};
use crate::report::chart::{self, Figure};

/// How the page links to the other dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// Files side by side: `../<name>/index.html`, and each panel's files.
    Files,
    /// The live server: `/dashboards/<name>`.
    Live,
}

/// The navigation of a page.
#[derive(Debug, Clone)]
pub struct PageLinks {
    /// File or server links.
    pub style: LinkStyle,
    /// Every dashboard as (name, title), in menu order.
    pub dashboards: Vec<(String, String)>,
}

/// Scale of the PNG files: sharp on high-density screens and in slides.
const PNG_SCALE: u32 = 2;

const STYLE: &str = include_str!("page.css");

/// The page.
pub fn page(rendered: &Rendered, links: &PageLinks) -> String {
    let d = &rendered.dashboard;
    let mut out = String::with_capacity(64 * 1024);
    let last_day = rendered.window.to - Duration::days(1);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · northstar</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <style>\n{STYLE}</style>\n</head>\n<body class=\"{class}\">\n<header>\n\
         <p class=\"brand\">northstar</p>\n<h1>{title}</h1>\n<p class=\"desc\">{desc}</p>\n\
         <p class=\"meta\">{from} – {to} · generated {now} · view: {role}</p>\n",
        title = escape(&d.title),
        class = if d.one_page { "one-page" } else { "" },
        desc = escape(&d.description),
        from = rendered.window.from.format("%-d %b %Y"),
        to = last_day.format("%-d %b %Y"),
        now = Utc::now().format("%-d %b %Y %H:%M UTC"),
        role = escape(&rendered.access.label()),
    );
    out.push_str(&nav(&d.name, links));
    let _ = write!(
        out,
        "</header>\n<main class=\"grid\" style=\"--columns:{}\">\n",
        d.columns
    );
    for panel in &rendered.panels {
        out.push_str(&section(panel, links.style));
    }
    out.push_str(
        "</main>\n<footer>Every figure carries its sample size (n). Definitions: \
         docs/metrics.md. Data: the JSON and CSV beside each chart.</footer>\n</body>\n</html>\n",
    );
    out
}

fn nav(current: &str, links: &PageLinks) -> String {
    let mut out = String::from("<nav>");
    for (name, title) in &links.dashboards {
        let href = match links.style {
            LinkStyle::Files => format!("../{name}/index.html"),
            LinkStyle::Live => format!("/dashboards/{name}"),
        };
        let here = if name == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<a href=\"{}\"{here}>{}</a>",
            escape(&href),
            escape(title)
        );
    }
    out.push_str("</nav>\n");
    out
}

fn section(panel: &RenderedPanel, style: LinkStyle) -> String {
    let id = escape(&panel.id);
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"panel\" id=\"panel-{id}\" style=\"--span:{span}\" data-kind=\"{kind}\" \
         data-points=\"{points}\">\n<h2>{title}</h2>\n<figure>{svg}</figure>\n",
        span = panel.width,
        kind = escape(&panel.kind),
        points = panel.figure.data_points(),
        title = escape(&panel.title),
        svg = inline_svg(&panel.svg, &panel.title),
    );
    if let Figure::Empty(message) = &panel.figure {
        let _ = writeln!(out, "<p class=\"empty\">{}</p>", escape(message));
    }
    let n = panel
        .n
        .map(|n| format!("n = {} · ", thousands(n)))
        .unwrap_or_default();
    let files = match style {
        LinkStyle::Files => format!(
            " · <a href=\"{id}.png\">PNG</a> <a href=\"{id}.svg\">SVG</a> \
             <a href=\"{id}.json\">JSON</a> <a href=\"{id}.csv\">CSV</a>"
        ),
        LinkStyle::Live => String::new(),
    };
    let _ = write!(
        out,
        "<p class=\"foot\">{n}{source}{files}</p>\n</section>\n",
        source = escape(&panel.source),
    );
    out
}

/// The SVG inside the page: no XML prolog, scaled to its box, titled for screen
/// readers.
fn inline_svg(svg: &str, title: &str) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    let body = &svg[start..];
    match body.find('>') {
        Some(end) => format!(
            "{} role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\">{}",
            &body[..end],
            escape(title),
            &body[end + 1..]
        ),
        None => body.to_string(),
    }
}

/// `12345` → `12,345`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the page and every panel's SVG, PNG, JSON and CSV.
pub fn write(rendered: &Rendered, out: &Path, links: &PageLinks) -> Result<PathBuf> {
    let dir = out.join(&rendered.dashboard.name);
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    for panel in &rendered.panels {
        let file = |ext: &str| dir.join(format!("{}.{ext}", panel.id));
        atomic_file::write(&file("svg"), panel.svg.as_bytes())?;
        let png = chart::render_png(&panel.figure, panel.size, PNG_SCALE)?;
        atomic_file::write(&file("png"), &png)?;
        let json = serde_json::to_vec_pretty(&panel.rows)
            .map_err(|e| Error::encode(format!("{} panel data", panel.id), e))?;
        atomic_file::write(&file("json"), &json)?;
        atomic_file::write(&file("csv"), &csv_text(&panel.rows)?)?;
    }
    let index = dir.join("index.html");
    atomic_file::write(&index, page(rendered, links).as_bytes())?;
    Ok(index)
}

/// Rows as CSV: every column any row has, in order of first appearance; nested
/// values as JSON text, nulls empty.
pub fn csv_text(rows: &[Map<String, Json>]) -> Result<Vec<u8>> {
    let mut columns: Vec<&String> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.contains(&key) {
                columns.push(key);
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::encode("panel csv", e);
    writer.write_record(&columns).map_err(fail)?;
    for row in rows {
        let cells = columns.iter().map(|c| match row.get(*c) {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        writer.write_record(cells).map_err(fail)?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::encode("panel csv", e.error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_escaped_and_numbers_grouped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(thousands(29272), "29,272");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn csv_has_every_column_once() {
        let rows: Vec<Map<String, Json>> = [
            json!({"team": "a", "v": 1.5}),
            json!({"team": "b, c", "w": null, "tags": {"x": 1}}),
        ]
        .into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
        let text = String::from_utf8(csv_text(&rows).expect("csv")).expect("utf-8");
        // Keys of a row come sorted, so `tags` precedes `w`.
        assert_eq!(
            text,
            "team,v,tags,w\na,1.5,,\n\"b, c\",,\"{\"\"x\"\":1}\",\n"
        );
    }

    #[test]
    fn inline_svg_gets_a_label_and_loses_the_prolog() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"5\" xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>";
        let inline = inline_svg(svg, "A & B");
        assert!(inline.starts_with("<svg width=\"10\""));
        assert!(inline.contains("aria-label=\"A &amp; B\""));
        assert!(inline.ends_with("<rect/></svg>"));
    }
}

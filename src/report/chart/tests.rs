//! Whole-figure tests: SVG snapshots, PNG sanity for every kind, determinism,
//! error cases and `data_points`.
//!
//! Snapshots live in `tests/snapshots/chart_*.svg`; run with `UPDATE_SNAPSHOTS=1`
//! to rewrite them after an intended change. With `CHART_PREVIEW_DIR=/some/dir`
//! the PNG test also writes every figure there for a look.

use std::path::PathBuf;

use super::*;

fn series(name: &str, values: &[Option<f64>], dashed: bool) -> Series {
    Series {
        name: name.to_string(),
        values: values.to_vec(),
        dashed,
    }
}

fn months(n: usize) -> Vec<String> {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    (0..n).map(|i| format!("{} 25", NAMES[i % 12])).collect()
}

fn band(label: &str, from: Option<f64>, to: Option<f64>) -> Band {
    Band {
        label: label.to_string(),
        from,
        to,
    }
}

/// Lead time in hours with DORA-like bands, a gap, and a dashed forecast.
fn line_figure() -> Figure {
    Figure::Line(Xy {
        unit: Unit::Hours,
        categories: months(6),
        series: vec![
            series(
                "lead time",
                &[
                    Some(30.0),
                    Some(26.5),
                    None,
                    Some(20.7),
                    Some(18.0),
                    Some(f64::NAN),
                ],
                false,
            ),
            series(
                "forecast",
                &[None, None, None, Some(20.7), Some(17.0), Some(14.5)],
                true,
            ),
        ],
        bands: vec![
            band("elite", None, Some(24.0)),
            band("high", Some(24.0), Some(168.0)),
            band("medium", Some(168.0), Some(720.0)),
            band("low", Some(720.0), None),
        ],
    })
}

/// Cost per team per month.
fn stacked_figure() -> Figure {
    Figure::StackedBar(Xy {
        unit: Unit::Currency("USD".into()),
        categories: months(4),
        series: vec![
            series(
                "platform",
                &[
                    Some(120_000.0),
                    Some(135_000.0),
                    Some(128_000.0),
                    Some(150_000.0),
                ],
                false,
            ),
            series(
                "payments",
                &[Some(80_000.0), Some(76_000.0), None, Some(91_000.0)],
                false,
            ),
            series(
                "search",
                &[
                    Some(40_000.0),
                    Some(52_000.0),
                    Some(61_000.0),
                    Some(58_500.0),
                ],
                false,
            ),
        ],
        bands: vec![],
    })
}

fn bar_figure() -> Figure {
    Figure::Bar(Xy {
        unit: Unit::PerDay,
        categories: vec![
            "platform".into(),
            "payments".into(),
            "search-and-discovery".into(),
        ],
        series: vec![
            series("this quarter", &[Some(4.2), Some(1.5), Some(0.4)], false),
            series("last quarter", &[Some(3.1), Some(1.9), None], false),
        ],
        bands: vec![],
    })
}

fn single_bar_figure() -> Figure {
    Figure::Bar(Xy {
        unit: Unit::Count,
        categories: months(5),
        series: vec![series(
            "incidents",
            &[Some(3.0), Some(7.0), Some(1250.0), Some(0.0), Some(12.0)],
            false,
        )],
        bands: vec![],
    })
}

fn sparkline_figure() -> Figure {
    Figure::Sparkline(Xy {
        unit: Unit::Count,
        categories: months(8),
        series: vec![series(
            "deploys",
            &[
                Some(3.0),
                Some(5.0),
                Some(4.0),
                None,
                Some(8.0),
                Some(6.0),
                Some(9.0),
                Some(11.0),
            ],
            false,
        )],
        bands: vec![],
    })
}

fn kpi_figure() -> Figure {
    let tile = |label: &str, value: Option<f64>, unit: Unit, badge: Option<&str>| Tile {
        label: label.to_string(),
        value,
        unit,
        badge: badge.map(str::to_string),
        n: value.map(|_| 42),
        trend: vec![
            Some(30.0),
            Some(28.0),
            None,
            Some(24.0),
            Some(22.5),
            Some(20.7),
        ],
    };
    Figure::Kpi(vec![
        tile(
            "Lead time for changes",
            Some(20.7),
            Unit::Hours,
            Some("elite"),
        ),
        tile(
            "Deployment frequency",
            Some(1.4),
            Unit::PerDay,
            Some("high"),
        ),
        tile(
            "Change failure rate",
            Some(0.184),
            Unit::Ratio,
            Some("medium"),
        ),
        tile("Time to restore", None, Unit::Hours, None),
    ])
}

fn progress_figure() -> Figure {
    let row = |label: &str, progress: Option<f64>, expected: f64, status: &str| ProgressRow {
        label: label.to_string(),
        progress,
        expected: Some(expected),
        status: Some(status.to_string()),
    };
    Figure::Progress(vec![
        row("Lead time under one day", Some(0.82), 0.6, "on_track"),
        row("Cloud cost −10%", Some(0.35), 0.6, "at_risk"),
        row(
            "Change failure rate under 10% for every team",
            Some(0.1),
            0.6,
            "off_track",
        ),
        row("Budget used", Some(1.12), 0.6, "over"),
        row("Adopt the new pipeline", None, 0.3, "unknown"),
    ])
}

fn table_figure() -> Figure {
    let rows = (0..14)
        .map(|i| {
            vec![
                format!("2025-11-{:02}", i + 1),
                if i == 2 {
                    "a-team-with-a-really-long-name-that-will-not-fit".into()
                } else {
                    format!("team-{i}")
                },
                format_value(1200.0 * f64::from(i + 1), &Unit::Currency("USD".into())),
                format!("{:.1}σ", 2.0 + f64::from(i) / 10.0),
            ]
        })
        .collect();
    Figure::Table(TableData {
        columns: vec!["day".into(), "team".into(), "cost".into(), "z".into()],
        rows,
    })
}

/// One figure of every kind, named for file output.
fn every_kind() -> Vec<(&'static str, Figure)> {
    vec![
        ("line", line_figure()),
        ("bar", bar_figure()),
        ("bar_single", single_bar_figure()),
        ("stacked", stacked_figure()),
        ("sparkline", sparkline_figure()),
        ("kpi", kpi_figure()),
        ("progress", progress_figure()),
        ("table", table_figure()),
        ("empty", Figure::Empty("no data yet".into())),
    ]
}

const SMALL: Size = Size {
    width: 320,
    height: 200,
};

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.svg"))
}

/// Compares `actual` with the stored snapshot (or rewrites it under `UPDATE_SNAPSHOTS=1`).
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create snapshot dir");
        }
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} unreadable ({e}); create it with UPDATE_SNAPSHOTS=1 cargo test --lib report::chart",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let (line, want, got) = first_difference(&expected, actual);
    panic!(
        "snapshot {} differs at line {line}:\n  expected: {want}\n  actual:   {got}\n\
         ({} vs {} lines). If the change is intended, rerun with UPDATE_SNAPSHOTS=1.",
        path.display(),
        expected.lines().count(),
        actual.lines().count(),
    );
}

/// The first line (1-based) where two texts differ, with both versions.
fn first_difference<'a>(expected: &'a str, actual: &'a str) -> (usize, &'a str, &'a str) {
    let mut want = expected.lines();
    let mut got = actual.lines();
    let mut line = 1;
    loop {
        match (want.next(), got.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (a, b) => {
                return (
                    line,
                    a.unwrap_or("<end of file>"),
                    b.unwrap_or("<end of file>"),
                );
            }
        }
    }
}

#[test]
fn line_chart_svg_matches_snapshot() {
    let svg = render_svg(
        &line_figure(),
        Size {
            width: 480,
            height: 240,
        },
    )
    .expect("renders");
    assert_snapshot("chart_line", &svg);
}

#[test]
fn stacked_chart_svg_matches_snapshot() {
    let svg = render_svg(
        &stacked_figure(),
        Size {
            width: 480,
            height: 240,
        },
    )
    .expect("renders");
    assert_snapshot("chart_stacked", &svg);
}

#[test]
fn svg_has_data_marks_and_is_deterministic() {
    for (name, figure) in every_kind() {
        let first = render_svg(&figure, SMALL).expect("renders");
        let second = render_svg(&figure, SMALL).expect("renders");
        assert_eq!(first, second, "{name}: output differs between runs");
        assert!(first.starts_with("<svg"), "{name}: not an svg document");
        let marks = ["<circle", "<polyline", "<rect"]
            .iter()
            .filter(|m| first.contains(*m))
            .count();
        // Every figure has the background rect; data adds lines, circles or more rects.
        let rects = first.matches("<rect").count();
        assert!(
            marks >= 2 || rects >= 2 || name == "empty",
            "{name}: no data marks"
        );
        assert!(
            first.contains("<text") || name == "sparkline",
            "{name}: no text"
        );
    }
}

#[test]
fn dashed_series_and_bands_are_drawn() {
    let svg = render_svg(
        &line_figure(),
        Size {
            width: 480,
            height: 240,
        },
    )
    .expect("renders");
    // The forecast is cut into many short dashes; the solid line is a couple of runs.
    assert!(svg.matches("<polyline").count() > 10, "no dashes");
    let has_text = |t: &str| svg.contains(&format!(">\n{t}\n</text>"));
    assert!(has_text("elite") && has_text("high"), "band labels missing");
    // Far-away tiers (medium starts at 168 h) stay off the scale.
    assert!(!has_text("medium"), "medium band should be off-scale");
}

/// Decodes a PNG, returning (width, height, RGB pixels).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, pixels)
}

#[test]
fn every_kind_renders_a_non_blank_png_at_scale_1_and_2() {
    let preview = std::env::var_os("CHART_PREVIEW_DIR").map(PathBuf::from);
    for (name, figure) in every_kind() {
        for scale in [1, 2] {
            let bytes = render_png(&figure, SMALL, scale).expect("renders");
            let (w, h, pixels) = decode(&bytes);
            assert_eq!((w, h), (320 * scale, 200 * scale), "{name}@{scale}x");
            let ink = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
            let mut colours: Vec<[u8; 3]> = pixels.clone();
            colours.sort_unstable();
            colours.dedup();
            let share = ink as f64 / pixels.len() as f64;
            if name != "empty" {
                assert!(
                    share >= 0.02,
                    "{name}@{scale}x: only {:.2}% ink",
                    share * 100.0
                );
            }
            assert!(
                colours.len() > 3,
                "{name}@{scale}x: {} colours",
                colours.len()
            );
            if let Some(dir) = &preview {
                std::fs::create_dir_all(dir).expect("preview dir");
                std::fs::write(dir.join(format!("{name}@{scale}x.png")), &bytes)
                    .expect("write preview");
                let svg = render_svg(&figure, SMALL).expect("renders");
                std::fs::write(dir.join(format!("{name}.svg")), svg).expect("write preview");
            }
        }
    }
}

#[test]
fn missing_data_draws_the_empty_message() {
    let nothing = Figure::Line(Xy {
        unit: Unit::Count,
        categories: months(3),
        series: vec![series(
            "x",
            &[None, Some(f64::NAN), Some(f64::INFINITY)],
            false,
        )],
        bands: vec![],
    });
    let no_categories = Figure::StackedBar(Xy {
        unit: Unit::Count,
        categories: vec![],
        series: vec![series("x", &[Some(1.0)], false)],
        bands: vec![],
    });
    let expected = render_svg(&Figure::Empty("no data yet".into()), SMALL).expect("renders");
    for figure in [
        nothing,
        no_categories,
        Figure::Kpi(vec![]),
        Figure::Progress(vec![]),
    ] {
        assert_eq!(
            render_svg(&figure, SMALL).expect("renders"),
            expected,
            "{figure:?}"
        );
    }
}

#[test]
fn bad_sizes_and_scales_are_errors() {
    let figure = line_figure();
    assert!(render_png(&figure, SMALL, 0).is_err());
    assert!(
        render_png(
            &figure,
            Size {
                width: 0,
                height: 10
            },
            1
        )
        .is_err()
    );
    assert!(
        render_svg(
            &figure,
            Size {
                width: 10,
                height: 0
            }
        )
        .is_err()
    );
    assert!(
        render_png(
            &figure,
            Size {
                width: 5000,
                height: 100
            },
            2
        )
        .is_err()
    );
    // Tiny but valid sizes draw something rather than panicking.
    for (_, figure) in every_kind() {
        render_png(
            &figure,
            Size {
                width: 8,
                height: 6,
            },
            1,
        )
        .expect("tiny renders");
    }
}

#[test]
fn data_points_count_what_is_shown() {
    assert_eq!(line_figure().data_points(), 4 + 3);
    assert_eq!(stacked_figure().data_points(), 11);
    assert_eq!(kpi_figure().data_points(), 3);
    assert_eq!(progress_figure().data_points(), 4);
    assert_eq!(table_figure().data_points(), 14);
    assert_eq!(Figure::Empty("x".into()).data_points(), 0);
}

#[test]
fn format_value_is_the_public_face_of_the_formatter() {
    assert_eq!(
        format_value(416_900.0, &Unit::Currency("USD".into())),
        "$417k"
    );
    assert_eq!(format_value(0.0449, &Unit::Ratio), "4.5%");
}

//! `bench run`: generates (or reuses) a scale's inputs, then runs every stage of
//! the pipeline as its own `northstar` child process on a fresh lake, timing it
//! and reading its peak memory, and writes `bench-<scale>.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::child::{self, Measured};
use super::generate::Manifest;
use super::machine::Machine;
use super::report::{BenchReport, Stage};
use super::scale::Scale;
use crate::engine::queries::metric_sql;
use crate::error::{Error, Result};

/// Parts of the pipeline `bench run` can time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// `import <table>` per table, then `import costs`.
    Import,
    /// `compute` over the whole year.
    Compute,
    /// `compute --sections dora` (when the binary has `--sections`).
    Dora,
    /// `report` (every dashboard).
    Report,
    /// `compact` (when the binary has it).
    Compact,
    /// `query --file` of each metric DuckDB is compared on, and an empty query
    /// for the engine's opening cost.
    Queries,
    /// On a second lake: deployments and commits imported in [`SMALL_WRITES`]
    /// (or `--small-writes`) small writes (as collectors running every few minutes write them), then
    /// `compute`, then `compact` and `compute` again.
    SmallWrites,
}

/// Writes of the `small-writes` section by default (half deployments, half
/// commits): issue 13's "after 1 000 small collect writes".
pub const SMALL_WRITES: usize = 1000;

/// The tables the `small-writes` section writes in small pieces.
const WRITTEN_SMALL: [&str; 2] = ["deployments", "commits"];

/// The sections run when none are named.
pub const DEFAULT_SECTIONS: &[Section] = &[
    Section::Import,
    Section::Compute,
    Section::Dora,
    Section::Report,
    Section::Compact,
];

/// The metric queries timed one by one (at service scope, monthly) for the DuckDB
/// side-by-side.
pub const COMPARED_QUERIES: &[&str] = &[
    "dora/deployment_frequency",
    "dora/lead_time",
    "dora/change_failure_rate",
    "dora/failed_deployment_recovery_time",
    "dora/rework_rate",
    "cost/costs",
];

/// What `bench run` does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The scale.
    pub scale: Scale,
    /// Working folder: inputs, lake, logs and results go under it.
    pub dir: PathBuf,
    /// Sections to time.
    pub sections: Vec<Section>,
    /// Generate the inputs even when the folder has them.
    pub regenerate: bool,
    /// Gzip the generated inputs.
    pub gzip: bool,
    /// Run this DuckDB side-by-side script after the stages.
    pub duckdb_script: Option<PathBuf>,
    /// Writes of the `small-writes` section.
    pub small_writes: usize,
}

/// Runs the benchmark; returns the report (also written as JSON).
pub fn run(options: &RunOptions) -> Result<BenchReport> {
    let exe = std::env::current_exe().map_err(|source| Error::Io {
        path: PathBuf::from("current executable"),
        source,
    })?;
    let mut bench = Bench::new(options, exe)?;
    let mut result = bench.stages();
    let json = options
        .dir
        .join(format!("bench-{}.json", options.scale.label()));
    bench.report.write(&json)?;
    if let (Ok(()), Some(script)) = (&result, &options.duckdb_script) {
        result = bench.duckdb(script, &json);
        bench.report.write(&json)?;
    }
    // The table is printed for a failed run too: what ran is worth keeping.
    println!("{}", bench.report.markdown());
    eprintln!("wrote {}", json.display());
    result.map(|()| bench.report)
}

/// One run in progress.
struct Bench<'o> {
    options: &'o RunOptions,
    exe: PathBuf,
    manifest: Manifest,
    lake: PathBuf,
    report: BenchReport,
}

impl<'o> Bench<'o> {
    fn new(options: &'o RunOptions, exe: PathBuf) -> Result<Self> {
        let io = |path: &Path, source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&options.dir).map_err(|e| io(&options.dir, e))?;
        let label = options.scale.label();
        let lake = options.dir.join(format!("lake-{label}"));
        remove_dir_if_present(&lake)?;
        let config = options.dir.join("northstar.toml");
        std::fs::write(&config, "# bench run: default settings\n").map_err(|e| io(&config, e))?;
        let mut stages = Vec::new();
        let manifest = inputs(options, &exe, &mut stages)?;
        let report = BenchReport {
            scale: options.scale,
            machine: Machine::current(),
            version: env!("CARGO_PKG_VERSION"),
            from: manifest.from.clone(),
            to: manifest.to.clone(),
            inputs: manifest.tables.clone(),
            stages,
            skipped: Vec::new(),
        };
        Ok(Bench {
            options,
            exe,
            manifest,
            lake,
            report,
        })
    }

    fn stages(&mut self) -> Result<()> {
        let sections = &self.options.sections;
        if sections.contains(&Section::Import) {
            self.imports()?;
        }
        let total = self.manifest.tables.iter().map(|t| t.rows).sum();
        let (from, to) = (self.manifest.from.clone(), self.manifest.to.clone());
        if sections.contains(&Section::Compute) {
            let args = self.compute_args(&format!("metrics-{}.json", self.label()));
            self.forget_derived()?;
            self.stage("compute", args.clone(), total)?;
            // Again over the same lake: the derived tables the first kept are found.
            self.stage("compute, derived tables kept", args, total)?;
        }
        if sections.contains(&Section::Dora) {
            if self.help_mentions(&["compute", "--help"], "--sections") {
                let mut args = self.compute_args(&format!("metrics-dora-{}.json", self.label()));
                args.extend(["--sections".into(), "dora".into()]);
                self.forget_derived()?;
                self.stage("compute --sections dora", args, total)?;
            } else {
                self.skip("compute --sections dora: this binary's compute has no --sections");
            }
        }
        if sections.contains(&Section::Report) {
            let dir = self.path(&format!("report-{}", self.label()));
            let args = args(&["report", "--from", &from, "--to", &to, "--out"], &dir);
            self.forget_derived()?;
            self.stage("report", args, total)?;
        }
        if sections.contains(&Section::Compact) {
            if self.help_mentions(&["--help"], "compact") {
                self.stage("compact", vec!["compact".into()], total)?;
            } else {
                self.skip("compact: this binary has no compact subcommand");
            }
        }
        if sections.contains(&Section::Queries) {
            self.queries(total)?;
        }
        if sections.contains(&Section::SmallWrites) {
            self.small_writes(total)?;
        }
        Ok(())
    }

    /// Deletes the derived tables an earlier stage kept in the lake, so the next
    /// stage is timed deriving them as a first run over new data does.
    fn forget_derived(&self) -> Result<()> {
        remove_dir_if_present(&self.lake.join(crate::engine::materialise::FOLDER))
    }

    /// The `small-writes` section, on its own lake (see [`Section::SmallWrites`]).
    fn small_writes(&mut self, total: u64) -> Result<()> {
        let label = self.label();
        let lake = self.path(&format!("lake-{label}-small-writes"));
        remove_dir_if_present(&lake)?;
        let main_lake = std::mem::replace(&mut self.lake, lake);
        let result = self.small_writes_stages(total);
        self.lake = main_lake;
        result
    }

    fn small_writes_stages(&mut self, total: u64) -> Result<()> {
        let inputs = inputs_dir(self.options);
        let mut small = Measured {
            seconds: 0.0,
            exit_code: Some(0),
            peak_rss_mib: 0.0,
        };
        let (mut writes, mut rows) = (0usize, 0u64);
        for t in self.manifest.tables.clone() {
            let files: Vec<PathBuf> = t.files.iter().map(|f| inputs.join(f)).collect();
            if !WRITTEN_SMALL.contains(&t.table.as_str()) {
                let args = import_args(&t.table, &files);
                self.stage(&format!("small-writes: import {}", t.table), args, t.rows)?;
                continue;
            }
            let out = self.path(&format!("small-writes-{}/{}", self.label(), t.table));
            let parts = (self.options.small_writes / WRITTEN_SMALL.len()).max(1);
            for part in super::small_writes::split_csv(&files, t.rows, parts, &out)? {
                let args = self.lake_args(import_args(&t.table, &[part]));
                let log =
                    child::log_path(&self.options.dir, &format!("{}-small-write", self.label()));
                let m = child::run(&self.exe, &args, &log)?;
                check("small write", m, &log)?;
                small.seconds += m.seconds;
                small.peak_rss_mib = small.peak_rss_mib.max(m.peak_rss_mib);
                writes += 1;
            }
            rows += t.rows;
        }
        let name = format!("small-writes: {writes} imports of deployments and commits");
        self.record(
            &name,
            vec![format!("import <table> <one of {writes} parts>")],
            rows,
            small,
        );
        let args = self.compute_args(&format!("metrics-{}-small-writes.json", self.label()));
        self.stage("small-writes: compute", args.clone(), total)?;
        self.stage("small-writes: compact", vec!["compact".into()], total)?;
        self.forget_derived()?;
        self.stage("small-writes: compute, compacted", args, total)
    }

    fn imports(&mut self) -> Result<()> {
        let inputs = inputs_dir(self.options);
        for t in self.manifest.tables.clone() {
            let files: Vec<PathBuf> = t.files.iter().map(|f| inputs.join(f)).collect();
            self.stage(
                &format!("import {}", t.table),
                import_args(&t.table, &files),
                t.rows,
            )?;
        }
        Ok(())
    }

    /// Each compared query once (service scope, monthly), after an empty query
    /// that measures what opening the engine costs every one of them.
    fn queries(&mut self, total: u64) -> Result<()> {
        let (from, to) = (self.manifest.from.clone(), self.manifest.to.clone());
        self.stage(
            "query engine-open",
            vec!["query".into(), "SELECT 1".into()],
            total,
        )?;
        for id in COMPARED_QUERIES {
            let Some(sql) = metric_sql(id) else {
                self.skip(&format!("query {id}: not compiled into this binary"));
                continue;
            };
            let file = self.path(&format!("queries/{id}.sql"));
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&file, sql).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            let mut args = args(&["query", "--format", "csv", "--file"], &file);
            for p in [
                format!("from={from}"),
                format!("to={to}"),
                "scope=service".into(),
                "grain=month".into(),
                "lead_time_start=authored".into(),
            ] {
                args.extend(["--param".into(), p]);
            }
            self.forget_derived()?;
            self.stage(&format!("query {id}"), args, total)?;
        }
        Ok(())
    }

    /// Runs the DuckDB script on the lake and this run's metrics.
    fn duckdb(&mut self, script: &Path, json: &Path) -> Result<()> {
        let metrics = self.path(&format!("metrics-{}.json", self.label()));
        let args = vec![
            script.display().to_string(),
            "--lake".into(),
            self.lake.display().to_string(),
            "--metrics".into(),
            metrics.display().to_string(),
            "--bench".into(),
            json.display().to_string(),
            "--northstar".into(),
            self.exe.display().to_string(),
        ];
        let log = child::log_path(&self.options.dir, &format!("duckdb-{}", self.label()));
        let measured = child::run(Path::new("python3"), &args, &log)?;
        let total = self.manifest.tables.iter().map(|t| t.rows).sum();
        self.record("duckdb compare", args, total, measured);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        println!("{text}");
        check("duckdb compare", measured, &log)
    }

    /// `compute` over the inputs' whole history into `DIR/<out>`.
    fn compute_args(&self, out: &str) -> Vec<String> {
        let (from, to) = (&self.manifest.from, &self.manifest.to);
        args(
            &["compute", "--from", from, "--to", to, "--out"],
            &self.path(out),
        )
    }

    /// `--lake … --config … <args>`.
    fn lake_args(&self, args: Vec<String>) -> Vec<String> {
        let mut full = vec![
            "--lake".to_string(),
            self.lake.display().to_string(),
            "--config".to_string(),
            self.path("northstar.toml").display().to_string(),
        ];
        full.extend(args);
        full
    }

    /// Runs `northstar --lake … --config … <args>` as a timed child.
    fn stage(&mut self, name: &str, args: Vec<String>, rows: u64) -> Result<()> {
        let full = self.lake_args(args);
        let log = child::log_path(&self.options.dir, &format!("{}-{name}", self.label()));
        tracing::info!(stage = name, "Running.");
        let measured = child::run(&self.exe, &full, &log)?;
        self.record(name, full, rows, measured);
        check(name, measured, &log)
    }

    fn record(&mut self, name: &str, args: Vec<String>, rows: u64, m: Measured) {
        eprintln!(
            "{name}: {:.2} s, {rows} rows, peak {:.0} MiB{}",
            m.seconds,
            m.peak_rss_mib,
            if m.ok() { "" } else { " (failed)" }
        );
        self.report.stages.push(stage(name, args, rows, m));
    }

    fn skip(&mut self, why: &str) {
        eprintln!("skipped {why}");
        self.report.skipped.push(why.to_string());
    }

    /// Whether the binary's help for `args` mentions `word` (feature detection of
    /// options other branches are adding).
    fn help_mentions(&self, args: &[&str], word: &str) -> bool {
        Command::new(&self.exe)
            .args(args)
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(word))
    }

    fn label(&self) -> &'static str {
        self.options.scale.label()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.options.dir.join(name)
    }
}

/// The inputs folder of a scale: reused when its manifest is of that scale.
fn inputs_dir(options: &RunOptions) -> PathBuf {
    options
        .dir
        .join(format!("inputs-{}", options.scale.label()))
}

/// The scale's manifest, generating the inputs first (as a timed stage) when the
/// folder has none or `regenerate` is set.
fn inputs(options: &RunOptions, exe: &Path, stages: &mut Vec<Stage>) -> Result<Manifest> {
    let dir = inputs_dir(options);
    if !options.regenerate
        && let Some(m) = Manifest::load(&dir)?.filter(|m| m.scale == options.scale)
    {
        return Ok(m);
    }
    let mut args = vec![
        "bench".to_string(),
        "generate".into(),
        "--scale".into(),
        options.scale.label().into(),
        "--out".into(),
        dir.display().to_string(),
    ];
    if options.gzip {
        args.push("--gzip".into());
    }
    let log = child::log_path(&options.dir, &format!("{}-generate", options.scale.label()));
    let measured = child::run(exe, &args, &log)?;
    eprintln!(
        "generate: {:.2} s, peak {:.0} MiB",
        measured.seconds, measured.peak_rss_mib
    );
    check("generate", measured, &log)?;
    let manifest = Manifest::load(&dir)?.ok_or_else(|| Error::Bench {
        stage: "generate".into(),
        reason: format!("no manifest in {}", dir.display()),
    })?;
    let rows = manifest.tables.iter().map(|t| t.rows).sum();
    stages.push(stage("generate", args, rows, measured));
    Ok(manifest)
}

fn stage(name: &str, args: Vec<String>, rows: u64, m: Measured) -> Stage {
    Stage {
        name: name.to_string(),
        args,
        seconds: m.seconds,
        rows,
        rows_per_sec: if m.seconds > 0.0 {
            rows as f64 / m.seconds
        } else {
            0.0
        },
        peak_rss_mib: m.peak_rss_mib,
        exit_code: m.exit_code,
        ok: m.ok(),
    }
}

fn check(name: &str, m: Measured, log: &Path) -> Result<()> {
    if m.ok() {
        return Ok(());
    }
    let how = m
        .exit_code
        .map_or("was killed by a signal".to_string(), |c| {
            format!("exited with {c}")
        });
    Err(Error::Bench {
        stage: name.to_string(),
        reason: format!("{how}; see {}", log.display()),
    })
}

/// `import <table> <files>`.
fn import_args(table: &str, files: &[PathBuf]) -> Vec<String> {
    let mut args = vec!["import".to_string(), table.to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args
}

/// Removes a folder and everything in it; nothing to do when it is not there.
fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            path: dir.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn args(words: &[&str], path: &Path) -> Vec<String> {
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    out.push(path.display().to_string());
    out
}

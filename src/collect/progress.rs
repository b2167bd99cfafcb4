//! What a person watching `northstar collect` sees: a progress bar per source on a
//! terminal (records so far, rate, elapsed), plain log lines every few seconds when
//! stderr is a file or a CI log.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often plain mode prints a line per source.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The progress display of one `collect` run.
#[derive(Debug)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Bars on a terminal, plain lines otherwise; `hidden` shows nothing (tests).
    pub fn new(hidden: bool) -> Progress {
        let multi = (!hidden && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { multi }
    }

    /// A display line for one source.
    pub fn source(&self, name: &str, hidden: bool) -> SourceProgress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:.bold} {pos} records ({per_sec}, {elapsed}) {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        SourceProgress {
            name: name.to_string(),
            bar,
            plain: !hidden && self.multi.is_none(),
            records: AtomicU64::new(0),
            last_line: Mutex::new(Instant::now()),
        }
    }
}

/// Progress of one source.
#[derive(Debug)]
pub struct SourceProgress {
    name: String,
    bar: Option<ProgressBar>,
    plain: bool,
    records: AtomicU64,
    last_line: Mutex<Instant>,
}

impl SourceProgress {
    /// Counts `n` more records read while doing `what`.
    pub fn read(&self, what: &str, n: usize) {
        let total = self.records.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(bar) = &self.bar {
            bar.set_position(total);
            bar.set_message(what.to_string());
            return;
        }
        if !self.plain {
            return;
        }
        if let Ok(mut last) = self.last_line.lock()
            && last.elapsed() >= PLAIN_EVERY
        {
            *last = Instant::now();
            eprintln!("collect {}: {total} records read ({what})", self.name);
        }
    }

    /// Records read so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Ends the bar, leaving `line` in its place.
    pub fn finish(&self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(line.to_string());
        }
    }
}

//! Runs one stage as a child process and measures it: wall time, exit status and
//! the child's peak resident set size (`wait4`'s `ru_maxrss`), which a run inside
//! this process could not separate from the harness's own memory.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::error::{Error, Result};

/// How a child process ended and what it cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    pub(crate) seconds: f64,
    /// Exit code; `None` when a signal ended it.
    pub(crate) exit_code: Option<i32>,
    pub(crate) peak_rss_mib: f64,
}

impl Measured {
    pub(crate) fn ok(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// Runs `program args`, its standard output and error going to `log`.
pub(crate) fn run(program: &Path, args: &[String], log: &Path) -> Result<Measured> {
    let io = |path: &Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let out = File::create(log).map_err(|e| io(log, e))?;
    let err = out.try_clone().map_err(|e| io(log, e))?;
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| io(program, e))?;
    let (status, rusage) = wait4(child.id()).map_err(|e| io(program, e))?;
    let seconds = started.elapsed().as_secs_f64();
    // Linux reports ru_maxrss in KiB.
    let peak_rss_mib = rusage.ru_maxrss as f64 / 1024.0;
    let exit_code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(Measured {
        seconds,
        exit_code,
        peak_rss_mib,
    })
}

/// Waits for `pid` and returns its wait status and resource usage.
fn wait4(pid: u32) -> std::io::Result<(libc::c_int, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct, which
    // `wait4` then fills in.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std's `Child` only reaps
        // on `wait`, which is never called), and both pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        if r == pid {
            return Ok((status, rusage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The log file of a stage: `<dir>/logs/<stage>.log`, with `/` and spaces in the
/// stage name made safe.
pub(crate) fn log_path(dir: &Path, stage: &str) -> PathBuf {
    let name: String = stage
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join("logs").join(format!("{name}.log"))
}

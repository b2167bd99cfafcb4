//! The machine a benchmark ran on, for the figures to mean something.

use serde::Serialize;

/// Cores, memory and CPU model, read from Linux's `/proc` (empty elsewhere).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Machine {
    /// Logical cores available to the process.
    pub cores: usize,
    /// Total memory in GiB.
    pub memory_gib: f64,
    /// `model name` of the first CPU.
    pub cpu: String,
    /// `debug` or `release`: the harness runs its own binary.
    pub profile: &'static str,
}

impl Machine {
    /// The current machine.
    pub fn current() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gib: mem_total_kib(&meminfo) as f64 / (1024.0 * 1024.0),
            cpu: field(&cpuinfo, "model name")
                .unwrap_or("unknown")
                .to_string(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }

    /// One line for a table caption.
    pub fn describe(&self) -> String {
        format!(
            "{} cores, {:.0} GiB, {} ({} build)",
            self.cores, self.memory_gib, self.cpu, self.profile
        )
    }
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim())
}

fn mem_total_kib(meminfo: &str) -> u64 {
    field(meminfo, "MemTotal")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_fields() {
        let cpu = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.50GHz\n";
        assert_eq!(
            field(cpu, "model name"),
            Some("Intel(R) Xeon(R) CPU @ 2.50GHz")
        );
        assert_eq!(mem_total_kib("MemTotal:       24576000 kB\n"), 24_576_000);
    }
}

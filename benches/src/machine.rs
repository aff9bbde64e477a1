//! What machine a measurement ran on, for the figures' caption.

use std::fs;

use serde::Serialize;

use crate::memory::kib_field;

/// The machine and build a suite ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// CPU model (`/proc/cpuinfo`), or the architecture.
    pub cpu: String,
    /// Logical CPUs available to this process.
    pub cpus: usize,
    /// Total RAM in bytes, if known.
    pub memory_bytes: Option<u64>,
    /// Operating system and kernel release.
    pub os: String,
    /// Whether this is an optimized build (debug builds are not
    /// representative).
    pub optimized: bool,
    /// Load average over the last minute when the suite started (other
    /// work on the machine skews the figures).
    pub load_average: Option<f64>,
}

impl Machine {
    /// This machine, now.
    pub fn current() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(
                || std::env::consts::ARCH.to_owned(),
                |(_, model)| model.trim().to_owned(),
            );
        let memory_bytes = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|meminfo| kib_field(&meminfo, "MemTotal:"));
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let load_average = fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next()?.parse().ok());
        Machine {
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            os: format!("{} {}", std::env::consts::OS, kernel.trim())
                .trim()
                .to_owned(),
            optimized: !cfg!(debug_assertions),
            load_average,
        }
    }
}

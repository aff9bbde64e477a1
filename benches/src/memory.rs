//! Resident memory of this process, from `/proc` (Linux).

use std::fs;

/// Memory of this process that is in RAM, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resident {
    /// Resident set size (`VmRSS`): every page mapped and in RAM, shared
    /// ones counted in full by every mapping.
    pub rss: u64,
    /// Proportional set size (`Pss` of `smaps_rollup`): shared pages
    /// divided among their mappers, closer to what the process costs.
    pub pss: Option<u64>,
}

/// The process's resident memory now; `None` off Linux.
pub fn resident() -> Option<Resident> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let rss = kib_field(&status, "VmRSS:")?;
    let pss = fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|rollup| kib_field(&rollup, "Pss:"));
    Some(Resident { rss, pss })
}

/// The value in bytes of a `Name:   123 kB` line.
pub(crate) fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_fields_are_read_in_bytes() {
        let text = "Name:\tx\nVmRSS:\t    1984 kB\nPss:  284 kB\n";
        assert_eq!(kib_field(text, "VmRSS:"), Some(1984 * 1024));
        assert_eq!(kib_field(text, "Pss:"), Some(284 * 1024));
        assert_eq!(kib_field(text, "Rss:"), None);
    }
}

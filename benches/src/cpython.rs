//! The Bollinger example under native CPython (the SDK's stub host), timed
//! by `benches/python/native_bollinger.py` itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::BenchError;

/// The script, relative to the repository root.
pub const SCRIPT: &str = "benches/python/native_bollinger.py";

/// The interpreter `scripts/setup.sh` installs, relative to the repository
/// root.
pub const VENV_PYTHON: &str = ".venv/bin/python";

/// What the script measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CpythonRun {
    /// Time per tick.
    pub per_tick: Duration,
    /// Ticks timed.
    pub ticks: usize,
    /// CPython version, e.g. `3.11.7`.
    pub version: String,
}

/// Run the Bollinger strategy of the repository at `root` for `ticks`
/// ticks under `python`, snapshotting every `snapshot_every` ticks.
pub fn native_bollinger(
    python: &Path,
    root: &Path,
    ticks: usize,
    snapshot_every: u32,
) -> Result<CpythonRun, BenchError> {
    let failed = |reason: String| BenchError::Cpython {
        python: python.to_owned(),
        reason,
    };
    let output = Command::new(python)
        .arg(root.join(SCRIPT))
        .arg(root)
        .arg(ticks.to_string())
        .arg(snapshot_every.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| failed(format!("{e} (run scripts/setup.sh)")))?;
    if !output.status.success() {
        return Err(failed(String::from_utf8_lossy(&output.stderr).into_owned()));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["native-cpython", micros, ticks, version] => {
            let micros: f64 = micros
                .parse()
                .map_err(|_| failed(format!("unexpected output: {stdout}")))?;
            Ok(CpythonRun {
                per_tick: Duration::from_secs_f64(micros / 1e6),
                ticks: ticks
                    .parse()
                    .map_err(|_| failed(format!("unexpected output: {stdout}")))?,
                version: (*version).to_owned(),
            })
        }
        _ => Err(failed(format!("unexpected output: {stdout}"))),
    }
}

/// The repository's CPython, if `scripts/setup.sh` created it.
pub fn venv_python(root: &Path) -> Option<PathBuf> {
    let python = root.join(VENV_PYTHON);
    python.is_file().then_some(python)
}

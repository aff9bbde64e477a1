//! `stratbox backtest --watch`: run the backtest, then run it again each
//! time the strategy's files (or the policy, venues or candle files it
//! uses) change, until interrupted. A failing run (a syntax error, a
//! failed tick) is reported and watching goes on: the next save may fix
//! it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::backtest::BacktestArgs;

/// How often the files are looked at.
const POLL: Duration = Duration::from_millis(250);
/// How long the files must stay unchanged before a run starts, so that an
/// editor's several writes of one save start one run.
const SETTLE: Duration = Duration::from_millis(200);

/// What a file looked like: size and modification time.
type Stamp = (u64, Option<SystemTime>);

/// Run `run` now and after every change to the files `args` uses.
pub fn watch(args: &BacktestArgs, run: impl Fn() -> anyhow::Result<()>) -> anyhow::Result<()> {
    let roots = watched(args);
    loop {
        let before = stamps(&roots);
        let started = Instant::now();
        if let Err(error) = run() {
            eprintln!("error: {error:#}");
        }
        eprintln!(
            "[watch] result in {:.2} s; watching {} for changes (Ctrl-C stops)",
            started.elapsed().as_secs_f64(),
            roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        // Changes made while the run ran count too: compare with before it.
        let mut seen = before;
        loop {
            std::thread::sleep(POLL);
            let now = stamps(&roots);
            if now != seen {
                seen = now;
                // Wait for the writes to settle.
                loop {
                    std::thread::sleep(SETTLE);
                    let settled = stamps(&roots);
                    if settled == seen {
                        break;
                    }
                    seen = settled;
                }
                eprintln!("[watch] changed; running again");
                break;
            }
        }
    }
}

/// The files and directories a backtest reads: the strategy, the policy,
/// the venues file and the candle files.
fn watched(args: &BacktestArgs) -> Vec<PathBuf> {
    let mut roots = vec![args.strategy.clone()];
    roots.extend(args.policy.clone());
    roots.extend(args.market.venues.clone());
    roots.extend(args.market.data.iter().cloned());
    roots
}

/// Size and modification time of every file under `roots`, but build
/// output, caches and hidden files.
fn stamps(roots: &[PathBuf]) -> BTreeMap<PathBuf, Stamp> {
    let mut found = BTreeMap::new();
    let mut pending: Vec<PathBuf> = roots.to_vec();
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            // A file being replaced is briefly missing; its absence is a
            // state like any other.
            found.insert(path, (u64::MAX, None));
            continue;
        };
        if meta.is_dir() {
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            for entry in entries.flatten() {
                if !ignored(&entry.path()) {
                    pending.push(entry.path());
                }
            }
        } else {
            found.insert(path, (meta.len(), meta.modified().ok()));
        }
    }
    found
}

/// Build output and caches, which a run itself writes.
fn ignored(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.') || matches!(name, "target" | "__pycache__" | "node_modules")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn build_output_and_caches_are_not_watched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("strategy.py"), "x = 1\n").unwrap();
        for skipped in ["target", "__pycache__", ".git"] {
            std::fs::create_dir(dir.path().join(skipped)).unwrap();
            std::fs::write(dir.path().join(skipped).join("f"), "x").unwrap();
        }
        let before = stamps(&[dir.path().to_owned()]);
        assert_eq!(before.len(), 1);
        std::fs::write(dir.path().join("target/f"), "changed").unwrap();
        assert_eq!(stamps(&[dir.path().to_owned()]), before);
        std::fs::write(dir.path().join("strategy.py"), "x = 22\n").unwrap();
        assert_ne!(stamps(&[dir.path().to_owned()]), before);
    }
}

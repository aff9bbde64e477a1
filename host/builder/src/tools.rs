//! Finding strategy directories and the build tools `scripts/setup.sh`
//! installs inside the repository (`.venv`, `node_modules`).

use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// `relative` under the first of `starts` or of their ancestors that has it
/// as a file: the directory it was found in and the file. Otherwise every
/// place looked at, for the error.
pub(crate) fn find_tool(
    starts: &[&Path],
    relative: &str,
) -> Result<(PathBuf, PathBuf), Vec<PathBuf>> {
    let mut searched = Vec::new();
    for start in starts {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        for dir in start.ancestors() {
            let candidate = dir.join(relative);
            if candidate.is_file() {
                return Ok((dir.to_owned(), candidate));
            }
            searched.push(candidate);
        }
    }
    Err(searched)
}

/// `dir`, which must contain `entry` (the strategy's module), made absolute,
/// and its name (the directory's name); `missing` says what a strategy of
/// this kind needs when `entry` is absent.
pub(crate) fn locate_strategy_dir(
    dir: &Path,
    entry: &str,
    missing: impl FnOnce() -> String,
) -> Result<(PathBuf, String), BuildError> {
    if !dir.join(entry).is_file() {
        return Err(BuildError::NotAStrategy {
            dir: dir.to_owned(),
            reason: missing(),
        });
    }
    let dir = dir.canonicalize().map_err(|source| BuildError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let name = dir.file_name().map_or_else(
        || "strategy".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok((dir, name))
}

//! Finding the build tools `scripts/setup.sh` installs inside the
//! repository (`.venv`, `node_modules`).

use std::path::{Path, PathBuf};

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

//! JavaScript strategies: a directory with `strategy.js` (one ES module
//! exporting `strategy`), built with componentize-js (SpiderMonkey, from
//! npm, installed by `scripts/setup.sh` into the repository's
//! `node_modules`) with every WASI feature disabled, so that the component
//! imports only the stratbox world.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::cargo::read;
use crate::error::{BuildError, SourceLocation};
use crate::python_sdk::{WORLD_NAME, WORLD_WIT};
use crate::tools::{find_tool, locate_strategy_dir};
use crate::world_check::check_world_imports;

/// The componentize-js version stratbox builds with; must match
/// `package.json`.
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// The module a JavaScript strategy directory holds.
pub const JS_STRATEGY_FILE: &str = "strategy.js";

/// WASI features componentize-js can leave out: all of them.
const DISABLED_FEATURES: [&str; 5] = ["stdio", "random", "clocks", "http", "fetch-event"];

/// The componentize-js executable, and the acorn parser beside it (a
/// dependency of componentize-js) that reports syntax errors by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsToolchain {
    componentize_js: PathBuf,
    acorn: PathBuf,
}

impl JsToolchain {
    /// `node_modules/.bin/componentize-js` in the first of `starts` (or of
    /// their ancestors) that has one: `scripts/setup.sh` installs it at the
    /// repository root with `npm ci`.
    pub fn find(starts: &[&Path]) -> Result<Self, BuildError> {
        let (root, componentize_js) = find_tool(starts, "node_modules/.bin/componentize-js")
            .map_err(|searched| BuildError::ComponentizeJsMissing { searched })?;
        Ok(JsToolchain {
            acorn: root.join("node_modules/.bin/acorn"),
            componentize_js,
        })
    }
}

/// A JavaScript strategy directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsStrategy {
    dir: PathBuf,
    name: String,
}

impl JsStrategy {
    /// Whether `dir` holds a JavaScript strategy.
    pub fn is_js_strategy(dir: &Path) -> bool {
        dir.join(JS_STRATEGY_FILE).is_file()
    }

    /// The strategy in `dir`, named after the directory.
    pub fn locate(dir: &Path) -> Result<Self, BuildError> {
        let (dir, name) =
            locate_strategy_dir(dir, JS_STRATEGY_FILE, || format!("no {JS_STRATEGY_FILE}"))?;
        Ok(JsStrategy { dir, name })
    }

    /// The directory name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A hash of everything the component is built from: the module, the
    /// WIT world and the componentize-js version.
    pub fn fingerprint(&self) -> Result<String, BuildError> {
        let mut hasher = Sha256::new();
        for part in [
            COMPONENTIZE_JS_VERSION.as_bytes(),
            WORLD_WIT.as_bytes(),
            &read(&self.dir.join(JS_STRATEGY_FILE))?,
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// Build the component with every WASI feature disabled, then check that
    /// it imports nothing outside the stratbox world.
    pub fn build_component(&self, toolchain: &JsToolchain) -> Result<Vec<u8>, BuildError> {
        self.check_syntax(toolchain)?;
        let work = tempfile::tempdir().map_err(|source| BuildError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let wit = work.path().join("wit");
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| BuildError::Io { path, source }
        };
        std::fs::create_dir_all(&wit).map_err(io(&wit))?;
        std::fs::write(wit.join("strategy.wit"), WORLD_WIT).map_err(io(&wit))?;
        let output_path = work.path().join("component.wasm");
        let output = Command::new(&toolchain.componentize_js)
            .arg(self.dir.join(JS_STRATEGY_FILE))
            .arg("--wit")
            .arg(&wit)
            .arg("--world-name")
            .arg(WORLD_NAME)
            .arg("--disable")
            .args(DISABLED_FEATURES)
            .arg("--out")
            .arg(&output_path)
            .current_dir(work.path())
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BuildError::Io {
                path: toolchain.componentize_js.clone(),
                source,
            })?;
        if !output.status.success() || !output_path.is_file() {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            return Err(BuildError::ComponentizeJsFailed {
                file: self.dir.join(JS_STRATEGY_FILE),
                status: output.status.to_string(),
                output: tail(&text, 40),
            });
        }
        let component = read(&output_path)?;
        check_world_imports(&component)?;
        Ok(component)
    }
}

impl JsStrategy {
    /// componentize-js reports a syntax error without its place; acorn
    /// names the line.
    fn check_syntax(&self, toolchain: &JsToolchain) -> Result<(), BuildError> {
        let file = self.dir.join(JS_STRATEGY_FILE);
        let Ok(output) = Command::new(&toolchain.acorn)
            .args(["--ecma2024", "--module", "--silent"])
            .arg(&file)
            .stdin(Stdio::null())
            .output()
        else {
            // Without acorn, componentize-js still refuses bad syntax.
            return Ok(());
        };
        if output.status.success() {
            return Ok(());
        }
        // `Unexpected token (/path/strategy.js 3:12)`
        let text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        let (message, place) = text.rsplit_once(" (").unwrap_or((&text, ""));
        let line = place
            .rsplit_once(' ')
            .and_then(|(_, position)| position.split(':').next())
            .and_then(|line| line.parse().ok());
        Err(BuildError::JsSyntax {
            at: SourceLocation { file, line },
            message: message.to_owned(),
        })
    }
}

/// The last `lines` lines of `text`, without npm's configuration warnings.
fn tail(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with("npm warn"))
        .collect();
    kept[kept.len().saturating_sub(lines)..].join("\n")
}

//! Headless Chromium: load a page from a file, let it run, and read the
//! DOM it ends with.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a page may take, in the browser's virtual time (timers and
/// animation frames run until then or until the page is idle).
const VIRTUAL_TIME_BUDGET_MS: u32 = 15_000;

/// How long Chromium may take in real time before it is killed.
const TIMEOUT: Duration = Duration::from_secs(120);

/// `chromium` on `PATH`, which `scripts/setup.sh` installs from Debian's
/// packages. `None` (the test is skipped, saying why) only where it is
/// missing outside CI; under CI (`CI` set) a missing browser fails.
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message = "chromium is not installed: scripts/setup.sh installs it from Debian's \
                       packages (apt-get install chromium); the HTML report's browser test needs it";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("skipped: {message}");
    }
    found
}

/// What a page's DOM says once it ran.
#[derive(Debug)]
pub struct Loaded {
    /// The serialized DOM.
    pub dom: String,
    /// Chromium's own diagnostics.
    pub stderr: String,
}

impl Loaded {
    /// An attribute of the root `<html>` element, unescaped.
    pub fn root_attribute(&self, name: &str) -> Option<String> {
        let start = self.dom.find("<html")?;
        let tag = &self.dom[start..start + self.dom[start..].find('>')?];
        attribute(tag, name)
    }

    /// The JavaScript errors the page recorded (its `data-errors`).
    pub fn errors(&self) -> Vec<String> {
        let recorded = self
            .root_attribute("data-errors")
            .unwrap_or_else(|| panic!("the page records no errors at all: {}", self.stderr));
        serde_json::from_str(&recorded).unwrap()
    }

    /// Fail, naming them, if the page recorded JavaScript errors.
    pub fn assert_no_errors(&self) {
        let errors = self.errors();
        assert!(
            errors.is_empty(),
            "the page recorded JavaScript errors: {errors:#?}\n(chromium said: {})",
            self.stderr
        );
    }

    /// Width and height of every `<canvas>` in the DOM.
    pub fn canvases(&self) -> Vec<(u32, u32)> {
        let mut sizes = Vec::new();
        let mut rest = self.dom.as_str();
        while let Some(start) = rest.find("<canvas") {
            let end = start + rest[start..].find('>').unwrap();
            let tag = &rest[start..end];
            let size = |name| {
                attribute(tag, name)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            sizes.push((size("width"), size("height")));
            rest = &rest[end..];
        }
        sizes
    }
}

/// `name="value"` of an HTML start tag as Chromium serializes it, the
/// value unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let value = &tag[start..start + tag[start..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&"),
    )
}

/// Load `page` in headless `chromium` and return the DOM it ends with.
pub fn load(chromium: &Path, page: &Path) -> Loaded {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1400,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    // Read both pipes while waiting, so that a full pipe cannot stall it.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).map(|_| text)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            // Only the browser this test started.
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish loading {} in {TIMEOUT:?}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = out.join().unwrap().unwrap();
    let stderr = err.join().unwrap().unwrap_or_default();
    assert!(
        status.success() && dom.contains("<html"),
        "chromium failed ({status}) to load {}: {stderr}",
        page.display()
    );
    Loaded { dom, stderr }
}

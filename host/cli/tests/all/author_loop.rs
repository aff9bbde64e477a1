//! The author's edit-run loop: an unchanged strategy is neither rebuilt nor
//! recompiled (the local cache), and `backtest --watch` runs again when the
//! strategy changes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use stratbox_test_artifacts::Guest;

use crate::text;

/// `stratbox args` from the repository root with its cache in `cache`.
fn stratbox_cached(cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("STRATBOX_CACHE_DIR", cache)
        .env_remove("STRATBOX_NO_CACHE")
        .output()
        .expect("stratbox runs")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn an_unchanged_python_strategy_is_neither_rebuilt_nor_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let strategy = dir.path().join("bollinger");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../strategies/python/bollinger"),
        &strategy,
    );
    let component = dir.path().join("bollinger.wasm");
    let build = || {
        let output = stratbox_cached(
            &cache,
            &[
                "build",
                strategy.to_str().unwrap(),
                "--output",
                component.to_str().unwrap(),
            ],
        );
        let (_, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    assert!(build().contains("with componentize-py"));
    let again = build();
    assert!(again.contains("unchanged since its last build"), "{again}");
    assert!(!again.contains("with componentize-py"), "{again}");
    // An edit is a new build.
    let source = strategy.join("strategy.py");
    let mut text_now = std::fs::read_to_string(&source).unwrap();
    text_now.push_str("\n# edited\n");
    std::fs::write(&source, text_now).unwrap();
    assert!(build().contains("with componentize-py"));

    // Compiled code: compiled and sealed into the cache once, then served
    // from it.
    let inspect = || {
        let output = stratbox_cached(
            &cache,
            &[
                "inspect",
                component.to_str().unwrap(),
                "--log",
                "stratbox=debug",
            ],
        );
        let (_, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    assert!(!inspect().contains("compiled code from the local cache"));
    let again = inspect();
    assert!(
        again.contains("compiled code from the local cache"),
        "{again}"
    );
    // Nothing of it is readable by others, and no artifact is plaintext.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache), 0o700);
        assert_eq!(mode(&cache.join("cache.key")), 0o600);
    }
}

#[test]
fn a_watched_backtest_runs_again_when_the_strategy_changes() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = dir.path().join("strategy.wasm");
    std::fs::copy(Guest::RsiMomentum.path(), &strategy).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["backtest", strategy.to_str().unwrap(), "--watch", "--quiet"])
        .args(["--limit", "300"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("STRATBOX_CACHE_DIR", dir.path().join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let mut seen = Vec::new();
    let wait_for = |wanted: &str, seen: &mut Vec<String>| loop {
        let line = received
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no `{wanted}` line; saw:\n{}", seen.join("\n")));
        seen.push(line.clone());
        if line.contains(wanted) {
            return;
        }
    };
    wait_for("[watch] result in", &mut seen);
    // Replacing the strategy runs the other one.
    std::fs::copy(Guest::EmaCrossover.path(), &strategy).unwrap();
    wait_for("[watch] changed; running again", &mut seen);
    wait_for("[watch] result in", &mut seen);
    child.kill().unwrap();
    child.wait().unwrap();
    let strategies: Vec<_> = seen.iter().filter(|l| l.starts_with("strategy ")).collect();
    assert_eq!(strategies.len(), 2, "{seen:#?}");
    assert_ne!(
        strategies[0], strategies[1],
        "the second run ran the new code"
    );
}

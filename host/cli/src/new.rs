//! `stratbox new`: scaffold a buildable strategy project from one of the
//! example families, with a README, default config, default policy and a
//! unit test.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

/// Options of `stratbox new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Directory to create; its last component names the strategy
    /// (lowercase letters, digits and `-`).
    pub dir: PathBuf,
    /// Which example family to start from.
    #[arg(long, value_enum)]
    pub template: Template,
    /// The Rust guest SDK a Rust project depends on (default: this
    /// checkout's `guest-sdk/rust`).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// The example families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Template {
    /// RSI momentum (Rust): buy oversold, sell overbought.
    Rsi,
    /// EMA crossover (Rust): long while the fast EMA is above the slow one.
    EmaCross,
    /// Bollinger-band mean reversion (Python).
    Bollinger,
    /// Dynamic concentrated-liquidity LP (Rust): re-centres when the fees
    /// pay for it.
    DynamicLp,
    /// Stable-yield rotator (Python): moves funds when the gain pays the
    /// cost.
    StableRotator,
    /// Leverage loop (Rust): supply, borrow, swap, re-supply to a target
    /// health factor; unwind when it falls.
    LeverageLoop,
}

/// One template's files.
struct Files {
    name: &'static str,
    summary: &'static str,
    /// Rust `src/lib.rs` or Python `strategy.py`.
    source: &'static str,
    config: &'static str,
    policy: &'static str,
    python: bool,
}

impl Template {
    fn files(self) -> Files {
        // `$source` is the example's module under `strategies/`; the other
        // files come from `templates/<template>/`.
        macro_rules! files {
            ($source:literal, $python:literal, $template:literal, $summary:literal) => {
                Files {
                    name: $template,
                    summary: $summary,
                    source: include_str!(concat!("../../../strategies/", $source)),
                    config: include_str!(concat!("../../../templates/", $template, "/config.json")),
                    policy: include_str!(concat!("../../../templates/", $template, "/policy.toml")),
                    python: $python,
                }
            };
        }
        match self {
            Template::Rsi => files!(
                "rust/rsi-momentum/src/lib.rs",
                false,
                "rsi",
                "buys when Wilder's RSI is oversold, sells when it is overbought."
            ),
            Template::EmaCross => files!(
                "rust/ema-crossover/src/lib.rs",
                false,
                "ema-cross",
                "long while the fast EMA is above the slow one."
            ),
            Template::DynamicLp => files!(
                "rust/dynamic-lp/src/lib.rs",
                false,
                "dynamic-lp",
                "concentrated liquidity around the price, re-centred only when the fees earned pay for the move."
            ),
            Template::LeverageLoop => files!(
                "rust/leverage-loop/src/lib.rs",
                false,
                "leverage-loop",
                "supply, borrow, swap and re-supply up to a target health factor; unwind when it falls."
            ),
            Template::Bollinger => files!(
                "python/bollinger/strategy.py",
                true,
                "bollinger",
                "buys below the lower Bollinger band, sells back at the middle band."
            ),
            Template::StableRotator => files!(
                "python/yield-rotator/strategy.py",
                true,
                "stable-rotator",
                "moves a stable asset to the best lending market or vault only when the rate gain over a horizon pays the cost of moving."
            ),
        }
    }
}

const README: &str = include_str!("../../../templates/README.md.in");
const RUST_TEST: &str = include_str!("../../../templates/rust-config-test.rs");
const PYTHON_TEST: &str = include_str!("../../../templates/python-test.py");

pub fn run(args: &NewArgs) -> anyhow::Result<()> {
    let name = args
        .dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        anyhow::bail!(
            "`{name}` cannot name a strategy: use lowercase letters, digits and `-`, starting with a letter"
        );
    }
    if args.dir.exists() {
        anyhow::bail!("{} already exists; nothing was written", args.dir.display());
    }
    let files = args.template.files();
    let sdk = match &args.sdk {
        Some(sdk) => sdk.clone(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk/rust"),
    };
    let mut project: Vec<(PathBuf, String)> = vec![
        ("config.json".into(), files.config.to_owned()),
        ("policy.toml".into(), files.policy.to_owned()),
    ];
    let (listing, test) = if files.python {
        project.push(("strategy.py".into(), files.source.to_owned()));
        project.push(("test_strategy.py".into(), PYTHON_TEST.to_owned()));
        (
            "| `strategy.py` | the strategy (Python, stratbox SDK) |\n\
             | `test_strategy.py` | unit tests under CPython with the SDK's native runner |",
            "PYTHONPATH=.:<stratbox>/guest-sdk/python python3 -m unittest   # unit tests",
        )
    } else {
        let sdk = std::path::absolute(&sdk)
            .and_then(|p| p.canonicalize())
            .with_context(|| format!("the guest SDK at {}", sdk.display()))?;
        project.push(("Cargo.toml".into(), manifest(&name, &sdk)));
        project.push(("src/lib.rs".into(), files.source.to_owned()));
        project.push((
            "tests/config.rs".into(),
            RUST_TEST.replace("{{crate}}", &name.replace('-', "_")),
        ));
        (
            "| `Cargo.toml` | a crate of its own (`cdylib` for the component, `rlib` for tests) |\n\
             | `src/lib.rs` | the strategy (Rust, stratbox SDK) |\n\
             | `tests/config.rs` | unit tests (`cargo test`) |",
            "cargo test                                         # unit tests",
        )
    };
    project.push((
        "README.md".into(),
        README
            .replace("{{name}}", &name)
            .replace("{{template}}", files.name)
            .replace("{{summary}}", files.summary)
            .replace("{{files}}", listing)
            .replace("{{test}}", test),
    ));
    // Write into a sibling temporary directory and rename it into place,
    // so that a failure leaves nothing half-made.
    let parent = args
        .dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".stratbox-new-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a temporary directory in {}", parent.display()))?;
    for (path, text) in &project {
        let path = staging.path().join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &args.dir)
        .with_context(|| format!("moving the project into {}", args.dir.display()))?;
    println!(
        "{} ({} template); build it with `stratbox build {}`",
        args.dir.display(),
        files.name,
        args.dir.display()
    );
    Ok(())
}

fn manifest(name: &str, sdk: &Path) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
stratbox-sdk = {{ path = {sdk:?} }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

# A project of its own, wherever it lives.
[workspace]
"#,
        sdk = sdk.display().to_string()
    )
}

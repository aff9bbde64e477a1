//! What every run command sets up the same way: the strategy component, the
//! policy and the journal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use stratbox_backtest::{BacktestError, RunError};
use stratbox_journal::{Durability, Journal, NewRun, Recorder, RunPolicy};
use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyEngine};
use stratbox_runtime::{
    AllowAll, DeployError, DeploymentSpec, LimitClass, Limits, Policy, StrategyComponent,
};

use crate::output::write_atomically;

/// A strategy's component bytes and where they live on disk.
#[derive(Debug)]
pub struct StrategySource {
    /// Name for reports (package, directory or file stem).
    pub name: String,
    /// Component bytes.
    pub bytes: Vec<u8>,
    /// The component file (written for a built strategy), for replay.
    pub path: PathBuf,
    /// The limit class of the language it was built from; `None` for a
    /// component file (whose language the host does not know).
    pub class: Option<LimitClass>,
}

impl StrategySource {
    /// A component file as is, or a strategy directory (Rust crate or
    /// Python) built into `target/stratbox/<name>.wasm`.
    pub fn load(path: &Path) -> anyhow::Result<StrategySource> {
        if path.is_dir() {
            let built = crate::build::build(path)?;
            let out = Path::new("target/stratbox").join(format!("{}.wasm", built.name));
            write_atomically(&out, &built.component)?;
            return Ok(StrategySource {
                name: built.name,
                bytes: built.component,
                path: out,
                class: Some(built.class),
            });
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("strategy")
            .to_owned();
        Ok(StrategySource {
            name,
            bytes,
            path: path.to_owned(),
            class: None,
        })
    }
}

/// `--limits`: the limit class a strategy runs under.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Resource limits to run the strategy under: `rust` (64 MiB, 16 core
    /// instances), `python` or `javascript` (256 MiB, 128 instances). Default:
    /// the class of the language a strategy directory is built from, `rust`
    /// for a component file. A component is never given a larger class for
    /// its shape: a Python or JavaScript component file needs this flag.
    #[arg(long, value_name = "CLASS", value_parser = parse_class)]
    pub limits: Option<LimitClass>,
}

fn parse_class(text: &str) -> Result<LimitClass, String> {
    match text {
        "rust" => Ok(LimitClass::Rust),
        "python" => Ok(LimitClass::Python),
        "javascript" | "js" => Ok(LimitClass::JavaScript),
        other => Err(format!(
            "`{other}` is not a limit class: rust, python or javascript"
        )),
    }
}

impl LimitArgs {
    /// The class for `source`: the flag, else its language's, else Rust.
    pub fn class(&self, source: Option<&StrategySource>) -> LimitClass {
        self.limits
            .or_else(|| source.and_then(|s| s.class))
            .unwrap_or_default()
    }

    /// The limits for `source`.
    pub fn limits(&self, source: Option<&StrategySource>) -> Limits {
        Limits::of_class(self.class(source))
    }

    /// `error` with the limit class named when it is a deployment refused
    /// for its size, and the flag that gives a larger class when none was
    /// given.
    pub fn explain(&self, error: anyhow::Error, class: LimitClass) -> anyhow::Error {
        // Transparent wrappers hide their inner error from `chain`: each
        // layer that can carry a refused deployment is looked at.
        let too_large = error.chain().any(|cause| {
            let deploy = cause.downcast_ref::<DeployError>().or_else(|| {
                match cause.downcast_ref::<BacktestError>() {
                    Some(BacktestError::Run(RunError::Deploy(deploy))) => Some(deploy),
                    _ => None,
                }
            });
            matches!(deploy, Some(DeployError::ComponentTooLarge { .. }))
        });
        if !too_large {
            return error;
        }
        let hint = match (self.limits, class) {
            (None, LimitClass::Rust) => {
                ": a Python or JavaScript component file needs --limits python or --limits \
                 javascript"
            }
            _ => "",
        };
        error.context(format!(
            "the component does not fit the {class} limits{hint}"
        ))
    }
}

/// The policy of a run (a checked policy file, or accept-all), and how the
/// journal records it.
pub struct RunPolicyChoice {
    /// The compiled file; `None`: accept every well-formed action.
    compiled: Option<Arc<CompiledPolicy>>,
    /// Its journal record.
    pub record: RunPolicy,
}

impl RunPolicyChoice {
    /// A fresh policy engine for one deployment (its allowances and
    /// counters start full); the file is parsed only once.
    pub fn engine(&self) -> Box<dyn Policy> {
        match &self.compiled {
            Some(compiled) => Box::new(PolicyEngine::new(Arc::clone(compiled))),
            None => Box::new(AllowAll),
        }
    }
}

/// The policy file at `path` checked against `assets`, or accept-all when
/// there is none.
pub fn policy(path: Option<&Path>, assets: &AssetCatalog) -> anyhow::Result<RunPolicyChoice> {
    Ok(match path {
        Some(path) => {
            let file = stratbox_policy::load(path, assets)?;
            RunPolicyChoice {
                record: RunPolicy::File {
                    source: file.source.clone(),
                    sha256: file.sha256.clone(),
                    origin: Some(path.to_owned()),
                },
                compiled: Some(file.compiled),
            }
        }
        None => RunPolicyChoice {
            compiled: None,
            record: RunPolicy::AllowAll,
        },
    })
}

/// What a journaled run records about itself.
pub struct JournalStart<'a> {
    /// The deployment.
    pub spec: &'a DeploymentSpec,
    /// The strategy.
    pub component: &'a StrategyComponent,
    /// Its file, for replay.
    pub component_path: &'a Path,
    /// The policy.
    pub policy: RunPolicy,
    /// The assets the policy was checked against.
    pub assets: AssetCatalog,
    /// The command that started the run.
    pub label: String,
}

/// The recorder when there is one, else a sink that records nothing.
pub fn sink<'a>(
    recorder: &'a mut Option<Recorder>,
    none: &'a mut stratbox_backtest::NoJournal,
) -> &'a mut dyn stratbox_runtime::JournalSink {
    match recorder.as_mut() {
        Some(recorder) => recorder,
        None => none,
    }
}

/// Open (or create) the journal at `path` and start recording a run.
pub fn start_journal(path: &Path, start: JournalStart<'_>) -> anyhow::Result<Recorder> {
    // A backtest: commits survive a crash of this process, and the run can
    // be recorded again if the machine goes down.
    let journal = Journal::open_with(path, Durability::Normal)
        .with_context(|| format!("opening journal {}", path.display()))?;
    let run = NewRun {
        spec: start.spec.clone(),
        component_sha256: start.component.info().sha256.clone(),
        component_path: Some(std::path::absolute(start.component_path)?),
        policy: start.policy,
        initial_policy_state: None,
        assets: start.assets,
        label: Some(start.label),
    };
    Ok(Recorder::start(journal, &run)?)
}

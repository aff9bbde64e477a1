//! What every run command sets up the same way: the strategy component, the
//! policy and the journal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use stratbox_journal::{Durability, Journal, NewRun, Recorder, RunPolicy};
use stratbox_runtime::policy::{AssetCatalog, CompiledPolicy, PolicyEngine};
use stratbox_runtime::{AllowAll, DeploymentSpec, Policy, StrategyComponent};

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
        })
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

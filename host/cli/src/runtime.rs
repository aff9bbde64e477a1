//! The runtime every command loads components with: compiled in a worker
//! process (this program's hidden `compile-worker` command) that is killed
//! at the compile timeout and bounded in memory.

use anyhow::Context;
use stratbox_runtime::{CompileIsolation, CompileWorker, Runtime, RuntimeConfig};

/// The hidden command that runs the compile worker.
pub const COMPILE_WORKER_COMMAND: &str = "compile-worker";

/// This program, run as the compile worker.
pub fn compile_worker() -> anyhow::Result<CompileWorker> {
    let program = std::env::current_exe().context("locating this program (the compile worker)")?;
    Ok(CompileWorker::new(program).arg(COMPILE_WORKER_COMMAND))
}

/// A runtime of `config` whose components compile in [`compile_worker`].
pub fn isolated(config: RuntimeConfig) -> anyhow::Result<Runtime> {
    Ok(Runtime::new(config)?
        .with_compile_isolation(CompileIsolation::Subprocess(compile_worker()?)))
}

//! `stratbox inspect`.

use std::path::Path;

use anyhow::Context;
use stratbox_runtime::bundle::ObjectKind;
use stratbox_runtime::types::BlockInfo;
use stratbox_runtime::{
    AllowAll, DeployError, Deployment, DeploymentHost, DeploymentSpec, Limits, Oracle, Runtime,
    RuntimeConfig, StrategyComponent, TickError,
};

use crate::keys::KeyArgs;
use crate::session::LimitArgs;

/// Print what a component is and whether it loads under the defaults, or
/// what a sealed bundle's manifest says.
pub fn run(path: &Path, key: &KeyArgs, limit_args: &LimitArgs, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if ObjectKind::Bundle.matches(&bytes) {
        return crate::inspect_bundle::run(path, &bytes, key, json);
    }
    let runtime = crate::runtime::isolated(RuntimeConfig::default())?;
    let info = runtime.inspect(&bytes)?;
    let component = crate::cache::load(&runtime, &bytes)?;
    let class = limit_args.class(None);
    let limits = Limits::of_class(class);
    // Loading compiled it; a trial deployment proves it instantiates and
    // initializes within the limits a host would give it.
    let trial = trial_init(&runtime, &component, limits.clone());
    if json {
        let mut value = serde_json::to_value(&info)?;
        value["limits"] = serde_json::Value::from(class.to_string());
        value["instantiates"] = serde_json::Value::from(trial.is_ok());
        if let Err(reason) = &trial {
            value["instantiate_error"] = serde_json::Value::from(reason.clone());
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("component   {}", path.display());
    println!("size        {} bytes", info.size_bytes);
    println!("sha256      {}", info.sha256);
    let version = info
        .world_version
        .as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string);
    println!("world       stratbox:strategy@{version}");
    println!(
        "language    {}",
        info.language_hint.as_deref().unwrap_or("unknown")
    );
    println!(
        "modules     {} ({} functions, {} core instances, at most {} locals in one function)",
        info.modules, info.functions, info.core_instances, info.max_function_locals
    );
    for import in &info.imports {
        println!("import      {import}");
    }
    for export in &info.exports {
        println!("export      {export}");
    }
    println!("compiles    yes");
    match trial {
        Ok(()) => println!("instantiates yes, under the {class} limits"),
        Err(reason) => println!("instantiates no, under the {class} limits: {reason}"),
    }
    Ok(())
}

/// Instantiate the component and run `init` with an empty config against
/// an empty oracle; the strategy may refuse the config (that is its
/// choice), but the sandbox must accept the component.
fn trial_init(
    runtime: &Runtime,
    component: &StrategyComponent,
    limits: Limits,
) -> Result<(), String> {
    struct Nothing;
    impl Oracle for Nothing {
        fn block(&mut self) -> BlockInfo {
            BlockInfo {
                chain_id: 0,
                number: 0,
                timestamp_ms: 0,
            }
        }
    }
    let spec = DeploymentSpec::new("inspect", "{}").with_limits(limits);
    match Deployment::new(
        runtime,
        component,
        spec,
        DeploymentHost::new(Nothing, AllowAll),
    ) {
        Ok(_) => Ok(()),
        Err(DeployError::Init(failure))
            if matches!(failure.error, TickError::GuestError { .. }) =>
        {
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

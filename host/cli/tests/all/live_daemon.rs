//! `stratbox run` against anvil: two deployments at once, one on a chain
//! that cannot be reached; the healthy one keeps its schedule, both stop
//! cleanly on SIGTERM, and the journal holds the healthy one's ticks.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stratbox_evm::AccountMode;
use stratbox_evm::devnet::{Anvil, Artifacts, DEPLOYMENT_KEY, Devnet};
use stratbox_test_artifacts::Guest;

/// The variable the daemon reads the deployment key's passphrase from.
const PASSPHRASE_VAR: &str = "STRATBOX_TEST_DEPLOYER_PASSPHRASE";
const PASSPHRASE: &str = "live daemon test passphrase";

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn ticks_in(journal: &Path, deployment: &str) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(journal) else {
        return 0;
    };
    conn.query_row(
        "SELECT COUNT(*) FROM ticks t JOIN deployments d ON d.id = t.deployment
         WHERE d.deployment = ?1 AND t.call = 'tick'",
        [deployment],
        |row| row.get(0),
    )
    .unwrap_or(0)
}

#[test]
fn daemon_runs_deployments_independently_and_stops_on_sigterm() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let artifacts = Artifacts::locate(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let anvil = Anvil::start(artifacts.node_modules(), true).unwrap();
    let devnet = tokio
        .block_on(Devnet::deploy(anvil.url(), &artifacts))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("chain.toml"), devnet.chain_toml(&AccountMode::Eoa)).unwrap();
    // Same chain, but nothing listens at this URL.
    let unreachable = devnet
        .chain_toml(&AccountMode::Eoa)
        .replace(&devnet.url, "http://127.0.0.1:9");
    std::fs::write(d.join("unreachable.toml"), unreachable).unwrap();
    // The deployment key rests sealed under a passphrase: sealed from a
    // plaintext file as an operator would, the plaintext then deleted.
    write_private(&d.join("deployer.plain"), DEPLOYMENT_KEY);
    let sealed = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["keygen", "--kind", "secp256k1", "--from-plaintext"])
        .arg(d.join("deployer.plain"))
        .arg("--out")
        .arg(d.join("deployer.key"))
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, PASSPHRASE)
        .output()
        .unwrap();
    assert!(sealed.status.success(), "{sealed:?}");
    std::fs::remove_file(d.join("deployer.plain")).unwrap();
    std::fs::write(
        d.join("rsi.json"),
        r#"{"market":"WETH/DAI","base":"WETH","quote":"DAI","quote_decimals":18,"period":3,"oversold":30,"overbought":70,"order_size":"10","cooldown_ms":0,"max_slippage_bps":100}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("policy.toml"),
        "version = 1\nquote = \"DAI\"\nchains = [31337]\n[swap]\ntokens = [\"WETH\", \"DAI\"]\nmax_amount = { DAI = \"100\" }\n",
    )
    .unwrap();
    let strategy = Guest::RsiMomentum.path().display().to_string();
    let deployment = |id: &str, chain: &str| {
        format!(
            "[[deployment]]\nid = \"{id}\"\nstrategy = \"{strategy}\"\nconfig = \"rsi.json\"\npolicy = \"policy.toml\"\nchain = \"{chain}\"\nsigning_key = {{ sealed = {{ file = \"deployer.key\", passphrase_env = \"{PASSPHRASE_VAR}\" }} }}\nschedule = {{ every_secs = 1 }}\ncandles = {{ market = \"WETH/DAI\", pool = \"WETH/DAI\" }}\n\n[deployment.limits]\nfuel_per_tick = 50000000\n\n"
        )
    };
    let file = deployment("healthy", "chain.toml") + &deployment("broken", "unreachable.toml");
    std::fs::write(d.join("deployments.toml"), file).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["run", &d.join("deployments.toml").display().to_string()])
        .args(crate::host_key(d))
        .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
        .env(PASSPHRASE_VAR, PASSPHRASE)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while ticks_in(&d.join("healthy.db"), "healthy") < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the healthy deployment never ticked 3 times"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("healthy: stopped after"), "{stderr}");
    assert!(stderr.contains("broken: stopped after"), "{stderr}");
    assert!(!stderr.contains("abandoned"), "{stderr}");
    assert!(ticks_in(&d.join("healthy.db"), "healthy") >= 3);
    assert_eq!(
        ticks_in(&d.join("broken.db"), "broken"),
        0,
        "the broken chain never connected"
    );
}

#[test]
fn broken_deployments_file_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deployments.toml");
    std::fs::write(&path, "[[deployment]]\nid = \"x\"\nsurprise = 1\n").unwrap();
    let output = crate::stratbox(&["run", &path.display().to_string()]);
    let (_, stderr) = crate::text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("unknown field `surprise`"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
}

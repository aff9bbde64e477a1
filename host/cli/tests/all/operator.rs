//! What an operator of `stratbox run` relies on: the process cannot dump
//! its secrets, logs written to a file carry no colour codes and never the
//! RPC URL's key, failing deployments are named at the default log level,
//! and a deployment is driven by at most one daemon. No chain needed: the
//! deployment's node is a closed loopback port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use stratbox_evm::devnet::DEPLOYMENT_KEY;
use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

/// The variable the deployment key is read from.
const KEY_VAR: &str = "STRATBOX_TEST_OPERATOR_KEY";

/// Parts of the RPC URL that must never be printed.
const SECRETS: [&str; 3] = ["FAKEKEY123", "QUERYKEY456", "s3cret-pass"];

#[cfg(target_os = "linux")]
#[test]
fn the_process_writes_no_core_and_is_not_dumpable() {
    let output = stratbox(&["process-hardening"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("core_limit=0/0"), "{stdout}");
    assert!(stdout.contains("dumpable=0"), "{stdout}");
}

/// A deployments file with one deployment, `keyed`, whose node is a
/// closed loopback port behind a URL full of credentials (its key comes
/// from [`KEY_VAR`]).
fn deployment_dir() -> (tempfile::TempDir, PathBuf) {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let chain = format!(
        r#"rpc_url = "http://op:s3cret-pass@127.0.0.1:{port}/v2/FAKEKEY123?apikey=QUERYKEY456"
chain_id = 31337
[contracts]
swap_router = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
position_manager = "0x0165878A594ca255338adfa4d48449f69242Eb8F"
[assets.WETH]
address = "0x1000000000000000000000000000000000000001"
decimals = 18
[assets.DAI]
address = "0x2000000000000000000000000000000000000002"
decimals = 18
[pools."WETH/DAI"]
address = "0x3000000000000000000000000000000000000003"
token0 = "WETH"
token1 = "DAI"
fee = 3000
"#
    );
    std::fs::write(d.join("chain.toml"), chain).unwrap();
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
    std::fs::write(
        d.join("deployments.toml"),
        format!(
            "[[deployment]]\nid = \"keyed\"\nstrategy = \"{strategy}\"\nconfig = \"rsi.json\"\npolicy = \"policy.toml\"\nchain = \"chain.toml\"\nsigning_key = {{ env = \"{KEY_VAR}\" }}\nschedule = {{ every_secs = 1 }}\ncandles = {{ market = \"WETH/DAI\", pool = \"WETH/DAI\" }}\n"
        ),
    )
    .unwrap();
    let file = d.join("deployments.toml");
    (dir, file)
}

/// `stratbox run <file>` with standard error to a pipe and no log filter
/// set (the default level).
fn spawn_run(file: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .arg("run")
        .arg(file)
        .args(extra)
        .args(crate::host_key(file.parent().unwrap()))
        .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
        .env_remove("STRATBOX_LOG")
        .env(KEY_VAR, DEPLOYMENT_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn terminate(child: Child) -> Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

/// The lease's holder in `journal`, if any.
fn lease_holder(journal: &Path) -> Option<String> {
    let conn = rusqlite::Connection::open(journal).ok()?;
    conn.query_row(
        "SELECT holder FROM leases WHERE deployment = 'keyed'",
        [],
        |row| row.get(0),
    )
    .ok()
}

fn wait_for_lease(journal: &Path) -> String {
    let started = Instant::now();
    loop {
        if let Some(holder) = lease_holder(journal) {
            return holder;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no lease taken"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn daemon_logs_to_a_pipe_name_the_failing_deployment_without_colour_or_key() {
    let (dir, file) = deployment_dir();
    let child = spawn_run(&file, &[]);
    wait_for_lease(&dir.path().join("keyed.db"));
    // A few ticks against the closed port.
    std::thread::sleep(Duration::from_millis(3500));
    let output = terminate(child);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "colour codes in a pipe: {stderr:?}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "colour codes in a pipe: {stdout:?}"
    );
    for secret in SECRETS {
        assert!(!stderr.contains(secret), "`{secret}` leaked: {stderr}");
        assert!(!stdout.contains(secret), "`{secret}` leaked: {stdout}");
    }
    // The failure is visible at the default level, with the deployment id
    // and the node's host and port.
    let failed = stderr
        .lines()
        .find(|line| line.contains("tick failed") && line.contains("eth_chainId"))
        .unwrap_or_else(|| panic!("no tick failure logged: {stderr}"));
    assert!(failed.contains("WARN"), "{failed}");
    assert!(failed.contains("deployment=keyed"), "{failed}");
    assert!(failed.contains("http://127.0.0.1:"), "{failed}");
    assert!(failed.contains("[redacted]"), "{failed}");
    // The journal, its log and index are private to the operator.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("keyed.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A graceful exit releases the lease.
    assert_eq!(lease_holder(&dir.path().join("keyed.db")), None);
}

#[test]
fn a_second_daemon_on_the_same_deployment_refuses_to_start() {
    let (dir, file) = deployment_dir();
    let journal = dir.path().join("keyed.db");
    let first = spawn_run(&file, &[]);
    let holder = wait_for_lease(&journal);
    assert!(
        holder.starts_with(&format!("pid {} ", first.id())),
        "{holder}"
    );
    let started = Instant::now();
    let second = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .arg("run")
        .arg(&file)
        .args(crate::host_key(dir.path()))
        .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
        .env(KEY_VAR, DEPLOYMENT_KEY)
        .output()
        .unwrap();
    let (_, stderr) = text(&second);
    assert!(!second.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(stderr.contains("deployment `keyed`"), "{stderr}");
    assert!(stderr.contains(&holder), "names the holder: {stderr}");
    assert!(stderr.contains("driven by another process"), "{stderr}");
    // The first daemon kept its lease and still runs; the journal shows
    // who drives the deployment.
    assert_eq!(lease_holder(&journal), Some(holder.clone()));
    let listed = stratbox(&[
        "journal",
        "--journal",
        &journal.display().to_string(),
        "runs",
    ]);
    let (stdout, stderr) = text(&listed);
    assert!(listed.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("deployment \"keyed\" is driven by {holder}")),
        "{stdout}"
    );
    let output = terminate(first);
    assert!(output.status.success(), "{}", text(&output).1);
    // Once it has stopped, another daemon may drive the deployment.
    let third = spawn_run(&file, &[]);
    let taken = wait_for_lease(&journal);
    assert!(
        taken.starts_with(&format!("pid {} ", third.id())),
        "{taken}"
    );
    let output = terminate(third);
    assert!(output.status.success(), "{}", text(&output).1);
}

#[test]
fn a_killed_daemons_deployment_is_taken_over_at_once() {
    let (dir, file) = deployment_dir();
    let journal = dir.path().join("keyed.db");
    let mut first = spawn_run(&file, &[]);
    wait_for_lease(&journal);
    first.kill().unwrap();
    first.wait().unwrap();
    // The lease (60 s) has not expired, but its holder is gone.
    let second = spawn_run(&file, &["--lease-secs", "60"]);
    let taken = wait_for_lease_of(&journal, second.id());
    assert!(
        taken.starts_with(&format!("pid {} ", second.id())),
        "{taken}"
    );
    let output = terminate(second);
    assert!(output.status.success(), "{}", text(&output).1);
}

fn wait_for_lease_of(journal: &Path, pid: u32) -> String {
    let started = Instant::now();
    loop {
        if let Some(holder) = lease_holder(journal)
            && holder.starts_with(&format!("pid {pid} "))
        {
            return holder;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "lease not taken over: {:?}",
            lease_holder(journal)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

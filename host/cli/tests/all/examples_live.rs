//! The live example (`examples/live/`) works as written against the
//! devnet: its chain file holds exactly the addresses the devnet deploys,
//! and its deployments file, with the keys made as its comments tell a
//! user, runs under `stratbox run` until SIGTERM stops it cleanly.
//!
//! The example is copied into a directory laid out like the repository
//! (`examples/live/` plus `target/stratbox/`), and only three things
//! change in the copy: the chain file's `rpc_url` (the devnet listens on a
//! free port, not 8545), the schedule (every 200 ms instead of every
//! 60 s, so that three ticks take a second, not three minutes), and the
//! strategy component, which `stratbox build` would write to
//! `target/stratbox/` and the test artifacts crate has already built.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use stratbox_evm::devnet::{Anvil, Artifacts, DEPLOYMENT_KEY, Devnet, address_of};
use stratbox_evm::{AccountMode, ChainConfig};
use stratbox_test_artifacts::Guest;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/live");

/// The line of `text` that starts with `prefix`; exactly one must.
fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    assert_eq!(lines.len(), 1, "one line starts with `{prefix}`: {lines:?}");
    lines[0]
}

/// `text` with its line `from` replaced by `to`.
fn replace_line(text: &str, from: &str, to: &str) -> String {
    let mut out: String = text
        .lines()
        .map(|l| if l == from { to } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// Every `0x` followed by 40 hex digits in `text`, comments included.
fn addresses_in(text: &str) -> Vec<Address> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("0x") {
        let digits: String = text[at + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if digits.len() == 40 {
            found.push(text[at..at + 42].parse().unwrap());
        }
    }
    found
}

/// The shell command a comment line of `text` documents (after `#`),
/// found by its start.
fn documented_command(text: &str, start: &str) -> Vec<String> {
    let commands: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.split(" # ").next().unwrap().trim())
        .filter(|l| l.starts_with(start))
        .collect();
    assert_eq!(commands.len(), 1, "one comment documents `{start}`");
    commands[0].split_whitespace().map(str::to_owned).collect()
}

/// The chain file checked against what the devnet deployed: every
/// setting but `rpc_url`, and every address it mentions, comments
/// included.
fn assert_chain_file_matches(text: &str, devnet: &Devnet) {
    let example = ChainConfig::parse(text, "examples/live/chain.toml").unwrap();
    let deployed = devnet.chain_config(AccountMode::Eoa);
    let context = format!(
        "examples/live/chain.toml does not match the devnet, which deploys:\n{}\n(Safe: {})",
        devnet.chain_toml(&AccountMode::Eoa),
        devnet.safe
    );
    assert_eq!(example.chain_id, deployed.chain_id, "{context}");
    assert_eq!(example.native_asset, deployed.native_asset, "{context}");
    assert_eq!(example.account, AccountMode::Eoa, "{context}");
    assert_eq!(
        (
            example.contracts.swap_router,
            example.contracts.position_manager
        ),
        (devnet.swap_router, devnet.position_manager),
        "{context}"
    );
    let assets = |c: &ChainConfig| -> BTreeMap<String, (Address, u8)> {
        c.assets
            .iter()
            .map(|(s, a)| (s.clone(), (a.address, a.decimals)))
            .collect()
    };
    assert_eq!(assets(&example), assets(&deployed), "{context}");
    let pools = |c: &ChainConfig| -> BTreeMap<String, (Address, String, String, u32)> {
        c.pools
            .iter()
            .map(|(n, p)| {
                (
                    n.clone(),
                    (p.address, p.token0.clone(), p.token1.clone(), p.fee),
                )
            })
            .collect()
    };
    assert_eq!(pools(&example), pools(&deployed), "{context}");
    let feeds = |c: &ChainConfig| -> BTreeMap<String, Address> {
        c.feeds
            .iter()
            .map(|(n, f)| (n.clone(), f.aggregator))
            .collect()
    };
    assert_eq!(feeds(&example), feeds(&deployed), "{context}");
    assert_eq!(example.fees, deployed.fees, "the defaults, written out");
    // Addresses in comments (the Safe of the Safe-mode line) too.
    let known = [
        devnet.weth,
        devnet.dai,
        devnet.link,
        devnet.pool,
        devnet.swap_router,
        devnet.position_manager,
        devnet.feed,
        devnet.safe,
    ];
    for address in addresses_in(text) {
        assert!(known.contains(&address), "{address}: {context}");
    }
    assert!(
        addresses_in(text).contains(&devnet.safe),
        "the Safe-mode comment names the devnet's Safe: {context}"
    );
}

/// Ticks (`tick` calls) in a journal.
fn ticks(journal: &Path) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(journal) else {
        return 0;
    };
    conn.query_row(
        "SELECT COUNT(*) FROM ticks WHERE call = 'tick'",
        [],
        |row| row.get(0),
    )
    .unwrap_or(0)
}

#[test]
fn example_live_files_run_as_written_against_the_devnet() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let artifacts = Artifacts::locate(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let anvil = Anvil::start(artifacts.node_modules(), true).unwrap();
    let devnet = tokio
        .block_on(Devnet::deploy(anvil.url(), &artifacts))
        .unwrap();
    let deployer = address_of(DEPLOYMENT_KEY);
    tokio.block_on(devnet.fund(deployer, 1, 5_000)).unwrap();

    // A copy of the repository's parts the example uses: examples/live/
    // (its files, not what a local run left there) and target/stratbox/.
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let live = root.join("examples/live");
    std::fs::create_dir_all(&live).unwrap();
    for entry in std::fs::read_dir(EXAMPLE).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let local = name.ends_with(".key") || name.contains(".db") || name.ends_with(".hex");
        if entry.file_type().unwrap().is_file() && !local {
            std::fs::copy(entry.path(), live.join(&name)).unwrap();
        }
    }

    // The chain file: every address is the devnet's; only the URL moves.
    let chain = std::fs::read_to_string(live.join("chain.toml")).unwrap();
    assert_chain_file_matches(&chain, &devnet);
    let url_line = line_starting(&chain, "rpc_url =");
    let chain = replace_line(&chain, url_line, &format!("rpc_url = \"{}\"", devnet.url));
    std::fs::write(live.join("chain.toml"), chain).unwrap();

    let deployments = std::fs::read_to_string(live.join("deployments.toml")).unwrap();
    // The strategy is the component `stratbox build` writes, as the
    // comment says; the test artifacts crate built the same crate.
    let build = documented_command(&deployments, "stratbox build");
    assert_eq!(build, ["stratbox", "build", "strategies/rust/rsi-momentum"]);
    let strategy = line_starting(&deployments, "strategy =");
    assert!(
        strategy.starts_with("strategy = \"../../target/stratbox/rsi-momentum.wasm\""),
        "{strategy}"
    );
    std::fs::create_dir_all(root.join("target/stratbox")).unwrap();
    std::fs::copy(
        Guest::RsiMomentum.path(),
        root.join("target/stratbox/rsi-momentum.wasm"),
    )
    .unwrap();
    // Every minute is too slow for a test: every 200 ms instead.
    let schedule = line_starting(&deployments, "schedule =");
    assert!(
        schedule.starts_with("schedule = { every_secs = 60 }"),
        "{schedule}"
    );
    let deployments = replace_line(&deployments, schedule, "schedule = { every_ms = 200 }");
    std::fs::write(live.join("deployments.toml"), &deployments).unwrap();

    // The deployment key, sealed as the comment tells: a plaintext hex
    // file only its owner reads, sealed by the documented command, deleted.
    let plaintext = root.join("deployer.hex");
    std::fs::write(&plaintext, format!("{DEPLOYMENT_KEY}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plaintext, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let keygen = documented_command(&deployments, "stratbox keygen --kind secp256k1");
    let passphrase_var = &keygen[keygen.iter().position(|a| a == "--passphrase-env").unwrap() + 1];
    assert!(
        deployments.contains(&format!(
            "signing_key = {{ sealed = {{ file = \"deployer.key\", passphrase_env = \"{passphrase_var}\" }} }}"
        )),
        "the key is sealed where and as the deployment reads it"
    );
    let sealed = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(&keygen[1..])
        .env(passphrase_var, "examples live deployer passphrase")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(sealed.status.success(), "{sealed:?}");
    assert!(live.join("deployer.key").is_file(), "{keygen:?}");
    std::fs::remove_file(&plaintext).unwrap();

    // The host key, made as `stratbox keygen --kind x25519` documents, in
    // the directory the run command is started from.
    let host_keygen = documented_command(&deployments, "stratbox keygen --kind x25519");
    assert_eq!(
        host_keygen[..6],
        [
            "stratbox", "keygen", "--kind", "x25519", "--out", "host.key"
        ]
    );
    let key_args = crate::host_key(root);
    let run = documented_command(&deployments, "stratbox run");
    assert_eq!(
        run[..5],
        [
            "stratbox",
            "run",
            "examples/live/deployments.toml",
            "--key",
            "host.key"
        ]
    );
    let child = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(&run[1..3])
        .args(key_args)
        .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
        .env(passphrase_var, "examples live deployer passphrase")
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let journal_line = line_starting(&deployments, "journal =");
    assert!(journal_line.starts_with("journal = \"rsi-weth-dai.db\""));
    let journal = live.join("rsi-weth-dai.db");
    let started = Instant::now();
    while ticks(&journal) < 3 {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the example never ticked 3 times:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
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
    assert!(!stderr.contains("tick failed"), "{stderr}");
    assert!(stderr.contains("rsi-weth-dai: stopped after"), "{stderr}");
    assert!(stderr.contains(", 0 failed"), "{stderr}");
    assert!(ticks(&journal) >= 3);
    assert!(
        live.join("state").is_dir(),
        "committed state is kept in `state` beside the deployments file"
    );
}

//! `stratbox run` on anvil survives restarts: graceful stops and SIGKILL
//! at random moments resume the run at its last committed tick (the
//! strategy's sealed snapshot, the policy's state, the candle cursor,
//! outcomes not yet delivered, transactions in flight), and an outcome the
//! daemon could not know when it stopped reaches the strategy after the
//! restart. The strategy is the RSI example on a CSV tape, so that runs
//! are deterministic and can be compared action by action.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use stratbox_evm::AccountMode;
use stratbox_evm::devnet::{Anvil, Artifacts, DEPLOYMENT_KEY, Devnet, address_of};
use stratbox_test_artifacts::Guest;

/// The variable the deployment key is read from.
const KEY_VAR: &str = "STRATBOX_TEST_RESUME_KEY";

/// A devnet with the deployment account funded, and a directory holding a
/// deployments file for it.
struct Live {
    tokio: tokio::runtime::Runtime,
    devnet: Devnet,
    _anvil: Anvil,
    dir: tempfile::TempDir,
}

impl Live {
    /// A devnet (mining every transaction at once unless `automine` is
    /// false) and a deployment `rsi` of the RSI example over `closes`
    /// under `policy`, ticking every `every_ms`.
    fn start(
        closes: &[f64],
        policy: &str,
        (automine, receipt_timeout_secs): (bool, u64),
        every_ms: u64,
    ) -> Live {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let artifacts = Artifacts::locate(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let anvil = Anvil::start(artifacts.node_modules(), true).unwrap();
        let devnet = tokio
            .block_on(Devnet::deploy(anvil.url(), &artifacts))
            .unwrap();
        tokio
            .block_on(devnet.fund(address_of(DEPLOYMENT_KEY), 0, 10_000))
            .unwrap();
        let live = Live {
            tokio,
            devnet,
            _anvil: anvil,
            dir: tempfile::tempdir().unwrap(),
        };
        if !automine {
            live.rpc("evm_setAutomine", serde_json::json!([false]));
        }
        let d = live.dir.path();
        let chain = live.devnet.chain_toml(&AccountMode::Eoa).replace(
            "receipt_timeout_secs = 120",
            &format!("receipt_timeout_secs = {receipt_timeout_secs}"),
        );
        std::fs::write(d.join("chain.toml"), chain).unwrap();
        std::fs::write(
            d.join("rsi.json"),
            r#"{"market":"WETH/DAI","base":"WETH","quote":"DAI","quote_decimals":18,"period":2,"oversold":30,"overbought":70,"order_size":"10","cooldown_ms":0,"max_slippage_bps":300}"#,
        )
        .unwrap();
        std::fs::write(d.join("policy.toml"), policy).unwrap();
        let mut tape = String::from("timestamp_ms,open,high,low,close,volume\n");
        for (i, close) in closes.iter().enumerate() {
            let t = 1_700_000_000_000u64 + 60_000 * i as u64;
            tape.push_str(&format!("{t},{close},{close},{close},{close},1\n"));
        }
        std::fs::write(d.join("tape.csv"), tape).unwrap();
        let strategy = Guest::RsiMomentum.path().display().to_string();
        std::fs::write(
            d.join("deployments.toml"),
            format!(
                "[[deployment]]\nid = \"rsi\"\nstrategy = \"{strategy}\"\nconfig = \"rsi.json\"\npolicy = \"policy.toml\"\nchain = \"chain.toml\"\nsigning_key = {{ env = \"{KEY_VAR}\" }}\nschedule = {{ every_ms = {every_ms} }}\ncandles = {{ market = \"WETH/DAI\", csv = \"tape.csv\" }}\n\n[deployment.limits]\nfuel_per_tick = 50000000\n"
            ),
        )
        .unwrap();
        live
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("rsi.db")
    }

    fn rpc(&self, method: &'static str, params: serde_json::Value) {
        let provider =
            stratbox_evm::devnet::signer_provider(&self.devnet.url, DEPLOYMENT_KEY).unwrap();
        let _: serde_json::Value = self
            .tokio
            .block_on(provider.raw_request(method.into(), params))
            .unwrap();
    }

    /// Transactions the deployment account has had included.
    fn nonce(&self) -> u64 {
        let provider =
            stratbox_evm::devnet::signer_provider(&self.devnet.url, DEPLOYMENT_KEY).unwrap();
        self.tokio
            .block_on(async {
                provider
                    .get_transaction_count(address_of(DEPLOYMENT_KEY))
                    .latest()
                    .await
            })
            .unwrap()
    }

    /// `stratbox run` on the deployments file, standard error to a file.
    fn spawn(&self, life: usize, extra: &[&str]) -> Child {
        let d = self.dir.path();
        let log = std::fs::File::create(d.join(format!("run-{life}.log"))).unwrap();
        Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .arg("run")
            .arg(d.join("deployments.toml"))
            .args(crate::host_key(d))
            .args(extra)
            .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
            .env(KEY_VAR, DEPLOYMENT_KEY)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn logs(&self) -> String {
        let mut all = String::new();
        for life in 0.. {
            let Ok(text) = std::fs::read_to_string(self.dir.path().join(format!("run-{life}.log")))
            else {
                break;
            };
            all.push_str(&format!("--- life {life}\n{text}"));
        }
        all
    }
}

fn query<T>(
    journal: &Path,
    sql: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let Ok(conn) = rusqlite::Connection::open(journal) else {
        return Vec::new();
    };
    let Ok(mut statement) = conn.prepare(sql) else {
        return Vec::new();
    };
    statement
        .query_map([], row)
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// Ticks the journal holds.
fn ticks(journal: &Path) -> i64 {
    query(
        journal,
        "SELECT COUNT(*) FROM ticks WHERE call = 'tick'",
        |row| row.get(0),
    )
    .into_iter()
    .next()
    .unwrap_or(0)
}

/// Runs (started, not resumed) the journal holds.
fn runs(journal: &Path) -> i64 {
    query(journal, "SELECT COUNT(*) FROM deployments", |row| {
        row.get(0)
    })
    .into_iter()
    .next()
    .unwrap_or(0)
}

/// Every emission of ticks below `below`: sequence, action, verdict, id,
/// denial code.
type EmissionLine = (i64, String, String, Option<i64>, Option<String>);

fn emissions(journal: &Path, below: i64) -> Vec<EmissionLine> {
    query(
        journal,
        &format!(
            "SELECT t.sequence, e.action, e.verdict, e.action_id, e.code
             FROM emissions e JOIN ticks t ON t.id = e.tick
             WHERE t.call = 'tick' AND t.sequence < {below} ORDER BY t.sequence, e.position"
        ),
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        },
    )
}

/// Accepted actions with no recorded outcome.
fn unsettled(journal: &Path) -> i64 {
    query(
        journal,
        "SELECT COUNT(*) FROM emissions e JOIN ticks t ON t.id = e.tick
         WHERE e.verdict = 'accepted' AND t.outcome = 'ok'
           AND e.action_id NOT IN (SELECT action_id FROM action_results)",
        |row| row.get(0),
    )
    .into_iter()
    .next()
    .unwrap_or(i64::MAX)
}

/// Transaction intents: action id, purpose, status, hash.
fn intents(journal: &Path) -> Vec<(i64, String, String, String)> {
    query(
        journal,
        "SELECT action_id, purpose, status, tx_hash FROM tx_intents ORDER BY id",
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )
}

/// Outcomes delivered to the strategy in tick inputs, by action id.
fn delivered(journal: &Path) -> Vec<(u64, String)> {
    let contexts: Vec<String> = query(
        journal,
        "SELECT context FROM ticks WHERE call = 'tick' AND outcome = 'ok' ORDER BY sequence",
        |row| row.get(0),
    );
    let mut out = Vec::new();
    for context in contexts {
        let input: stratbox_runtime::TickInput = serde_json::from_str(&context).unwrap();
        for (id, outcome) in input.results {
            let kind = match outcome {
                stratbox_runtime::types::ActionOutcome::Filled(_) => "filled",
                stratbox_runtime::types::ActionOutcome::Failed(_) => "failed",
            };
            out.push((id, kind.to_owned()));
        }
    }
    out
}

fn wait_until(what: &str, live: &Live, timeout: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < timeout,
            "timed out waiting for {what}; logs:\n{}",
            live.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
}

fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Falls for a few candles (RSI oversold: buy), then rises (overbought:
/// sell) for `rising` candles.
fn fall_then_rise(rising: usize) -> Vec<f64> {
    let mut closes = vec![3000.0, 2990.0, 2980.0, 2970.0];
    let mut price = 2970.0;
    for _ in 0..rising {
        price += 5.0;
        closes.push(price);
    }
    closes
}

/// Swings down and up every four candles: a trade every few ticks.
fn swings(candles: usize) -> Vec<f64> {
    (0..candles)
        .map(|i| {
            let phase = i % 8;
            let step = if phase < 4 { phase } else { 8 - phase };
            3000.0 - 10.0 * step as f64
        })
        .collect()
}

const PERMISSIVE: &str = "version = 1\nquote = \"DAI\"\nchains = [31337]\n[swap]\ntokens = [\"WETH\", \"DAI\"]\nmax_slippage_bps = 500\n";

#[test]
fn cooldowns_and_daily_counts_hold_across_graceful_restarts() {
    let policy = "version = 1\nquote = \"DAI\"\nchains = [31337]\n[limits]\nmax_actions_per_day = 2\n[swap]\ntokens = [\"WETH\", \"DAI\"]\nmax_slippage_bps = 500\ncooldown = \"1h\"\n";
    let live = Live::start(&fall_then_rise(60), policy, (true, 120), 200);
    let journal = live.journal();
    for life in 0..5 {
        let child = live.spawn(life, &[]);
        let target = ticks(&journal) + 4;
        wait_until("4 more ticks", &live, Duration::from_secs(90), || {
            ticks(&journal) >= target
        });
        terminate(child);
    }
    assert_eq!(runs(&journal), 1, "every restart resumed the one run");
    let all = emissions(&journal, i64::MAX);
    let accepted: Vec<_> = all.iter().filter(|e| e.2 == "accepted").collect();
    assert_eq!(
        accepted.len(),
        1,
        "one swap in all: {all:#?}\n{}",
        live.logs()
    );
    assert!(accepted[0].1.contains("\"sell\":\"DAI\""), "{accepted:?}");
    // The strategy remembered its position and tried to sell; the policy
    // remembered its cooldown and refused every attempt.
    let denied: Vec<_> = all.iter().filter(|e| e.2 == "denied").collect();
    assert!(!denied.is_empty(), "the sells were tried: {all:#?}");
    assert!(
        denied
            .iter()
            .all(|e| e.4.as_deref() == Some("COOLDOWN_ACTIVE")),
        "{denied:#?}"
    );
    let last_denial = denied.last().unwrap().0;
    let sequences: Vec<i64> = query(
        &journal,
        "SELECT sequence FROM ticks WHERE call = 'tick' ORDER BY sequence",
        |row| row.get(0),
    );
    assert_eq!(
        sequences,
        (0..sequences.len() as i64).collect::<Vec<_>>(),
        "one tick per candle, none repeated or skipped"
    );
    assert!(last_denial > 12, "denials came after restarts too");
    let swaps = intents(&journal)
        .into_iter()
        .filter(|i| i.1.starts_with("swap"))
        .count();
    assert_eq!(swaps, 1, "one swap transaction");
}

/// A small deterministic generator for the kill points.
struct Lcg(u64);

impl Lcg {
    fn next_ms(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        low + (self.0 >> 33) % (high - low)
    }
}

#[test]
fn sigkill_at_random_points_gives_the_action_stream_of_an_uninterrupted_run() {
    let kills: usize = std::env::var("STRATBOX_KILL_RESTARTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("STRATBOX_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed);
    let closes = swings(160);
    let candles = closes.len() as i64;
    let settled = |journal: &Path| ticks(journal) >= candles && unsettled(journal) == 0;

    // The uninterrupted run.
    let reference = Live::start(&closes, PERMISSIVE, (true, 120), 100);
    let child = reference.spawn(0, &[]);
    let journal = reference.journal();
    wait_until(
        "the whole tape",
        &reference,
        Duration::from_secs(120),
        || settled(&journal),
    );
    terminate(child);
    let expected = emissions(&journal, candles);
    let expected_swaps = intents(&journal)
        .iter()
        .filter(|i| i.1.starts_with("swap"))
        .count();
    assert!(
        expected.iter().filter(|e| e.2 == "accepted").count() >= 8,
        "the tape trades often: {expected:#?}"
    );

    // The same run, killed again and again.
    let killed = Live::start(&closes, PERMISSIVE, (true, 120), 100);
    let journal = killed.journal();
    let mut random = Lcg(seed);
    let mut life = 0;
    // Kills while the tape still runs: each may land anywhere in a tick
    // (mid-call, between the journal's commit and the broadcast, while
    // waiting for a receipt) or in the daemon's start.
    let mut mid_run = 0;
    while mid_run < kills {
        let child = killed.spawn(life, &[]);
        std::thread::sleep(Duration::from_millis(random.next_ms(150, 1200)));
        kill(child);
        life += 1;
        assert!(
            ticks(&journal) < candles,
            "the tape ran out after {mid_run} kills: make it longer"
        );
        mid_run += 1;
    }
    let child = killed.spawn(life, &[]);
    let pid = format!("pid {} ", child.id());
    wait_until(
        "the last daemon's lease",
        &killed,
        Duration::from_secs(60),
        || {
            query(&journal, "SELECT holder FROM leases", |row| {
                row.get::<_, String>(0)
            })
            .iter()
            .any(|holder| holder.starts_with(&pid))
        },
    );
    wait_until(
        "the whole tape after the kills",
        &killed,
        Duration::from_secs(120),
        || settled(&journal),
    );
    terminate(child);

    assert_eq!(runs(&journal), 1, "every restart resumed the one run");
    let got = emissions(&journal, candles);
    assert_eq!(
        got,
        expected,
        "the action stream after {mid_run} kills (seed {seed:#x}) differs; logs:\n{}",
        killed.logs()
    );
    // One transaction per accepted action, each mined once; nothing sent
    // twice.
    let sent = intents(&journal);
    let accepted: Vec<i64> = got
        .iter()
        .filter(|e| e.2 == "accepted")
        .filter_map(|e| e.3)
        .collect();
    for id in &accepted {
        let swaps: Vec<_> = sent
            .iter()
            .filter(|i| i.0 == *id && i.1.starts_with("swap"))
            .collect();
        assert_eq!(swaps.len(), 1, "action {id}: {sent:#?}");
        assert_eq!(swaps[0].2, "mined", "action {id}: {sent:#?}");
    }
    assert_eq!(
        sent.iter().filter(|i| i.1.starts_with("swap")).count(),
        expected_swaps
    );
    assert!(sent.iter().all(|i| i.2 == "mined"), "{sent:#?}");
    assert_eq!(
        killed.nonce(),
        sent.len() as u64,
        "every transaction the chain included was journaled"
    );
    // The run, resumed after every kill, replays bit for bit from its
    // journal, whose keyed hash chain holds.
    let output = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["replay", "rsi", "--journal"])
        .arg(&journal)
        .args(crate::host_key(killed.dir.path()))
        .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
        .output()
        .unwrap();
    let (stdout, stderr) = crate::text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("verified (keyed by the host key)"),
        "{stdout}"
    );
}

#[test]
fn a_fill_mined_while_the_daemon_was_down_reaches_the_strategy() {
    // Blocks are mined by hand, and a receipt is given up on after 1 s:
    // the swap's outcome is unknown, not failed.
    let live = Live::start(&fall_then_rise(200), PERMISSIVE, (false, 1), 200);
    let journal = live.journal();
    let child = live.spawn(0, &[]);
    // The approval waits in the mempool; mine it once it is there.
    wait_until("the approval", &live, Duration::from_secs(90), || {
        intents(&journal).iter().any(|i| i.1.starts_with("approve"))
    });
    live.rpc("evm_mine", serde_json::json!([]));
    wait_until("the swap", &live, Duration::from_secs(90), || {
        intents(&journal).iter().any(|i| i.1.starts_with("swap"))
    });
    // Give the daemon time to give up on the receipt and report nothing.
    std::thread::sleep(Duration::from_millis(2500));
    kill(child);
    let swap = intents(&journal)
        .into_iter()
        .find(|i| i.1.starts_with("swap"))
        .unwrap();
    assert_eq!(swap.2, "pending");
    assert!(
        delivered(&journal).is_empty(),
        "an unknown outcome is not reported as a failure: {:?}",
        delivered(&journal)
    );
    // Mined while nobody watched.
    live.rpc("evm_mine", serde_json::json!([]));
    live.rpc("evm_setAutomine", serde_json::json!([true]));

    let child = live.spawn(1, &[]);
    wait_until("the fill delivered", &live, Duration::from_secs(90), || {
        delivered(&journal)
            .iter()
            .any(|(id, kind)| *id == u64::try_from(swap.0).unwrap() && kind == "filled")
    });
    // The strategy knows it is long: it sells on the rise.
    wait_until("the sell", &live, Duration::from_secs(90), || {
        emissions(&journal, i64::MAX)
            .iter()
            .any(|e| e.2 == "accepted" && e.1.contains("\"sell\":\"WETH\""))
    });
    terminate(child);
    assert_eq!(runs(&journal), 1);
    let swaps: Vec<_> = intents(&journal)
        .into_iter()
        .filter(|i| i.0 == swap.0)
        .collect();
    assert_eq!(
        swaps.iter().filter(|i| i.1.starts_with("swap")).count(),
        1,
        "the buy was sent once: {swaps:#?}"
    );
}

/// Every file under `dir` that starts with the wasm magic (a plaintext
/// component).
fn plaintext_components(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path).is_ok_and(|bytes| bytes.starts_with(b"\0asm")) {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_sealed_live_run_replays_in_memory_and_its_keyed_chain_catches_an_edit() {
    let live = Live::start(&swings(40), PERMISSIVE, (true, 120), 200);
    let d = live.dir.path();
    let journal = live.journal();
    // The strategy is a bundle sealed to the host's public key.
    let key_args = crate::host_key(d);
    let sealed = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["seal", Guest::RsiMomentum.path().to_str().unwrap()])
        .args(["--version", "1", "--author", "alice", "--to"])
        .arg(d.join("host.pub"))
        .arg("-o")
        .arg(d.join("rsi.sbx"))
        .output()
        .unwrap();
    assert!(sealed.status.success(), "{sealed:?}");
    let deployments = std::fs::read_to_string(d.join("deployments.toml")).unwrap();
    let strategy = Guest::RsiMomentum.path().display().to_string();
    std::fs::write(
        d.join("deployments.toml"),
        deployments.replace(&strategy, "rsi.sbx"),
    )
    .unwrap();
    // Two lives: a restart resumes the run.
    for (life, until) in [(0, 8), (1, 16)] {
        let child = live.spawn(life, &[]);
        wait_until("ticks", &live, Duration::from_secs(90), || {
            ticks(&journal) >= until
        });
        terminate(child);
    }
    assert_eq!(runs(&journal), 1);

    let replay = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stratbox"))
            .args(["replay", "rsi", "--journal"])
            .arg(&journal)
            .args(extra)
            .env(crate::HOST_PASSPHRASE_VAR, crate::HOST_PASSPHRASE)
            .output()
            .unwrap()
    };
    let keys: Vec<&str> = key_args.iter().map(String::as_str).collect();
    let output = replay(&keys);
    let (stdout, stderr) = crate::text(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("verified (keyed by the host key)"),
        "{stdout}"
    );
    assert!(stdout.contains("replayed identically"), "{stdout}");
    assert!(
        plaintext_components(d).is_empty(),
        "a plaintext component reached the disk: {:?}",
        plaintext_components(d)
    );

    // Without the key the keyed chain is not checked as if it were plain,
    // and the bundle cannot be opened.
    let output = replay(&[]);
    assert!(!output.status.success());
    assert!(crate::text(&output).1.contains("--key"), "{output:?}");

    // An edit after the fact is named at its tick.
    let conn = rusqlite::Connection::open(&journal).unwrap();
    let changed = conn
        .execute(
            "UPDATE ticks SET fuel_used = fuel_used - 1 WHERE call = 'tick' AND sequence = 3",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let output = replay(&keys);
    let (_, stderr) = crate::text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("hash chain breaks at tick 3"), "{stderr}");
}

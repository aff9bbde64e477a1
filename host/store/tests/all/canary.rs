//! The canary: a strategy whose code and state carry a unique marker is
//! sealed, imported, compiled (the artifact cached sealed), run,
//! snapshotted (sealed), reloaded from the cache and resumed, every call
//! recorded in a run journal (SQLite), all in a child process whose
//! `TMPDIR` and trace-level log file are ours. Afterwards no file anywhere
//! the child could write (the store, the journal database with its WAL,
//! the temp directory, the logs) holds the marker, a piece of the plaintext
//! component, a piece of its compiled code, or the key.
//!
//! The journal records each committed snapshot by SHA-256 and size only
//! (never its bytes), and each call's input, oracle reads, emissions,
//! verdicts, logs and errors in plaintext: the canary logs `ticks=N`, never
//! its marker, so the marker in its state must not reach the journal.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use stratbox_journal::{Call, Journal, NewRun, Recorder, RunPolicy};
use stratbox_runtime::bundle::{HostSecretKey, Language, SecretKey, StrategyMetadata};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::{
    AllowAll, CacheOutcome, Deployment, DeploymentHost, DeploymentSpec, JournalSink, Runtime,
    RuntimeConfig, TickInput,
};
use stratbox_store::Store;
use stratbox_store::keys::{FileKeyProvider, KdfParams, write_secret_key};
use stratbox_test_artifacts::Guest;

use crate::support::{Clock, block, files_under};

/// `canary::MARKER` (strategies/fixtures/canary); the test checks that the
/// plaintext component really contains it.
const MARKER: &str = "stratbox-canary-4f1d9c27e8b35a60-alpha-must-never-touch-a-disk";

/// Set in the child: the work directory.
const CHILD_WORK_DIR: &str = "STRATBOX_CANARY_WORK_DIR";
const DEPLOYMENT: &str = "canary-1";

/// The run journal, relative to the work directory.
fn journal_path(work: &Path) -> PathBuf {
    work.join("journal/run.db")
}

/// Where the child may leave anything: each is scanned in full.
fn scanned_roots(work: &Path) -> Vec<PathBuf> {
    vec![
        // The store: bundles, compiled artifacts, snapshots, its tmp/.
        work.join("store"),
        // The child's TMPDIR.
        work.join("tmp"),
        // Trace-level logs of every crate.
        work.join("logs"),
        // The run journal: the SQLite database, its WAL and shared memory.
        work.join("journal"),
    ]
}

struct Needle {
    what: String,
    bytes: Vec<u8>,
}

/// `count` 48-byte windows of `bytes`, one per equal slice of it, each
/// varied enough (at least 24 distinct byte values) that it cannot occur by
/// chance.
fn windows(what: &str, bytes: &[u8], count: usize) -> Vec<Needle> {
    const LEN: usize = 48;
    let slice = bytes.len() / count;
    let mut found = Vec::new();
    for first in (0..count).map(|i| i * slice) {
        let distinctive = (first..first + slice - LEN).step_by(16).find(|&at| {
            let mut seen = [false; 256];
            bytes[at..at + LEN]
                .iter()
                .for_each(|&b| seen[usize::from(b)] = true);
            seen.iter().filter(|&&s| s).count() >= 24
        });
        if let Some(at) = distinctive {
            found.push(Needle {
                what: format!("{what} bytes at offset {at}"),
                bytes: bytes[at..at + LEN].to_vec(),
            });
        }
    }
    assert!(
        found.len() * 2 >= count,
        "too few distinctive {what} windows"
    );
    found
}

fn needles(work: &Path) -> Vec<Needle> {
    let component = Guest::Canary.bytes();
    let marker = MARKER.as_bytes();
    assert!(
        component.windows(marker.len()).any(|w| w == marker),
        "the canary component must carry the marker in its code"
    );
    let mut needles = vec![
        Needle {
            what: "the marker".into(),
            bytes: marker.to_vec(),
        },
        Needle {
            what: "the marker in hex".into(),
            bytes: hex::encode(marker).into_bytes(),
        },
    ];
    needles.extend(windows("plaintext component", &component, 8));
    // The same engine configuration compiles the same code as the child.
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let compiled = runtime
        .serialize(&runtime.load(&component).unwrap())
        .unwrap();
    needles.extend(windows("compiled code", &compiled, 8));
    let provider = FileKeyProvider::load(
        work.join("keys/host.key"),
        Some(&crate::key_providers::passphrase()),
    )
    .unwrap();
    let SecretKey::X25519(secret) = provider.key() else {
        panic!("the child writes an X25519 host key");
    };
    let secret = secret.to_bytes();
    needles.push(Needle {
        what: "the store key".into(),
        bytes: secret.to_vec(),
    });
    needles.push(Needle {
        what: "the store key in hex".into(),
        bytes: hex::encode(secret.as_slice()).into_bytes(),
    });
    needles
}

#[test]
fn no_plaintext_reaches_the_store_the_journal_the_temp_directory_or_the_logs() {
    let work = tempfile::tempdir().unwrap();
    for dir in ["tmp", "logs", "keys", "journal"] {
        std::fs::create_dir(work.path().join(dir)).unwrap();
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "canary::child_seals_loads_runs_and_snapshots",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_WORK_DIR, work.path())
        .env("TMPDIR", work.path().join("tmp"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the child test did not run"
    );

    // The scan is only meaningful if everything it covers was written.
    let store = work.path().join("store");
    for (dir, suffix) in [
        ("bundles", ".bundle"),
        ("artifacts", ".artifact"),
        ("snapshots", ".snapshot"),
    ] {
        assert!(
            files_under(&store.join(dir))
                .iter()
                .any(|f| f.to_string_lossy().ends_with(suffix)),
            "the child left no {suffix} file"
        );
    }
    assert!(!files_under(&work.path().join("tmp")).is_empty());
    let log = std::fs::read_to_string(work.path().join("logs/trace.log")).unwrap();
    assert!(log.contains("bundle imported"), "trace log missing: {log}");
    let snapshot_digests = check_the_journal(work.path());

    let needles = needles(work.path());
    // The scan finds what it looks for: the plaintext component does leak.
    assert!(leak(&Guest::Canary.bytes(), &needles).is_some());
    let mut scanned = 0;
    for root in scanned_roots(work.path()) {
        for file in files_under(&root) {
            scanned += 1;
            if let Some(needle) = leak(&std::fs::read(&file).unwrap(), &needles) {
                panic!("{} found in {}", needle.what, file.display());
            }
        }
    }
    assert!(scanned >= 6, "scanned only {scanned} files");

    // The scan reads the journal's bytes as they are: what the journal does
    // record in plaintext (the canary's logs, the snapshot digests) is
    // found there.
    let journal: Vec<u8> = files_under(&work.path().join("journal"))
        .iter()
        .flat_map(|file| std::fs::read(file).unwrap())
        .collect();
    for text in ["ticks=4", snapshot_digests.last().unwrap().as_str()] {
        assert!(
            journal.windows(text.len()).any(|w| w == text.as_bytes()),
            "`{text}` not found in the journal files"
        );
    }
}

/// What the child recorded: init and four ticks, each commit's snapshot by
/// digest and size only, with no location (nothing stored it elsewhere).
/// Returns the digests, in order.
fn check_the_journal(work: &Path) -> Vec<String> {
    let journal = Journal::open(&journal_path(work)).unwrap();
    let run = journal.find_run(DEPLOYMENT).unwrap();
    assert_eq!(journal.tick_sequences(run).unwrap(), [0, 1, 2, 3]);
    let mut digests = Vec::new();
    for call in [Call::Init, Call::Tick(0), Call::Tick(3)] {
        let record = journal.call(run, call).unwrap();
        let snapshot = record
            .snapshot
            .unwrap_or_else(|| panic!("{call} committed no snapshot"));
        assert_eq!(snapshot.sha256.len(), 64);
        assert!(snapshot.bytes > MARKER.len() as u64);
        assert_eq!(snapshot.location, None);
        digests.push(snapshot.sha256);
    }
    let last = journal.call(run, Call::Tick(3)).unwrap();
    assert!(
        last.logs.iter().any(|l| l.message == "ticks=4"),
        "{:?}",
        last.logs
    );
    digests
}

/// The first needle found in `bytes`.
fn leak<'a>(bytes: &[u8], needles: &'a [Needle]) -> Option<&'a Needle> {
    needles
        .iter()
        .find(|needle| bytes.windows(needle.bytes.len()).any(|w| w == needle.bytes))
}

/// The child half of the canary test; does nothing unless started by it.
#[test]
#[ignore = "run in a child process by no_plaintext_reaches_the_store_the_journal_the_temp_directory_or_the_logs"]
fn child_seals_loads_runs_and_snapshots() {
    let Some(work) = std::env::var_os(CHILD_WORK_DIR).map(PathBuf::from) else {
        return;
    };
    let log = File::create(work.join("logs/trace.log")).unwrap();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(Mutex::new(log))
        .init();

    // The host's key, in a key file outside the store.
    let key_path = work.join("keys/host.key");
    let passphrase = crate::key_providers::passphrase();
    write_secret_key(
        &key_path,
        &SecretKey::X25519(HostSecretKey::generate().unwrap()),
        &passphrase,
        KdfParams::default(),
    )
    .unwrap();
    let key = Arc::new(FileKeyProvider::load(&key_path, Some(&passphrase)).unwrap());

    // The author seals; the sealed bundle travels through a temporary file.
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let bundle = runtime
        .seal_bundle(
            &Guest::Canary.bytes(),
            StrategyMetadata::new("canary", "1.0.0", Language::Rust, "canary test"),
            key.as_ref(),
        )
        .unwrap();
    let staged = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(staged.path(), &bundle).unwrap();
    let staged = staged.keep().unwrap().1;

    let store = Store::open(work.join("store"), key).unwrap();
    store
        .import_bundle(&runtime, &std::fs::read(&staged).unwrap())
        .unwrap();
    let loaded = store.load_strategy(&runtime, "canary").unwrap();
    assert!(matches!(loaded.cache, CacheOutcome::Miss));
    let spec = DeploymentSpec::new(DEPLOYMENT, "{}");
    // Every call is journaled, as a host does.
    let mut recorder = Recorder::start(
        Journal::open(&journal_path(&work)).unwrap(),
        &NewRun {
            spec: spec.clone(),
            component_sha256: loaded.manifest.component_sha256.clone(),
            component_path: None,
            policy: RunPolicy::AllowAll,
            initial_policy_state: None,
            assets: AssetCatalog::default(),
            label: Some("canary".into()),
        },
    )
    .unwrap();
    let (mut deployment, init) = Deployment::new(
        &runtime,
        &loaded.component,
        spec.clone(),
        DeploymentHost::new(Clock, AllowAll),
    )
    .unwrap();
    recorder.init(&deployment, &init).unwrap();
    for n in 1..=3 {
        let input = TickInput::at(block(n));
        let result = deployment.tick(input.clone());
        recorder.tick(&deployment, &input, &result).unwrap();
        result.unwrap();
    }
    let checkpoint = deployment.checkpoint().clone();
    assert!(
        checkpoint
            .snapshot
            .windows(MARKER.len())
            .any(|w| w == MARKER.as_bytes()),
        "the canary's state must carry the marker"
    );
    store.save_checkpoint(DEPLOYMENT, &checkpoint).unwrap();
    drop(deployment);

    // A restart: a fresh runtime, code from the sealed cache, state from the
    // sealed snapshot.
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let loaded = store.load_strategy(&runtime, "canary").unwrap();
    assert!(
        matches!(loaded.cache, CacheOutcome::Hit),
        "{:?}",
        loaded.cache
    );
    let restored = store.load_checkpoint(DEPLOYMENT).unwrap().unwrap();
    assert_eq!(restored, checkpoint);
    let (mut resumed, _) = Deployment::resume_from(
        &runtime,
        &loaded.component,
        spec,
        DeploymentHost::new(Clock, AllowAll),
        restored,
    )
    .unwrap();
    let input = TickInput::at(block(4));
    let result = resumed.tick(input.clone());
    recorder.tick(&resumed, &input, &result).unwrap();
    let report = result.unwrap();
    assert!(
        report.trace.logs.iter().any(|l| l.message == "ticks=4"),
        "{:?}",
        report.trace.logs
    );
    store
        .save_checkpoint(DEPLOYMENT, resumed.checkpoint())
        .unwrap();
}

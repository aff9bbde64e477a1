//! Journal files hold strategy outputs, policy state and signed
//! transactions: they are private to the host's user, whatever the umask.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use stratbox_journal::{Durability, Journal, NewRun, RunPolicy};
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::policy::AssetCatalog;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn run() -> NewRun {
    NewRun {
        spec: DeploymentSpec::new("files-1", "{}"),
        component_sha256: "00".repeat(32),
        component_path: None,
        policy: RunPolicy::AllowAll,
        initial_policy_state: None,
        assets: AssetCatalog::new(),
        label: None,
    }
}

#[test]
fn a_new_journal_and_its_wal_and_shm_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    for durability in [Durability::Full, Durability::Normal] {
        let _ = std::fs::remove_file(&path);
        let mut journal = Journal::open_with(&path, durability).unwrap();
        // A write makes SQLite create the write-ahead log and its index.
        journal.begin_run(&run()).unwrap();
        for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
            assert!(file.exists(), "{} exists while open", file.display());
            assert_eq!(mode(&file), 0o600, "{} is private", file.display());
        }
        drop(journal);
    }
}

#[test]
fn reopening_a_journal_others_can_read_makes_it_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut journal = Journal::open(&path).unwrap();
    journal.begin_run(&run()).unwrap();
    for file in [path.clone(), side(&path, "-wal"), side(&path, "-shm")] {
        assert_eq!(mode(&file), 0o600, "{} is private", file.display());
    }
}

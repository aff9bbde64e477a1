//! A real PostgreSQL server for the tests: a fresh cluster in a temporary
//! directory on a free loopback port, started with the server binaries the
//! project's set-up installs (`scripts/setup.sh`), stopped on drop. As
//! root, the cluster runs as the `postgres` user (the server refuses root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running PostgreSQL server.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The directory of the server binaries: `pg_ctl` on the PATH, else the
/// newest `/usr/lib/postgresql/<version>/bin` (Debian's layout).
fn server_bin() -> PathBuf {
    if let Ok(path) = which("pg_ctl") {
        return path.parent().map(Path::to_owned).unwrap_or_default();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .filter(|bin| bin.join("pg_ctl").exists())
        .expect("PostgreSQL server binaries (scripts/setup.sh installs them)")
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.exists())
        .ok_or(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

impl PgServer {
    /// Initialize and start a cluster; returns once it accepts connections.
    pub fn start() -> PgServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let as_postgres = rustix::process::getuid().is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let server = PgServer {
            bin: server_bin(),
            port: free_port(),
            dir,
            as_postgres,
        };
        let data = server.dir.path().join("data");
        server.run(
            "initdb",
            &[
                "-D".into(),
                data.display().to_string(),
                "-U".into(),
                "postgres".into(),
                "-A".into(),
                "trust".into(),
                "--no-sync".into(),
            ],
        );
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            server.port,
            server.dir.path().display()
        );
        server.run(
            "pg_ctl",
            &[
                "-D".into(),
                data.display().to_string(),
                "-o".into(),
                options,
                "-l".into(),
                server.dir.path().join("log").display().to_string(),
                "-w".into(),
                "start".into(),
            ],
        );
        server
    }

    fn run(&self, tool: &str, args: &[String]) {
        let program = self.bin.join(tool);
        let output = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .current_dir(self.dir.path())
                .output()
        } else {
            Command::new(&program)
                .args(args)
                .current_dir(self.dir.path())
                .output()
        }
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A new connection to the `postgres` database.
    pub fn connect(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )
        .expect("connect to the test server")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let program = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let _ = command
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

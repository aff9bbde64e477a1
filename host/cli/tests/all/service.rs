//! `stratbox serve` on a fresh directory with no key flags, driven by the
//! client commands: `tenant create`, `seal` to the service's `host.pub`,
//! `deploy --bundle`, `ps`, `logs`, `pause`, `resume`, `stop`, `rm`; bad
//! requests exit non-zero naming the service's error code; SIGTERM stops
//! the service cleanly.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;
use stratbox_runtime::bundle::SecretKey;
use stratbox_store::keys::{FileKeyProvider, Passphrase};
use stratbox_test_artifacts::Guest;

use crate::text;

/// Variables that would change what the commands do, removed from every
/// child's environment.
const AMBIENT: &[&str] = &[
    "STRATBOX_PASSPHRASE",
    "STRATBOX_URL",
    "STRATBOX_TOKEN",
    "STRATBOX_LOG",
];

/// A `stratbox` command in `dir`, without [`AMBIENT`] variables.
fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stratbox"));
    command.current_dir(dir);
    for var in AMBIENT {
        command.env_remove(var);
    }
    command
}

/// A running `stratbox serve` and everything it wrote to stderr so far.
struct Server {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// `stratbox serve` in `dir` with no flags but a free port.
    fn start(dir: &Path) -> Server {
        Server::wrap(
            command(dir)
                .args(["serve", "--listen", "127.0.0.1:0"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    }

    /// A server already spawned (stderr piped), once it listens.
    fn wrap(mut child: Child) -> Server {
        let stderr = Arc::new(Mutex::new(String::new()));
        let (lines, listening) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let log = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(url) = line.strip_prefix("stratbox serve: listening on ") {
                    let _ = lines.send(url.to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
            stderr,
            reader: Some(reader),
        };
        match listening.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => server.url = url,
            Err(_) => panic!("the service never listened: {}", server.stderr()),
        }
        server
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then its exit status and whole stderr.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the service did not stop on SIGTERM: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (exit, self.stderr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test leaves no service behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client of the service at `url` as the tenant whose token is `token`.
struct Tenant<'a> {
    dir: &'a Path,
    url: &'a str,
    token: &'a str,
}

impl Tenant<'_> {
    fn run(&self, args: &[&str]) -> Output {
        command(self.dir)
            .args(args)
            .env("STRATBOX_URL", self.url)
            .env("STRATBOX_TOKEN", self.token)
            .output()
            .unwrap()
    }

    /// Run `args`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{args:?}: {stderr}");
        stdout
    }

    /// Run `args`, which must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?} should fail");
        stderr
    }

    /// `ps --json`: the deployment `id`'s status, if it exists.
    fn status(&self, id: &str) -> Option<Value> {
        let list: Value = serde_json::from_str(&self.ok(&["ps", "--json"])).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|status| status["id"] == id)
            .cloned()
    }

    /// Poll until `done` holds of the status of `id`.
    fn wait_for(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let status = self.status(id).expect("the deployment exists");
            if done(&status) {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "deployment {id} never got there: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn ticks(status: &Value) -> u64 {
    status["ticks"].as_u64().unwrap()
}

/// The sequences of `logs` output lines (`<sequence> <level> <message>`).
fn log_sequences(output: &str) -> Vec<u64> {
    output
        .lines()
        .map(|line| line.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

/// A paper deployment request of bundle `rsi` on a synthetic tape.
fn request(id: &str, every_ms: u64, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","bundle":"rsi",
            "config":{{"period":2,"oversold":45.0,"overbought":55.0,"cooldown_ms":0}},
            "venue":{{"paper":{{"feed":{{"synthetic":{{"candles":5000,"seed":7}}}},"base":"ETH","quote":"BTC"}}}},
            "schedule":{{"every_ms":{every_ms}}}{extra}}}"#
    )
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_owned()
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn serve_on_a_fresh_directory_and_drive_a_deployment_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(d);
    let data = d.join("stratbox-data");
    let log = server.stderr();
    assert!(log.contains("--passphrase-env"), "{log}");
    let shown = std::fs::canonicalize(&data).unwrap();
    assert!(
        log.contains(&format!("data in {}", shown.display())),
        "{log}"
    );

    // The host key rests sealed, its generated passphrase private beside
    // it, its public half for authors.
    let key_file = data.join("host.key");
    let passphrase_file = data.join("host.passphrase");
    #[cfg(unix)]
    {
        assert_eq!(mode(&key_file), 0o600);
        assert_eq!(mode(&passphrase_file), 0o600);
        assert_eq!(mode(&data), 0o700);
    }
    let passphrase = Passphrase::from_file(&passphrase_file).unwrap();
    let key = FileKeyProvider::load(&key_file, Some(&passphrase)).unwrap();
    let SecretKey::X25519(secret) = key.key() else {
        panic!("the host key is not an X25519 key");
    };
    let secret_hex: String = secret
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sealed = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        !sealed.to_lowercase().contains(&secret_hex),
        "the host key is in plaintext"
    );
    let passphrase_text = std::fs::read_to_string(&passphrase_file).unwrap();
    assert!(!sealed.contains(passphrase_text.trim()));
    assert!(data.join("host.pub").exists());

    // An admin adds a tenant while the service runs.
    let created = command(d)
        .args(["tenant", "create", "alice"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&created);
    assert!(created.status.success(), "{stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("sbx_"), "{stdout}");
    assert!(stderr.contains("shown only now"), "{stderr}");
    let again = command(d)
        .args(["tenant", "create", "alice"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(text(&again).1.contains("exists"), "{again:?}");
    let bad_id = command(d)
        .args(["tenant", "create", "../x"])
        .output()
        .unwrap();
    assert!(!bad_id.status.success());
    assert!(!d.join("x").exists() && !data.join("x").exists());

    let alice = Tenant {
        dir: d,
        url: &server.url,
        token: &token,
    };

    // Sealed to the service's public key, uploaded and deployed at once.
    let bundle = d.join("rsi.bundle");
    alice.ok(&[
        "seal",
        arg(Guest::RsiMomentum.path()),
        "--name",
        "rsi",
        "--version",
        "1.0.0",
        "--author",
        "test",
        "--to",
        arg(&data.join("host.pub")),
        "-o",
        arg(&bundle),
    ]);
    let deployment = write(&d.join("d.json"), &request("d", 100, ""));
    let deployed = alice.ok(&["deploy", arg(&deployment), "--bundle", arg(&bundle)]);
    assert!(deployed.contains("d: running"), "{deployed}");
    let status = alice.wait_for("d", |s| ticks(s) >= 3);
    assert_eq!(status["state"], "running");
    assert_eq!(status["failed_ticks"], 0, "{status}");

    // The table, and the same through --token-env and --url.
    let table = command(d)
        .args(["ps", "--url", &server.url, "--token-env", "ALICE_TOKEN"])
        .env("ALICE_TOKEN", &token)
        .output()
        .unwrap();
    let (table, stderr) = text(&table);
    assert!(stderr.is_empty(), "{stderr}");
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    for column in ["ID", "STATE", "TICKS", "FAILED", "SKIPPED", "NEXT"] {
        assert!(header.contains(column), "{table}");
    }
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[..2], ["d", "running"], "{table}");

    // The jumpy RSI trades within a few ticks, and logs each action.
    let started = Instant::now();
    let logs = loop {
        let logs = alice.ok(&["logs", "d"]);
        if logs.contains("rsi=") {
            break logs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no log line: {logs:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let seen = log_sequences(&logs);
    let first = seen[0];
    let after = alice.ok(&["logs", "d", "--after", &first.to_string()]);
    assert!(log_sequences(&after).iter().all(|s| *s > first), "{after}");

    // Pause holds the ticks; resume goes on.
    assert!(alice.ok(&["pause", "d"]).contains("d: paused"));
    let paused = ticks(&alice.wait_for("d", |s| s["state"] == "paused"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(ticks(&alice.status("d").unwrap()) <= paused + 1);
    assert!(alice.ok(&["resume", "d"]).contains("d: running"));
    alice.wait_for("d", |s| ticks(s) >= paused + 3);

    // A deployment that is loaded is not deleted.
    let stderr = alice.fails(&["rm", "d"]);
    assert!(stderr.contains("error: invalid_state:"), "{stderr}");

    // `logs --follow` ends by itself once the deployment stops.
    let mut follow = command(d)
        .args(["logs", "d", "--follow"])
        .env("STRATBOX_URL", &server.url)
        .env("STRATBOX_TOKEN", &token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(alice.ok(&["stop", "d"]).contains("d: stopped"));
    let started = Instant::now();
    while follow.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = follow.kill();
            panic!("logs --follow did not end after the deployment stopped");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let followed = follow.wait_with_output().unwrap();
    let (stdout, stderr) = text(&followed);
    assert!(followed.status.success(), "{stderr}");
    assert!(stdout.contains("rsi="), "{stdout}");
    assert!(stderr.contains("d: stopped"), "{stderr}");

    assert!(alice.ok(&["rm", "d"]).contains("d: deleted"));
    assert!(alice.status("d").is_none());
    let stderr = alice.fails(&["pause", "d"]);
    assert!(stderr.contains("error: not_found:"), "{stderr}");

    // Bad requests: the service's error code, a non-zero exit.
    for (body, code) in [
        (request("bad", 100, r#","surprise":1"#), "malformed_request"),
        (request("bad", 5, ""), "deployment_invalid"),
        (
            request("bad", 100, "").replace("\"rsi\"", "\"nope\""),
            "not_found",
        ),
        ("not json".to_owned(), "malformed_request"),
    ] {
        let file = write(&d.join("bad.json"), &body);
        let stderr = alice.fails(&["deploy", arg(&file)]);
        assert!(
            stderr.contains(&format!("error: {code}:")),
            "{body}: {stderr}"
        );
    }
    assert!(alice.status("bad").is_none());
    let stderr = alice.fails(&["upload", arg(&deployment)]);
    assert!(stderr.contains("error: bundle_rejected:"), "{stderr}");

    // Credentials: a wrong token is refused; none at all is a local error.
    let stranger = Tenant {
        dir: d,
        url: &server.url,
        token: "sbx_0000",
    };
    let stderr = stranger.fails(&["ps"]);
    assert!(stderr.contains("error: unauthorized:"), "{stderr}");
    let anonymous = command(d)
        .args(["ps", "--url", &server.url])
        .output()
        .unwrap();
    assert!(!anonymous.status.success());
    assert!(
        text(&anonymous).1.contains("STRATBOX_TOKEN"),
        "{anonymous:?}"
    );

    let (exit, stderr) = server.terminate();
    assert!(exit.success(), "{exit:?}: {stderr}");
    assert!(stderr.contains("stratbox serve: stopped"), "{stderr}");
}

#[test]
fn serve_reopens_its_key_with_the_passphrase_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let start = |passphrase: &str| {
        command(d)
            .args(["serve", "--listen", "127.0.0.1:0", "--data", arg(&data)])
            .env("STRATBOX_PASSPHRASE", passphrase)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // First start: the key is sealed under the variable's passphrase, and
    // no passphrase file is written.
    let first = Server::wrap(start("first passphrase"));
    assert!(!data.join("host.passphrase").exists());
    assert!(!first.stderr().contains("warning"), "{}", first.stderr());
    let (exit, stderr) = first.terminate();
    assert!(exit.success(), "{stderr}");
    // A wrong passphrase does not open it.
    let wrong = start("second passphrase").wait_with_output().unwrap();
    assert!(!wrong.status.success());
    assert!(text(&wrong).1.contains("STRATBOX_PASSPHRASE"), "{wrong:?}");
    let (exit, stderr) = Server::wrap(start("first passphrase")).terminate();
    assert!(exit.success(), "{stderr}");
}

//! `stratbox serve`: the platform service (`stratbox-service`) on an HTTP
//! port until SIGINT or SIGTERM; and `stratbox tenant create`, which adds a
//! tenant to a service's data directory and prints its API token.
//!
//! With no flags at all the service runs on a fresh machine: its host key
//! is `<data>/host.key`, created on first start as an X25519 key sealed
//! under a passphrase (from `STRATBOX_PASSPHRASE`, or else a random one
//! kept in `<data>/host.passphrase`, mode 0600), its public half written to
//! `<data>/host.pub` for authors to seal bundles to.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use stratbox_runtime::CompileIsolation;
use stratbox_runtime::bundle::{HostPublicKey, HostSecretKey, SecretKey};
use stratbox_service::control::ControlPlane;
use stratbox_service::{Service, ServiceConfig};
use stratbox_store::StoreKey;
use stratbox_store::keys::{
    EnvKeyProvider, FileKeyProvider, KdfParams, Passphrase, encode_public_key, write_public_key,
    write_secret_key,
};
use zeroize::Zeroizing;

use crate::keys::KeyArgs;
use crate::output::create_private_dir;

/// The variable a default host key's passphrase is read from.
pub const PASSPHRASE_VAR: &str = "STRATBOX_PASSPHRASE";
/// The default host key file, in the data directory.
const HOST_KEY: &str = "host.key";
/// Its public key, in the data directory.
const HOST_PUB: &str = "host.pub";
/// The generated passphrase of a default host key, in the data directory.
const HOST_PASSPHRASE: &str = "host.passphrase";

/// Arguments of `stratbox serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8420; port 0 picks a free
    /// one, printed at start).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory: the control plane, the tenants' sealed stores and
    /// journals, and the default host key (default `stratbox-data`).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Worker threads that run deployments (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub workers: Option<u64>,
    /// Service configuration (TOML with the fields of the service's
    /// configuration: listen, data_dir, workers, max_body_bytes,
    /// default_quotas, runtime); the flags above override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The host's X25519 secret key (default: `<data>/host.key`, created
    /// on first start, sealed under the passphrase of --passphrase-env or
    /// --passphrase-file, else of `STRATBOX_PASSPHRASE`, else a random one
    /// kept in `<data>/host.passphrase`).
    #[command(flatten)]
    pub key: KeyArgs,
}

/// Arguments of `stratbox tenant`.
#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant in a service's data directory and print its API
    /// token (shown only now). Works whether or not the service runs.
    Create {
        /// Tenant id: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with `.`.
        id: String,
        /// The service's data directory (default `stratbox-data`, or the
        /// configuration's data_dir).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// The service's configuration: its data_dir and default_quotas.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// The configuration of `file` (or the defaults).
fn load_config(file: Option<&Path>) -> anyhow::Result<ServiceConfig> {
    let Some(path) = file else {
        return Ok(ServiceConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("configuration {}", path.display()))
}

/// Run the service until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let mut config = load_config(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(data) = &args.data {
        config.data_dir = data.clone();
    }
    if let Some(workers) = args.workers {
        config.workers = usize::try_from(workers).context("--workers")?;
    }
    config.compile_isolation = CompileIsolation::Subprocess(crate::runtime::compile_worker()?);
    create_private_dir(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    // Keys (and passphrases in the environment) are read before any
    // thread starts: a variable is removed from the environment once read.
    let host = host_key(&config.data_dir, &args.key)?;
    let public_text = host.public.as_ref().map(encode_public_key);
    if let Some(public) = &host.public {
        write_host_pub(&config.data_dir.join(HOST_PUB), public)?;
    }
    let (tokio, shutdown) = crate::run::daemon_runtime()?;
    let listener = tokio
        .block_on(tokio::net::TcpListener::bind(config.listen))
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr().context("the listening address")?;
    let data_dir = config.data_dir.clone();
    let workers = config.workers;
    let service = Arc::new(
        Service::open(config, host.key, public_text)
            .with_context(|| format!("opening the service in {}", data_dir.display()))?,
    );
    // Absolute, for people reading the log later.
    let shown = std::fs::canonicalize(&data_dir).unwrap_or_else(|_| data_dir.clone());
    eprintln!(
        "stratbox serve: data in {} ({workers} worker thread(s)); host key {}",
        shown.display(),
        host.origin
    );
    if host.public.is_some() {
        eprintln!(
            "stratbox serve: authors seal bundles to {} (`stratbox seal --to`)",
            shown.join(HOST_PUB).display()
        );
    }
    eprintln!(
        "stratbox serve: add tenants with `stratbox tenant create <ID> --data {}`; \
         SIGINT or SIGTERM stops the service after the deployments' current tick",
        shown.display()
    );
    // Last: whoever waits for this line has read the others.
    eprintln!("stratbox serve: listening on http://{addr}");
    let served = tokio.block_on(stratbox_service::api::serve(
        Arc::clone(&service),
        listener,
        shutdown,
    ));
    // The workers stop with the last reference to the service, after
    // their current tick (outside the runtime: dropping it blocks).
    drop(tokio);
    drop(service);
    served.context("serving the API")?;
    eprintln!("stratbox serve: stopped");
    Ok(())
}

/// The host key the service runs with.
struct HostKey {
    key: Arc<dyn StoreKey>,
    /// Its public key, for an X25519 key.
    public: Option<HostPublicKey>,
    /// Where it came from, for people.
    origin: String,
}

/// The public key of `key`, if it is an X25519 key.
fn public_of(key: &SecretKey) -> Option<HostPublicKey> {
    match key {
        SecretKey::X25519(secret) => Some(secret.public_key().clone()),
        SecretKey::Kek(_) => None,
    }
}

/// The host key named by `args`, or the data directory's own.
fn host_key(data: &Path, args: &KeyArgs) -> anyhow::Result<HostKey> {
    if let Some(path) = &args.key {
        let passphrase = args.passphrase.read()?;
        let provider =
            FileKeyProvider::load(path, passphrase.as_ref()).context("loading the host key")?;
        return Ok(HostKey {
            public: public_of(provider.key()),
            key: Arc::new(provider),
            origin: path.display().to_string(),
        });
    }
    if let Some(var) = &args.key_env {
        let passphrase = args.passphrase.read()?;
        let provider =
            EnvKeyProvider::load(var, passphrase.as_ref()).context("loading the host key")?;
        return Ok(HostKey {
            public: public_of(provider.key()),
            key: Arc::new(provider),
            origin: format!("from environment variable {var}"),
        });
    }
    default_host_key(data, args)
}

/// `<data>/host.key`, created on first start.
fn default_host_key(data: &Path, args: &KeyArgs) -> anyhow::Result<HostKey> {
    let key_path = data.join(HOST_KEY);
    let passphrase_path = data.join(HOST_PASSPHRASE);
    let exists = key_path.exists();
    let (passphrase, source) = if let Some(passphrase) = args.passphrase.read()? {
        (passphrase, "the passphrase flag".to_owned())
    } else if std::env::var_os(PASSPHRASE_VAR).is_some() {
        (
            Passphrase::from_env(PASSPHRASE_VAR).context("reading the passphrase")?,
            format!("environment variable {PASSPHRASE_VAR}"),
        )
    } else if passphrase_path.exists() {
        warn_local_passphrase(&passphrase_path, false);
        (
            Passphrase::from_file(&passphrase_path).context("reading the passphrase")?,
            passphrase_path.display().to_string(),
        )
    } else if !exists {
        let passphrase = new_passphrase_file(&passphrase_path)?;
        warn_local_passphrase(&passphrase_path, true);
        (passphrase, passphrase_path.display().to_string())
    } else {
        anyhow::bail!(
            "{} is sealed under a passphrase: set {PASSPHRASE_VAR}, or pass --passphrase-env VAR \
             or --passphrase-file FILE",
            key_path.display()
        );
    };
    if !exists {
        let secret = HostSecretKey::generate().context("generating the host key")?;
        write_secret_key(
            &key_path,
            &SecretKey::X25519(secret),
            &passphrase,
            KdfParams::default(),
        )
        .with_context(|| format!("writing {}", key_path.display()))?;
        eprintln!(
            "stratbox serve: created the host key {} (X25519, sealed under the passphrase of {source})",
            key_path.display()
        );
    }
    let provider = FileKeyProvider::load(&key_path, Some(&passphrase)).with_context(|| {
        format!(
            "opening {} with the passphrase of {source}",
            key_path.display()
        )
    })?;
    Ok(HostKey {
        public: public_of(provider.key()),
        key: Arc::new(provider),
        origin: key_path.display().to_string(),
    })
}

/// Say that the host key's passphrase rests next to it.
fn warn_local_passphrase(path: &Path, created: bool) {
    let what = if created {
        "generated a random passphrase for the host key and stored it in"
    } else {
        "the host key's passphrase is read from"
    };
    eprintln!(
        "warning: {what} {} (mode 0600), next to the key: whoever reads the data directory \
         can open the key. For production, keep the passphrase elsewhere (--passphrase-env VAR, \
         --passphrase-file FILE or {PASSPHRASE_VAR}) or pass your own key with --key FILE",
        path.display()
    );
}

/// A new random passphrase, written to a new file of mode 0600.
fn new_passphrase_file(path: &Path) -> anyhow::Result<Passphrase> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut_slice())
        .map_err(|e| anyhow::anyhow!("generating a passphrase: {e}"))?;
    // 64 hex digits, built in place (no copy left unwiped).
    let mut text = Zeroizing::new(String::with_capacity(65));
    for byte in bytes.iter() {
        text.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        text.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    text.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    drop(file);
    Passphrase::from_file(path).context("reading the passphrase back")
}

/// Write the public key to `path`, unless it already holds it (a different
/// key's is replaced: the file names the key the service runs with).
fn write_host_pub(path: &Path, public: &HostPublicKey) -> anyhow::Result<()> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        if existing.trim() == encode_public_key(public).trim() {
            return Ok(());
        }
        eprintln!(
            "stratbox serve: {} named another key; replacing it with the host key's",
            path.display()
        );
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    write_public_key(path, public).with_context(|| format!("writing {}", path.display()))
}

/// Run `stratbox tenant`.
pub fn tenant(args: &TenantArgs) -> anyhow::Result<()> {
    match &args.command {
        TenantCommand::Create { id, data, config } => {
            create_tenant(id, data.as_deref(), config.as_deref())
        }
    }
}

/// Add tenant `id` to the control plane directly (SQLite arbitrates with a
/// running service), without opening the service, its workers or its key.
fn create_tenant(id: &str, data: Option<&Path>, config: Option<&Path>) -> anyhow::Result<()> {
    let config = load_config(config)?;
    let data = data.unwrap_or(&config.data_dir);
    // Checked before the directory is made: the id names a directory.
    anyhow::ensure!(
        stratbox_service::request::is_valid_id(id),
        "`{}` is not a tenant id: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with `.`",
        stratbox_report::escape_terminal(id)
    );
    create_private_dir(data)
        .with_context(|| format!("creating the data directory {}", data.display()))?;
    let path = data.join("control.sqlite");
    let control = ControlPlane::open(&path)
        .with_context(|| format!("opening the control plane {}", path.display()))?;
    let token = stratbox_service::auth::issue_tenant(&control, id, config.default_quotas)
        .map_err(anyhow::Error::new)?;
    println!("{token}");
    eprintln!(
        "tenant `{id}` created in {}; its API token (above) is shown only now: keep it secret. \
         Clients read it from {} (or the variable --token-env names)",
        data.display(),
        crate::client::TOKEN_VAR
    );
    Ok(())
}

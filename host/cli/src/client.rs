//! The client commands of `stratbox serve`'s HTTP API: `upload`, `deploy`,
//! `ps`, `pause`, `resume`, `stop`, `rm` and `logs`. The service's URL comes
//! from `--url` or `STRATBOX_URL`; the tenant's API token only from an
//! environment variable (`STRATBOX_TOKEN`, or the one `--token-env` names),
//! never from a flag, which every user of the machine could read in `ps`.
//!
//! What the service reports about a strategy (its log lines, failure
//! reasons, its manifest) is the strategy's own text: it reaches the
//! terminal with its control characters escaped.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use stratbox_report::escape_terminal as esc;

/// The variable the API token is read from by default.
pub const TOKEN_VAR: &str = "STRATBOX_TOKEN";
/// The service's URL when neither `--url` nor `STRATBOX_URL` names one.
const DEFAULT_URL: &str = "http://127.0.0.1:8420";
/// How long `logs --follow` waits between polls once caught up.
const FOLLOW_POLL: Duration = Duration::from_secs(1);
/// Ticks per page of logs (the service's maximum).
const PAGE: usize = 500;

/// Where the service is and who is asking.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The service's URL.
    #[arg(long, env = "STRATBOX_URL", default_value = DEFAULT_URL)]
    url: String,
    /// Environment variable holding the tenant's API token (default
    /// STRATBOX_TOKEN). The token is never taken as a flag's value.
    #[arg(long, value_name = "VAR", default_value = TOKEN_VAR)]
    token_env: String,
}

/// Arguments of `stratbox upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// A sealed bundle (`stratbox seal --to <the service's host.pub>`).
    bundle: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Arguments of `stratbox deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The deployment request (JSON: id, bundle, venue, schedule, and
    /// optionally config, policy, limits), sent as it is.
    deployment: PathBuf,
    /// Upload this sealed bundle first.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Print the deployment's status as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Arguments of `stratbox ps`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Print the deployments' status as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Arguments of the commands on one deployment.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The deployment's id.
    id: String,
    /// Print the deployment's status as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Arguments of `stratbox rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The deployment's id (stopped, finished or failed).
    id: String,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// Arguments of `stratbox logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The deployment's id.
    id: String,
    /// Only ticks with a sequence above this.
    #[arg(long, value_name = "N")]
    after: Option<u64>,
    /// Keep printing new lines as the deployment ticks, until it stops
    /// (or SIGINT).
    #[arg(short, long)]
    follow: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// What one deployment command asks of the service.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// `POST /v1/deployments/{id}/pause`.
    Pause,
    /// `POST /v1/deployments/{id}/resume`.
    Resume,
    /// `POST /v1/deployments/{id}/stop`.
    Stop,
}

/// An API client: a base URL, a token, and a runtime to wait on requests.
struct Client {
    base: Url,
    token: String,
    http: reqwest::Client,
    tokio: tokio::runtime::Runtime,
}

impl Client {
    fn new(args: &ConnectArgs) -> anyhow::Result<Client> {
        let base = Url::parse(args.url.trim())
            .with_context(|| format!("--url / STRATBOX_URL `{}`", esc(&args.url)))?;
        anyhow::ensure!(
            matches!(base.scheme(), "http" | "https"),
            "the service URL must be http:// or https://, not `{}`",
            esc(base.as_str())
        );
        let token = std::env::var(&args.token_env)
            .ok()
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty())
            .with_context(|| {
                format!(
                    "no API token: set {} to the tenant's token (`stratbox tenant create` prints \
                     it), or name another variable with --token-env",
                    args.token_env
                )
            })?;
        if base.scheme() == "http" && !is_loopback(&base) {
            eprintln!(
                "warning: the API token goes to {} unencrypted (http://): use https:// beyond \
                 this machine",
                base.host_str().unwrap_or("?")
            );
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Uploads compile the strategy before they answer.
            .timeout(Duration::from_secs(600))
            .build()
            .context("creating the HTTP client")?;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the tokio runtime")?;
        Ok(Client {
            base,
            token,
            http,
            tokio,
        })
    }

    /// The URL of the API path made of `segments` (each escaped).
    fn url(&self, segments: &[&str]) -> anyhow::Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("the service URL `{}` cannot take a path", self.base))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Send a request; the response's JSON (`Null` for an empty body), or
    /// the service's typed error.
    fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<(Vec<u8>, &str)>,
    ) -> anyhow::Result<Value> {
        let what = format!("{method} {}", url.path());
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some((bytes, content_type)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        self.tokio.block_on(async {
            let response = request.send().await.map_err(|e| {
                anyhow::anyhow!(
                    "{what}: {}: is `stratbox serve` running there? (--url or STRATBOX_URL)",
                    error_chain(&e)
                )
            })?;
            let status = response.status();
            let bytes = response
                .bytes()
                .await
                .with_context(|| format!("{what}: reading the answer"))?;
            if !status.is_success() {
                return Err(api_error(status, &bytes));
            }
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{what}: the answer is not JSON"))
        })
    }

    fn get(&self, segments: &[&str], query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut url = self.url(segments)?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        self.send(Method::GET, url, None)
    }

    fn upload(&self, path: &std::path::Path) -> anyhow::Result<Value> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let url = self.url(&["v1", "bundles"])?;
        self.send(Method::POST, url, Some((bytes, "application/octet-stream")))
    }
}

/// Whether `url` names this machine.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An error and its causes on one line (reqwest's own says only "error
/// sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The service's `{"error": {"code", "message"}}` as `<code>: <message>`;
/// anything else as its HTTP status and (the start of) its body.
fn api_error(status: StatusCode, body: &[u8]) -> anyhow::Error {
    let parsed: Option<(String, String)> =
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|value| {
                let error = value.get("error")?;
                Some((
                    error.get("code")?.as_str()?.to_owned(),
                    error.get("message")?.as_str()?.to_owned(),
                ))
            });
    match parsed {
        Some((code, message)) => anyhow::anyhow!("{}: {}", esc(&code), esc(&message)),
        None => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.chars().take(200).collect();
            anyhow::anyhow!("HTTP {status}: {}", esc(text.trim()))
        }
    }
}

/// A string field of `value` (escaped), or `-`.
fn field(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::String(text)) => esc(text).into_owned(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => esc(&other.to_string()).into_owned(),
    }
}

/// Print `line` to stdout. A reader that went away (`stratbox logs d |
/// head`) ends the command quietly instead of with a panic.
fn out(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        result => result.context("writing to stdout"),
    }
}

/// Print `value` as indented JSON (its strings' control characters are
/// escaped by JSON itself).
fn print_json(value: &Value) -> anyhow::Result<()> {
    out(&serde_json::to_string_pretty(value)?)
}

/// One line about a deployment's status.
fn status_line(status: &Value) -> String {
    let mut line = format!("{}: {}", field(status, "id"), field(status, "state"));
    if let Some(reason) = status.get("reason").and_then(Value::as_str) {
        line.push_str(&format!(" ({})", esc(reason)));
    }
    line
}

/// A one-line summary of an uploaded bundle.
fn bundle_line(row: &Value) -> String {
    let manifest = row.get("manifest").unwrap_or(&Value::Null);
    format!(
        "uploaded bundle {} {} by {} ({}, {} bytes sealed)",
        field(manifest, "name"),
        field(manifest, "version"),
        field(manifest, "author"),
        field(manifest, "language"),
        row.get("size_bytes").and_then(Value::as_u64).unwrap_or(0),
    )
}

/// `stratbox upload`.
pub fn upload(args: &UploadArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.connect)?;
    let row = client.upload(&args.bundle)?;
    out(&bundle_line(&row))
}

/// `stratbox deploy`.
pub fn deploy(args: &DeployArgs) -> anyhow::Result<()> {
    let request = std::fs::read(&args.deployment)
        .with_context(|| format!("reading {}", args.deployment.display()))?;
    let client = Client::new(&args.connect)?;
    if let Some(bundle) = &args.bundle {
        let row = client.upload(bundle)?;
        eprintln!("{}", bundle_line(&row));
    }
    let url = client.url(&["v1", "deployments"])?;
    let status = client.send(Method::POST, url, Some((request, "application/json")))?;
    if args.json {
        print_json(&status)
    } else {
        out(&status_line(&status))
    }
}

/// `stratbox ps`.
pub fn ps(args: &PsArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.connect)?;
    let list = client.get(&["v1", "deployments"], &[])?;
    if args.json {
        return print_json(&list);
    }
    let deployments = list.as_array().cloned().unwrap_or_default();
    if deployments.is_empty() {
        eprintln!("no deployments");
        return Ok(());
    }
    let count = |status: &Value, name: &str| {
        status
            .get(name)
            .and_then(Value::as_u64)
            .map_or_else(|| "-".to_owned(), |n| n.to_string())
    };
    let header = [
        "ID", "STATE", "TICKS", "FAILED", "SKIPPED", "NEXT", "BUNDLE", "REASON",
    ];
    let rows: Vec<[String; 8]> = deployments
        .iter()
        .map(|status| {
            let request = status.get("request").unwrap_or(&Value::Null);
            [
                field(status, "id"),
                field(status, "state"),
                count(status, "ticks"),
                count(status, "failed_ticks"),
                count(status, "skipped_ticks"),
                count(status, "next_sequence"),
                field(request, "bundle"),
                field(status, "reason"),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let print = |cells: &[String]| -> anyhow::Result<()> {
        let mut line = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index + 1 == cells.len() {
                line.push_str(cell);
            } else if (2..6).contains(&index) {
                line.push_str(&format!("{cell:>width$}  "));
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        out(line.trim_end())
    };
    print(&header.map(str::to_owned))?;
    for row in &rows {
        print(row)?;
    }
    Ok(())
}

/// `stratbox pause|resume|stop`.
pub fn act(args: &IdArgs, action: Action) -> anyhow::Result<()> {
    let client = Client::new(&args.connect)?;
    let verb = match action {
        Action::Pause => "pause",
        Action::Resume => "resume",
        Action::Stop => "stop",
    };
    let url = client.url(&["v1", "deployments", &args.id, verb])?;
    let status = client.send(Method::POST, url, None)?;
    if args.json {
        print_json(&status)
    } else {
        out(&status_line(&status))
    }
}

/// `stratbox rm`.
pub fn rm(args: &RmArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.connect)?;
    let url = client.url(&["v1", "deployments", &args.id])?;
    client.send(Method::DELETE, url, None)?;
    out(&format!("{}: deleted", esc(&args.id)))
}

/// `stratbox logs`: the log lines of the deployment's ticks after
/// `--after`, page by page; with `--follow`, new ones as they come until
/// the deployment is no longer running or paused.
pub fn logs(args: &LogsArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.connect)?;
    let id = args.id.as_str();
    let mut after = args.after;
    // The deployment's status once it is no longer running or paused.
    let mut ended: Option<Value> = None;
    loop {
        let page = |path: &str, after: Option<u64>| {
            let mut query = vec![("limit", PAGE.to_string())];
            if let Some(after) = after {
                query.push(("after", after.to_string()));
            }
            client.get(&["v1", "deployments", id, path], &query)
        };
        let lines = page("logs", after)?;
        let lines = lines.as_array().cloned().unwrap_or_default();
        if let Some(last) = lines.last() {
            for line in &lines {
                let level = field(line, "level");
                // `level::info` from some services: the name is the last part.
                let level = level.rsplit("::").next().unwrap_or_default();
                out(&format!(
                    "{:>6} {level:<5} {}",
                    line.get("sequence").and_then(Value::as_u64).unwrap_or(0),
                    field(line, "message"),
                ))?;
            }
            // A page holds whole ticks: every line of its last tick with
            // a line was printed.
            let next = last.get("sequence").and_then(Value::as_u64);
            if next.is_some_and(|next| after.is_none_or(|after| next > after)) {
                after = next;
                continue;
            }
        }
        // No line in the next page of ticks: are there ticks (that logged
        // nothing) to step over, or is this the end?
        let ticks = page("ticks", after)?;
        let last = ticks
            .as_array()
            .and_then(|ticks| ticks.last())
            .and_then(|tick| tick.get("call"))
            .and_then(|call| call.get("tick"))
            .and_then(Value::as_u64);
        if let Some(last) = last
            && after.is_none_or(|after| last > after)
        {
            after = Some(last);
            continue;
        }
        if !args.follow {
            return Ok(());
        }
        if let Some(status) = &ended {
            eprintln!("{}", status_line(status));
            return Ok(());
        }
        let status = client.get(&["v1", "deployments", id], &[])?;
        if matches!(
            status.get("state").and_then(Value::as_str),
            Some("running" | "paused")
        ) {
            std::thread::sleep(FOLLOW_POLL);
        } else {
            // One more pass: ticks committed since the last page.
            ended = Some(status);
        }
    }
}

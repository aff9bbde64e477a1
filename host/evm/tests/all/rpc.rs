//! The RPC endpoint's URL carries the provider's API key: it never shows in
//! an error, a log line or a printed config beyond scheme, host and port.
//! Every request has a deadline: a node that accepts and never answers is a
//! typed timeout, not a stalled deployment. No anvil needed.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use stratbox_evm::devnet::DEPLOYMENT_KEY;
use stratbox_evm::{
    Chain, ChainConfig, ChainError, ConfigError, DeploymentSigner, RpcUrl, redact_url, redact_urls,
};

/// Parts of the URL that must never be shown.
const SECRETS: [&str; 4] = ["FAKEKEY123", "QUERYKEY456", "s3cret-pass", "alice"];

fn url_with_key(port: u16) -> String {
    format!("http://alice:s3cret-pass@127.0.0.1:{port}/v2/FAKEKEY123?apikey=QUERYKEY456#frag")
}

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "`{secret}` leaked in: {text}");
    }
}

fn chain_config(url: &str, timeout_secs: u64) -> ChainConfig {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/live/chain.toml"),
    )
    .unwrap();
    let mut config = ChainConfig::parse(&text, "chain.toml").unwrap();
    config.rpc_url = RpcUrl::new(url);
    config.rpc_timeout_secs = timeout_secs;
    config
}

fn signer() -> DeploymentSigner {
    DeploymentSigner::from_hex(DEPLOYMENT_KEY, "test").unwrap()
}

#[test]
fn redaction_keeps_scheme_host_and_port_only() {
    let cases = [
        (
            "https://eth-mainnet.g.alchemy.com/v2/FAKEKEY123",
            "https://eth-mainnet.g.alchemy.com/[redacted]",
        ),
        (
            "https://alice:s3cret-pass@node.example:8545/?apikey=QUERYKEY456",
            "https://node.example:8545/[redacted]",
        ),
        (
            "wss://mainnet.infura.io/ws/v3/FAKEKEY123",
            "wss://mainnet.infura.io/[redacted]",
        ),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545/"),
        (
            "http://[::1]:8545/FAKEKEY123",
            "http://[::1]:8545/[redacted]",
        ),
        ("https://host#FAKEKEY123", "https://host/[redacted]"),
        ("not a url FAKEKEY123", "[redacted]"),
    ];
    for (url, redacted) in cases {
        assert_eq!(redact_url(url), redacted, "{url}");
    }
}

#[test]
fn every_url_in_a_text_is_redacted() {
    let text = format!(
        "error sending request for url ({}): tcp connect error; retrying \"https://b.example/v3/FAKEKEY123\", then {}",
        url_with_key(9),
        url_with_key(10)
    );
    let redacted = redact_urls(&text);
    assert_no_secret(&redacted);
    assert_eq!(
        redacted,
        "error sending request for url (http://127.0.0.1:9/[redacted]): tcp connect error; retrying \"https://b.example/[redacted]\", then http://127.0.0.1:10/[redacted]"
    );
    assert_eq!(redact_urls("no url here"), "no url here");
}

#[test]
fn a_configured_url_prints_redacted() {
    let config = chain_config(&url_with_key(8545), 30);
    assert_eq!(config.rpc_url.expose(), url_with_key(8545));
    assert_no_secret(&format!("{:?}", config));
    assert_no_secret(&config.rpc_url.to_string());
    // A bad URL is named in the error, redacted.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/live/chain.toml"),
    )
    .unwrap();
    let start = text.find("rpc_url").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let bad = format!(
        "{}rpc_url = \"ftp://alice:s3cret-pass@node/FAKEKEY123\"{}",
        &text[..start],
        &text[end..]
    );
    let error = ChainConfig::parse(&bad, "chain.toml").unwrap_err();
    assert!(matches!(error, ConfigError::Invalid { .. }), "{error}");
    assert_no_secret(&error.to_string());
}

#[test]
fn rpc_timeout_defaults_to_30s_and_zero_is_refused() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/live/chain.toml"),
    )
    .unwrap();
    let config = ChainConfig::parse(&text, "chain.toml").unwrap();
    assert_eq!(config.rpc_timeout_secs, 30);
    assert_eq!(config.rpc_timeout(), Duration::from_secs(30));
    let without: String = text
        .lines()
        .filter(|line| !line.starts_with("rpc_timeout_secs"))
        .map(|line| format!("{line}\n"))
        .collect();
    let zero = format!("rpc_timeout_secs = 0\n{without}");
    match ChainConfig::parse(&zero, "chain.toml").unwrap_err() {
        ConfigError::Invalid { field, .. } => assert_eq!(field, "rpc_timeout_secs"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_connection_error_does_not_carry_the_key() {
    // A loopback port nobody listens on.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = tokio
        .block_on(Chain::connect(
            chain_config(&url_with_key(port), 30),
            signer(),
        ))
        .unwrap_err();
    assert!(matches!(error, ChainError::Rpc { .. }), "{error}");
    let text = format!("{error} {error:?}");
    assert_no_secret(&text);
    assert!(
        text.contains(&format!("127.0.0.1:{port}")),
        "the host and port stay for the operator: {text}"
    );
}

#[test]
fn a_node_that_never_answers_times_out_with_a_typed_error() {
    // Accepts connections (the kernel's backlog does) and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let error = tokio
        .block_on(Chain::connect(
            chain_config(&url_with_key(port), 1),
            signer(),
        ))
        .unwrap_err();
    let elapsed = started.elapsed();
    match &error {
        ChainError::Timeout { what, after } => {
            assert_eq!(what, "eth_chainId");
            assert_eq!(*after, Duration::from_secs(1));
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(error.is_timeout());
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    assert_no_secret(&format!("{error} {error:?}"));
    drop(listener);
}

/// A node that fails the first `failures` requests with HTTP 503, then
/// answers `eth_chainId` correctly; counts the requests it saw.
fn flaky_node(failures: usize) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let response = if n < failures {
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned()
            } else {
                let answer = serde_json::json!({
                    "jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"
                })
                .to_string();
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                )
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (port, seen)
}

#[test]
fn a_transient_node_failure_is_retried_with_a_backoff() {
    use std::sync::atomic::Ordering;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Two 503s, then an answer: the request succeeds on its third attempt.
    let (port, seen) = flaky_node(2);
    let started = Instant::now();
    let chain = tokio.block_on(Chain::connect(
        chain_config(&format!("http://127.0.0.1:{port}"), 5),
        signer(),
    ));
    assert!(chain.is_ok(), "{:?}", chain.err());
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(2 * stratbox_evm::RETRY_BACKOFF_MS),
        "backed off between attempts"
    );
    // A node that keeps failing is given up on after the retries, with the
    // node's own error.
    let (port, seen) = flaky_node(usize::MAX);
    let error = tokio
        .block_on(Chain::connect(
            chain_config(&format!("http://127.0.0.1:{port}"), 5),
            signer(),
        ))
        .unwrap_err();
    assert!(matches!(error, ChainError::Rpc { .. }), "{error}");
    assert!(error.to_string().contains("503"), "{error}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1 + stratbox_evm::RETRIES as usize
    );
}

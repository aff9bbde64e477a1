//! The one way this crate talks to a node: an HTTP provider whose every
//! request has a deadline, is retried with a backoff when it failed
//! transiently, and whose transport errors never carry the endpoint's URL
//! (with its API key) beyond scheme, host and port. A hung node becomes a
//! typed [`RpcTimedOut`] within the deadline instead of a stalled
//! deployment.

use std::task::{Context, Poll};
use std::time::Duration;

use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::client::ClientBuilder;
use alloy::transports::layers::{RateLimitRetryPolicy, RetryBackoffLayer};
use alloy::transports::{RpcError, TransportError, TransportErrorKind, TransportFut};

use crate::error::ChainError;
use crate::redact::{RpcUrl, redact_urls};

/// A request got no answer within the configured RPC timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no answer within {}s", after.as_secs_f64())]
pub struct RpcTimedOut {
    /// The timeout.
    pub after: Duration,
}

/// A transport error with its text redacted (the chain of sources is kept
/// as text, since the originals may quote the URL).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Redacted(String);

/// A provider for `url` whose requests time out after `timeout`.
pub fn http_provider(url: &RpcUrl, timeout: Duration) -> Result<DynProvider, ChainError> {
    let parsed = url.expose().parse().map_err(|_| ChainError::BadUrl {
        url: url.redacted(),
    })?;
    // Retries outside the guard: every attempt has its own deadline and
    // redacted errors, and a timeout is never retried (a hung node shows
    // within the deadline).
    let client = ClientBuilder::default()
        .layer(RetryBackoffLayer::new_with_policy(
            RETRIES,
            RETRY_BACKOFF_MS,
            u64::MAX,
            RateLimitRetryPolicy::default().or(transient),
        ))
        .layer(GuardLayer { timeout })
        .http(parsed);
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_client(client)
        .erased())
}

/// Attempts after the first for a request that failed transiently (a
/// connection refused or reset, HTTP 429 or 5xx, a rate-limit answer).
pub const RETRIES: u32 = 3;

/// Milliseconds between attempts, unless the node asks for longer.
pub const RETRY_BACKOFF_MS: u64 = 250;

/// Whether a failed request may succeed if sent again: the transport's
/// own errors (connection refused or reset) and server errors, never a
/// timeout. Every request stratbox sends is safe to repeat: reads, and
/// signed transactions (the same bytes are the same transaction).
fn transient(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(TransportErrorKind::Custom(_)) => timed_out(error).is_none(),
        RpcError::Transport(TransportErrorKind::HttpError(http)) => http.status >= 500,
        _ => false,
    }
}

/// Whether `error` is a request that timed out, and after how long.
pub(crate) fn timed_out(error: &TransportError) -> Option<Duration> {
    match error {
        RpcError::Transport(TransportErrorKind::Custom(inner)) => {
            inner.downcast_ref::<RpcTimedOut>().map(|t| t.after)
        }
        _ => None,
    }
}

/// Deadline and redaction around a transport.
#[derive(Debug, Clone, Copy)]
struct GuardLayer {
    timeout: Duration,
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            timeout: self.timeout,
        }
    }
}

#[derive(Debug, Clone)]
struct Guard<S> {
    inner: S,
    timeout: Duration,
}

impl<S, Request, Response> tower::Service<Request> for Guard<S>
where
    S: tower::Service<
            Request,
            Response = Response,
            Error = TransportError,
            Future = TransportFut<'static, Response>,
        >,
    Response: Send + 'static,
{
    type Response = Response;
    type Error = TransportError;
    type Future = TransportFut<'static, Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.inner.poll_ready(cx).map_err(redact)
    }

    fn call(&mut self, request: Request) -> TransportFut<'static, Response> {
        let call = self.inner.call(request);
        let after = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(after, call).await {
                Ok(result) => result.map_err(redact),
                Err(_) => Err(TransportErrorKind::custom(RpcTimedOut { after })),
            }
        })
    }
}

/// The transport's own errors (the HTTP client's, which name the URL)
/// become their redacted text, sources included; the node's answers pass
/// as they are.
fn redact(error: TransportError) -> TransportError {
    match error {
        RpcError::Transport(TransportErrorKind::Custom(inner)) => {
            let mut text = inner.to_string();
            let mut source = inner.source();
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            TransportErrorKind::custom(Redacted(redact_urls(&text)))
        }
        RpcError::Transport(TransportErrorKind::HttpError(mut http)) => {
            http.body = redact_urls(&http.body);
            RpcError::Transport(TransportErrorKind::HttpError(http))
        }
        other => other,
    }
}

//! RPC URLs carry API keys (in the path, the query or the userinfo of
//! providers' endpoints), so they never appear whole in a log line, an
//! error message or a strategy's view: [`redact_url`] keeps the scheme, the
//! host and the port, and drops the rest; [`redact_urls`] does so to every
//! URL inside a text (a transport error quoting the URL it failed on);
//! [`RpcUrl`] holds a configured endpoint and shows itself redacted.

use std::fmt;

use serde::Deserialize;

/// What replaces the dropped part of a URL.
pub const REDACTED: &str = "[redacted]";

/// `url` with only its scheme, host and port: `https://user:pw@host:8545/v2/KEY?k=v`
/// becomes `https://host:8545/[redacted]`. A text that is not a URL (no
/// `scheme://`) is redacted whole: nothing of it is known to be safe.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = split_scheme(url) else {
        return REDACTED.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (true, &authority[at + 1..]),
        None => (false, authority),
    };
    if userinfo || !(tail.is_empty() || tail == "/") {
        format!("{scheme}://{host}/{REDACTED}")
    } else {
        format!("{scheme}://{host}{tail}")
    }
}

/// `text` with every URL in it (a `scheme://` up to the next whitespace,
/// quote, bracket or comma) replaced by [`redact_url`] of it.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        // Back up over the scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
        let head = &rest[..found];
        let scheme_len = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .map(char::len_utf8)
            .sum::<usize>();
        let start = found - scheme_len;
        let after = found + 3;
        let end = rest[after..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '(' | ')' | ',')
            })
            .map_or(rest.len(), |i| after + i);
        out.push_str(&rest[..start]);
        if scheme_len == 0 {
            // `://` without a scheme: still drop what follows.
            out.push_str("://");
            out.push_str(REDACTED);
        } else {
            out.push_str(&redact_url(&rest[start..end]));
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// A JSON-RPC endpoint as configured: the whole URL is used to connect
/// ([`RpcUrl::expose`]); `Display` and `Debug` show it redacted
/// ([`redact_url`]), so printing a config, a chain or an error never leaks
/// the key in it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RpcUrl(String);

impl RpcUrl {
    /// Wrap an endpoint URL.
    pub fn new(url: impl Into<String>) -> RpcUrl {
        RpcUrl(url.into())
    }

    /// The whole URL, API key included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL redacted, as [`redact_url`].
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Display for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RpcUrl").field(&self.redacted()).finish()
    }
}

impl From<String> for RpcUrl {
    fn from(url: String) -> RpcUrl {
        RpcUrl(url)
    }
}

impl From<&str> for RpcUrl {
    fn from(url: &str) -> RpcUrl {
        RpcUrl(url.to_owned())
    }
}

//! Live execution of stratbox deployments on an EVM chain, with alloy.
//!
//! The deployment loop is the engine's ([`stratbox_engine::Runner`]), as for
//! backtests; only the venue changes. [`EvmVenue`] reads the chain once per tick at one
//! block ([`ChainView`]: balances of the account, Uniswap v3 pool state,
//! Chainlink-style feeds, LP positions) and serves the strategy's oracle
//! from that view ([`ChainOracle`]). Each accepted action is compiled to
//! contract calls ([`compile`]), simulated from the account
//! (`eth_simulateV1`; a revert goes back to the strategy with its decoded
//! reason and nothing is sent), signed with the deployment key, journaled
//! as an intent, broadcast and settled from its receipt ([`Executor`]).
//! The account is the key itself or a Safe the key co-owns
//! ([`AccountMode`]). After a crash, [`reconcile`] settles pending intents
//! by hash and nonce instead of sending again.
//!
//! Every request to the node has a deadline (`rpc_timeout_secs` in the
//! chain file) and no log line or error carries the RPC URL beyond its
//! scheme, host and port ([`redact`]): providers put API keys in URLs.

mod chain;
pub mod compile;
mod config;
mod contracts;
pub mod daemon;
pub mod devnet;
pub mod durable;
mod error;
mod execute;
pub mod live;
mod oracle;
pub mod quote;
mod reconcile;
pub mod redact;
mod rpc;
mod signer;
mod venue;
mod view;

pub use chain::Chain;
pub use compile::{CompileError, CompiledAction, ContractCall, compile};
pub use config::{
    AccountMode, AssetConfig, ChainConfig, Contracts, FeeCaps, FeedConfig, PoolConfig,
};
pub use error::{ChainError, ConfigError, SignerError};
pub use execute::Executor;
pub use oracle::ChainOracle;
pub use reconcile::{Reconciled, reconcile};
pub use redact::{RpcUrl, redact_url, redact_urls};
pub use rpc::{RETRIES, RETRY_BACKOFF_MS, RpcTimedOut, http_provider};
pub use signer::{DeploymentSigner, SigningKeySource};
pub use venue::{CandleFeed, EvmVenue, LiveTickError};
pub use view::{ChainView, LpPosition, PoolSnapshot};

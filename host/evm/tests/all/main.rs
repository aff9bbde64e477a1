//! End-to-end tests of live execution against anvil with the real Uniswap
//! v3, Aave v3, Safe, OpenZeppelin, WETH9 and Chainlink contracts from npm.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod aave;
mod chain_file;
mod crash;
mod differential;
mod erc4626;
mod files;
mod lease;
mod live_rsi;
mod lp;
mod oracle_reads;
mod random_ops;
mod rpc;
mod safe;
mod sandwich;
mod simulation;
mod stuck;
mod support;

//! A connection to the deployment's chain: the RPC provider, the signing
//! key and the account that acts (the key's own address or its Safe).

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, TxKind, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;

use crate::config::{AccountMode, ChainConfig};
use crate::contracts::ISafe;
use crate::error::ChainError;
use crate::rpc::http_provider;
use crate::signer::DeploymentSigner;

/// The chain, the key and the account of one deployment.
#[derive(Debug, Clone)]
pub struct Chain {
    provider: DynProvider,
    config: ChainConfig,
    signer: DeploymentSigner,
    account: Address,
}

/// The address that holds a deployment's funds: its key's own, or the
/// Safe's.
pub fn account_of(config: &ChainConfig, signer: &DeploymentSigner) -> Address {
    match &config.account {
        AccountMode::Eoa => signer.address(),
        AccountMode::Safe { safe } => *safe,
    }
}

impl Chain {
    /// Connect to the configured node, check its chain id and, in Safe
    /// mode, that the key may execute for the Safe alone. Every request
    /// of the connection times out after the chain file's
    /// `rpc_timeout_secs`; no error names more of the URL than its scheme,
    /// host and port.
    pub async fn connect(
        config: ChainConfig,
        signer: DeploymentSigner,
    ) -> Result<Chain, ChainError> {
        let provider = http_provider(&config.rpc_url, config.rpc_timeout())?;
        let found = provider
            .get_chain_id()
            .await
            .map_err(|e| ChainError::rpc("eth_chainId", e))?;
        if found != config.chain_id {
            return Err(ChainError::WrongChain {
                url: config.rpc_url.redacted(),
                expected: config.chain_id,
                found,
            });
        }
        let account = account_of(&config, &signer);
        let chain = Chain {
            provider,
            config,
            signer,
            account,
        };
        if let AccountMode::Safe { safe } = chain.config.account {
            let owner = chain
                .read(
                    safe,
                    ISafe::isOwnerCall {
                        owner: chain.signer.address(),
                    },
                    BlockId::latest(),
                )
                .await?;
            let threshold = chain
                .read(safe, ISafe::getThresholdCall {}, BlockId::latest())
                .await?;
            if !owner || threshold != U256::from(1) {
                return Err(ChainError::NotSafeOwner {
                    safe: safe.to_string(),
                    signer: chain.signer.address().to_string(),
                });
            }
        }
        Ok(chain)
    }

    /// The RPC provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The chain file.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The address that holds the funds and appears in the logs.
    pub fn account(&self) -> Address {
        self.account
    }

    /// The deployment key.
    pub fn signer(&self) -> &DeploymentSigner {
        &self.signer
    }

    /// Call a view function at `block`.
    pub async fn read<C: SolCall>(
        &self,
        to: Address,
        call: C,
        block: BlockId,
    ) -> Result<C::Return, ChainError> {
        let request = TransactionRequest {
            to: Some(TxKind::Call(to)),
            input: Bytes::from(call.abi_encode()).into(),
            ..TransactionRequest::default()
        };
        let what = || format!("{} on {to}", C::SIGNATURE);
        let output = self
            .provider
            .call(request)
            .block(block)
            .await
            .map_err(|e| ChainError::rpc(what(), e))?;
        C::abi_decode_returns(&output).map_err(|e| ChainError::Unexpected {
            what: what(),
            reason: e.to_string(),
        })
    }
}

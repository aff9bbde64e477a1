//! A devnet per test: anvil on a free port with the contract stack
//! deployed, a tokio runtime for the chain I/O, a journal, and a sealed RSI.

use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use stratbox_evm::devnet::{Anvil, Artifacts, DEPLOYMENT_KEY, Devnet};
use stratbox_evm::{AccountMode, Chain, DeploymentSigner, Executor};
use stratbox_journal::{Journal, NewRun, Recorder, RunPolicy};
use stratbox_runtime::bundle::{HostSecretKey, Language, SecretKey, StrategyMetadata};
use stratbox_runtime::policy::AssetCatalog;
use stratbox_runtime::{DeploymentSpec, Runtime, RuntimeConfig, StrategyComponent};
use stratbox_store::Store;
use stratbox_test_artifacts::Guest;

/// One wasm runtime for the binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: LazyLock<Runtime> =
        LazyLock::new(|| Runtime::new(RuntimeConfig::pooled()).expect("runtime"));
    &RUNTIME
}

/// A running devnet.
pub struct Net {
    /// Kept for its lifetime: dropping it stops anvil.
    pub _anvil: Anvil,
    pub devnet: Devnet,
    pub tokio: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
}

impl Net {
    /// anvil started and the contracts deployed.
    pub fn start() -> Net {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let artifacts = Artifacts::locate(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let anvil = Anvil::start(artifacts.node_modules(), true).unwrap();
        let devnet = tokio
            .block_on(Devnet::deploy(anvil.url(), &artifacts))
            .unwrap();
        Net {
            _anvil: anvil,
            devnet,
            tokio,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The deployment key's chain connection in `mode`.
    pub fn chain(&self, mode: AccountMode) -> Chain {
        let signer = DeploymentSigner::from_hex(DEPLOYMENT_KEY, "devnet").unwrap();
        self.tokio
            .block_on(Chain::connect(self.devnet.chain_config(mode), signer))
            .unwrap()
    }

    /// Give `account` `weth` WETH and `dai` DAI (whole tokens) on the devnet.
    pub fn fund(&self, account: Address, weth: u128, dai: u128) {
        self.tokio
            .block_on(self.devnet.fund(account, weth, dai))
            .unwrap();
    }

    /// ERC-20 balance of `owner`.
    pub fn balance(&self, token: Address, owner: Address) -> U256 {
        let chain = self.chain(AccountMode::Eoa);
        self.tokio.block_on(async {
            let call = alloy::rpc::types::TransactionRequest::default()
                .to(token)
                .input(
                    alloy::sol_types::SolCall::abi_encode(&balance_of::balanceOfCall { owner })
                        .into(),
                );
            let out = chain.provider().call(call).await.unwrap();
            U256::from_be_slice(&out)
        })
    }

    /// Nonce (transactions sent) of `address`.
    pub fn nonce(&self, address: Address) -> u64 {
        let chain = self.chain(AccountMode::Eoa);
        self.tokio
            .block_on(
                chain
                    .provider()
                    .get_transaction_count(address)
                    .into_future(),
            )
            .unwrap()
    }

    /// A journal file in the test's directory.
    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join("live.db")
    }

    /// Start recording a run of `component` and an executor whose intents go
    /// to the same journal.
    pub fn recorder_and_executor(
        &self,
        spec: &DeploymentSpec,
        component: &StrategyComponent,
        policy: RunPolicy,
        mode: AccountMode,
    ) -> (Recorder, Executor) {
        let run = NewRun {
            spec: spec.clone(),
            component_sha256: component.info().sha256.clone(),
            component_path: Some(Guest::RsiMomentum.path().to_owned()),
            policy,
            initial_policy_state: None,
            assets: assets(),
            label: Some("live test".into()),
        };
        let recorder = Recorder::start(Journal::open(&self.journal_path()).unwrap(), &run).unwrap();
        let intents = Journal::open(&self.journal_path()).unwrap();
        let executor = Executor::new(self.chain(mode), intents, recorder.run());
        (recorder, executor)
    }
}

mod balance_of {
    alloy::sol! {
        function balanceOf(address owner) external view returns (uint256);
    }
}

/// The devnet's assets for policies.
pub fn assets() -> AssetCatalog {
    AssetCatalog::new()
        .with("WETH", 18)
        .with("DAI", 18)
        .with("LINK", 18)
        .with("ETH", 18)
}

/// The RSI example, sealed into a store and loaded back from it.
pub fn sealed_rsi(dir: &Path) -> StrategyComponent {
    let key: Arc<SecretKey> = Arc::new(SecretKey::X25519(HostSecretKey::generate().unwrap()));
    let bundle = runtime()
        .seal_bundle(
            &Guest::RsiMomentum.bytes(),
            StrategyMetadata::new("rsi-momentum", "1.0.0", Language::Rust, "tests"),
            &*key,
        )
        .unwrap();
    let store = Store::open(dir.join("store"), Arc::clone(&key) as _).unwrap();
    store.import_bundle(runtime(), &bundle).unwrap();
    store
        .load_strategy(runtime(), "rsi-momentum")
        .unwrap()
        .component
}

/// RSI config for the devnet's WETH/DAI pool spending `order_size` DAI.
pub fn rsi_config(order_size: &str) -> String {
    serde_json::json!({
        "market": "WETH/DAI",
        "base": "WETH",
        "quote": "DAI",
        "quote_decimals": 18,
        "period": 5,
        "oversold": 30.0,
        "overbought": 70.0,
        "order_size": order_size,
        "cooldown_ms": 0,
        "max_slippage_bps": 150
    })
    .to_string()
}

/// Candles that fall for `n` steps, then rise for `n`: RSI goes oversold,
/// then overbought.
pub fn down_then_up(n: usize) -> Vec<stratbox_runtime::types::Candle> {
    let mut price = 2000.0;
    let mut candles = Vec::new();
    for i in 0..2 * n {
        price *= if i < n { 0.99 } else { 1.01 };
        candles.push(stratbox_runtime::types::Candle {
            timestamp_ms: 1_700_000_000_000 + i as u64 * 60_000,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 1.0,
        });
    }
    candles
}

/// The deployment key's address.
pub fn deployment_address() -> Address {
    stratbox_evm::devnet::address_of(DEPLOYMENT_KEY)
}

/// A policy file in `dir` with `text`, loaded for the devnet's assets.
pub fn policy(dir: &Path, text: &str) -> stratbox_policy::PolicyFile {
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    stratbox_policy::load(&path, &assets()).unwrap()
}

/// A buy of WETH for 100 DAI, exact in, 1.5% slippage.
pub fn buy_weth() -> stratbox_runtime::types::Action {
    use stratbox_runtime::types::{Action, Amount, Swap, SwapAmount};
    Action::Swap(Swap {
        sell: "DAI".into(),
        buy: "WETH".into(),
        amount: SwapAmount::ExactIn(Amount::from_u128(100 * 1_000_000_000_000_000_000)),
        max_slippage_bps: 150,
        venue: None,
    })
}

/// Call the devnet's node directly (`evm_mine`, `evm_setAutomine`...).
pub fn rpc(net: &Net, method: &'static str, params: serde_json::Value) {
    let chain = net.chain(AccountMode::Eoa);
    let _: serde_json::Value = net
        .tokio
        .block_on(chain.provider().raw_request(method.into(), params))
        .unwrap();
}

impl Net {
    /// Deploy the creation bytecode `code` with `constructor_args`
    /// (ABI-encoded) appended, from `provider`'s key. Unlike
    /// `devnet::deploy`, the code need not be an npm artifact.
    pub fn deploy_code(
        &self,
        provider: &alloy::providers::DynProvider,
        code: &[u8],
        constructor_args: Vec<u8>,
    ) -> Address {
        use alloy::network::TransactionBuilder;
        let mut code = code.to_vec();
        code.extend(constructor_args);
        let request = alloy::rpc::types::TransactionRequest::default().with_deploy_code(code);
        let receipt = self.tokio.block_on(async {
            provider
                .send_transaction(request)
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap()
        });
        assert!(receipt.status(), "deployment reverted");
        receipt.contract_address.expect("a contract address")
    }

    /// Send `call` to `to` from `provider`'s key and return the receipt;
    /// panics if it reverts. Sent once: unlike `devnet::transact`, a revert
    /// is never retried, so a test sees every one.
    pub fn send<C: alloy::sol_types::SolCall>(
        &self,
        provider: &alloy::providers::DynProvider,
        to: Address,
        call: C,
    ) -> alloy::rpc::types::TransactionReceipt {
        let request = alloy::rpc::types::TransactionRequest::default()
            .to(to)
            .input(call.abi_encode().into());
        let receipt = self.tokio.block_on(async {
            provider
                .send_transaction(request)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", C::SIGNATURE))
                .get_receipt()
                .await
                .unwrap()
        });
        assert!(receipt.status(), "{} reverted", C::SIGNATURE);
        receipt
    }

    /// The decoded result of the view `call` on `to` at the latest block.
    pub fn view<C: alloy::sol_types::SolCall>(
        &self,
        provider: &alloy::providers::DynProvider,
        to: Address,
        call: C,
    ) -> C::Return {
        let request = alloy::rpc::types::TransactionRequest::default()
            .to(to)
            .input(call.abi_encode().into());
        let out = self
            .tokio
            .block_on(async { provider.call(request).await })
            .unwrap_or_else(|e| panic!("{}: {e}", C::SIGNATURE));
        C::abi_decode_returns(&out).unwrap()
    }
}

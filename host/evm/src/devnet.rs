//! A local chain with real contracts, for tests, demos and trying a
//! deployment before it meets a live network: anvil (npm
//! `@foundry-rs/anvil-linux-amd64`) on a free loopback port, and the
//! Uniswap v3 core and periphery, Safe, OpenZeppelin, WETH9 and Chainlink
//! artifacts from npm deployed onto it. Everything comes from the
//! repository's `node_modules` (`scripts/setup.sh` installs it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256, aliases::I24, aliases::U24, aliases::U160};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent, SolValue};

use crate::config::{AccountMode, AssetConfig, ChainConfig, Contracts, FeedConfig, PoolConfig};
use crate::contracts::INonfungiblePositionManager;

/// anvil's well-known first development key: deploys and provides
/// liquidity; in Safe mode it is the user who owns the Safe.
pub const ADMIN_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil's second development key: the deployment key.
pub const DEPLOYMENT_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// The chain id anvil serves.
pub const CHAIN_ID: u64 = 31337;

/// Fee tier of the devnet pool (0.30%, tick spacing 60).
pub const POOL_FEE: u32 = 3000;

/// DAI per WETH the pool starts at.
pub const START_PRICE: f64 = 2000.0;

const ONE: u128 = 1_000_000_000_000_000_000;

mod abi {
    #![allow(missing_docs)]
    alloy::sol! {
        function createPool(address tokenA, address tokenB, uint24 fee) external returns (address pool);
        function initialize(uint160 sqrtPriceX96) external;
        function mint(address to, uint256 amount) external;
        function deposit() external payable;
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function updateAnswer(int256 answer) external;
        function setup(
            address[] calldata owners,
            uint256 threshold,
            address to,
            bytes calldata data,
            address fallbackHandler,
            address paymentToken,
            uint256 payment,
            address paymentReceiver
        ) external;
        function createProxyWithNonce(address singleton, bytes memory initializer, uint256 saltNonce) external returns (address proxy);
        event ProxyCreation(address indexed proxy, address singleton);
    }
}

/// The devnet could not start or be deployed.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// `node_modules` lacks a package.
    #[error(
        "{0} is missing: run scripts/setup.sh (it installs anvil and the contract artifacts from npm)"
    )]
    Missing(PathBuf),
    /// An artifact is not a JSON file with `bytecode`.
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// anvil did not start.
    #[error("starting anvil: {0}")]
    Anvil(String),
    /// A deployment transaction failed.
    #[error("deploying {what}: {reason}")]
    Deploy {
        /// The step.
        what: String,
        /// The error.
        reason: String,
    },
}

fn deploy_error(what: &str) -> impl FnOnce(String) -> DevnetError + '_ {
    move |reason| DevnetError::Deploy {
        what: what.to_owned(),
        reason,
    }
}

/// A running anvil, stopped when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    url: String,
}

impl Anvil {
    /// Start anvil from `node_modules` on a free loopback port. With
    /// `automine` false, transactions wait in the mempool until a block is
    /// mined by hand (`evm_mine`).
    pub fn start(node_modules: &Path, automine: bool) -> Result<Anvil, DevnetError> {
        let binary = node_modules.join("@foundry-rs/anvil-linux-amd64/bin/anvil");
        if !binary.is_file() {
            return Err(DevnetError::Missing(binary));
        }
        // The free port is found before anvil binds it: another process
        // (another test's anvil) may take it in between. Then this anvil
        // exits, and whoever holds the port must not be taken for it.
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| DevnetError::Anvil(format!("no free port: {e}")))?
                .port();
            let mut command = Command::new(&binary);
            command
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args([
                    "--chain-id",
                    &CHAIN_ID.to_string(),
                    "--disable-code-size-limit",
                ])
                .arg("--silent")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            if !automine {
                command.arg("--no-mining");
            }
            let child = command
                .spawn()
                .map_err(|e| DevnetError::Anvil(format!("{}: {e}", binary.display())))?;
            let mut anvil = Anvil {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            let started = Instant::now();
            let listening = loop {
                if let Ok(Some(status)) = anvil.child.try_wait() {
                    break Err(format!("anvil on port {port} exited: {status}"));
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Still ours a moment later: it did not fail to bind.
                    std::thread::sleep(Duration::from_millis(100));
                    match anvil.child.try_wait() {
                        Ok(None) => break Ok(()),
                        _ => break Err(format!("port {port} is another process's")),
                    }
                }
                if started.elapsed() > Duration::from_secs(20) {
                    return Err(DevnetError::Anvil(format!(
                        "nothing listens on port {port} after 20 s"
                    )));
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            match listening {
                Ok(()) => return Ok(anvil),
                Err(error) => last_error = error,
            }
        }
        Err(DevnetError::Anvil(last_error))
    }

    /// The JSON-RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Addresses of everything deployed on the devnet.
#[derive(Debug, Clone)]
pub struct Devnet {
    /// JSON-RPC URL.
    pub url: String,
    /// WETH9.
    pub weth: Address,
    /// An 18-decimal ERC-20 (OpenZeppelin preset) called DAI.
    pub dai: Address,
    /// A second 18-decimal ERC-20 called LINK.
    pub link: Address,
    /// UniswapV3Factory.
    pub factory: Address,
    /// The WETH/DAI 0.3% pool, with full-range liquidity.
    pub pool: Address,
    /// SwapRouter.
    pub swap_router: Address,
    /// NonfungiblePositionManager.
    pub position_manager: Address,
    /// ETH/USD MockV3Aggregator (8 decimals).
    pub feed: Address,
    /// A Safe owned by the admin (user) and the deployment key, threshold 1.
    pub safe: Address,
}

/// Where the npm artifacts are.
#[derive(Debug, Clone)]
pub struct Artifacts {
    node_modules: PathBuf,
}

impl Artifacts {
    /// The `node_modules` at or above `start`.
    pub fn locate(start: &Path) -> Result<Artifacts, DevnetError> {
        let found = start
            .ancestors()
            .map(|dir| dir.join("node_modules"))
            .find(|dir| dir.join("@foundry-rs").is_dir());
        found
            .map(|node_modules| Artifacts { node_modules })
            .ok_or_else(|| DevnetError::Missing(start.join("node_modules/@foundry-rs")))
    }

    /// The `node_modules` directory.
    pub fn node_modules(&self) -> &Path {
        &self.node_modules
    }

    /// The creation bytecode of the artifact at `relative` (a path below
    /// `node_modules`, e.g. `@uniswap/v2-core/build/UniswapV2Factory.json`).
    pub fn bytecode(&self, relative: &str) -> Result<Vec<u8>, DevnetError> {
        self.linked_bytecode(relative, &[])
    }

    /// The creation bytecode of the Hardhat artifact at `relative` with
    /// its libraries linked: every placeholder (`__$<34 hex>$__`, 20 bytes)
    /// that the artifact's `linkReferences` lists under a library's name
    /// becomes that library's address in `libraries`. An error if a
    /// referenced library is not given or a listed offset holds no
    /// placeholder.
    pub fn linked_bytecode(
        &self,
        relative: &str,
        libraries: &[(&str, Address)],
    ) -> Result<Vec<u8>, DevnetError> {
        let path = self.node_modules.join(relative);
        let bad = |reason: String| DevnetError::Artifact {
            path: path.clone(),
            reason,
        };
        let text =
            std::fs::read_to_string(&path).map_err(|_| DevnetError::Missing(path.clone()))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut code = json["bytecode"]
            .as_str()
            .ok_or_else(|| bad("no `bytecode` string".into()))?
            .trim_start_matches("0x")
            .to_owned();
        let references = json["linkReferences"].as_object().into_iter().flatten();
        for (source, names) in references {
            for (name, places) in names.as_object().into_iter().flatten() {
                let address = libraries
                    .iter()
                    .find(|(library, _)| library == name)
                    .map(|(_, address)| hex::encode(address))
                    .ok_or_else(|| bad(format!("library {name} ({source}) not given")))?;
                for place in places.as_array().into_iter().flatten() {
                    let (Some(start), Some(20)) =
                        (place["start"].as_u64(), place["length"].as_u64())
                    else {
                        return Err(bad(format!("link reference {place} of {name}")));
                    };
                    // Offsets count bytes; the code is hex, two digits a byte.
                    let at = usize::try_from(start)
                        .unwrap_or(usize::MAX)
                        .saturating_mul(2);
                    if code.get(at..at + 3) != Some("__$") || code.len() < at + 40 {
                        return Err(bad(format!("no placeholder of {name} at byte {start}")));
                    }
                    code.replace_range(at..at + 40, &address);
                }
            }
        }
        hex::decode(&code).map_err(|e| bad(format!("{e} (an unlinked library?)")))
    }
}

/// A provider that signs with `key` (hex) and fills nonce, gas and chain
/// id itself: for setting up a devnet, not for deployments.
pub fn signer_provider(url: &str, key: &str) -> Result<DynProvider, DevnetError> {
    let signer: PrivateKeySigner = key
        .parse()
        .map_err(|e| deploy_error("signer")(format!("{e}")))?;
    let url = url
        .parse()
        .map_err(|e| DevnetError::Anvil(format!("{}: {e}", crate::redact_url(url))))?;
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased())
}

/// The address of a development key.
pub fn address_of(key: &str) -> Address {
    key.parse::<PrivateKeySigner>()
        .map(|s| s.address())
        .unwrap_or_default()
}

/// Deploy the artifact at `artifact` (below `node_modules`) with
/// `constructor_args` (ABI-encoded) from the provider's key.
pub async fn deploy(
    provider: &DynProvider,
    artifacts: &Artifacts,
    what: &str,
    artifact: &str,
    constructor_args: Vec<u8>,
) -> Result<Address, DevnetError> {
    let mut code = artifacts.bytecode(artifact)?;
    code.extend(constructor_args);
    let request = TransactionRequest::default().with_deploy_code(Bytes::from(code));
    let receipt = provider
        .send_transaction(request)
        .await
        .map_err(|e| deploy_error(what)(e.to_string()))?
        .get_receipt()
        .await
        .map_err(|e| deploy_error(what)(e.to_string()))?;
    if !receipt.status() {
        return Err(deploy_error(what)("reverted".into()));
    }
    receipt
        .contract_address
        .ok_or_else(|| deploy_error(what)("no contract address".into()))
}

/// Send `call` to `to` from the provider's key and wait for success. A
/// transaction that reverts is sent again, up to twice, after a pause:
/// setting up a devnet on a loaded machine was seen to revert a step once
/// in a while (the Uniswap mint, under CI load; cause not found), and a
/// devnet is test infrastructure, where a retried setup step hides no
/// product behaviour.
pub async fn transact<C: SolCall>(
    provider: &DynProvider,
    what: &str,
    to: Address,
    call: C,
    value: U256,
) -> Result<alloy::rpc::types::TransactionReceipt, DevnetError> {
    let data = call.abi_encode();
    let mut attempt = 0;
    loop {
        let request = TransactionRequest::default()
            .with_to(to)
            .with_input(data.clone())
            .with_value(value);
        let receipt = provider
            .send_transaction(request)
            .await
            .map_err(|e| deploy_error(what)(e.to_string()))?
            .get_receipt()
            .await
            .map_err(|e| deploy_error(what)(e.to_string()))?;
        if receipt.status() {
            return Ok(receipt);
        }
        attempt += 1;
        if attempt > 2 {
            return Err(deploy_error(what)("reverted".into()));
        }
        tracing::warn!(
            what,
            attempt,
            "devnet setup step reverted; sending it again"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

impl Devnet {
    /// Deploy the whole stack onto the (automining) node at `url`.
    pub async fn deploy(url: &str, artifacts: &Artifacts) -> Result<Devnet, DevnetError> {
        let admin = signer_provider(url, ADMIN_KEY)?;
        let admin_address = address_of(ADMIN_KEY);
        let deployment_address = address_of(DEPLOYMENT_KEY);
        let weth = deploy(
            &admin,
            artifacts,
            "WETH9",
            "@uniswap/v2-periphery/build/WETH9.json",
            Vec::new(),
        )
        .await?;
        let preset = "@openzeppelin/contracts/build/contracts/ERC20PresetMinterPauser.json";
        let dai = deploy(
            &admin,
            artifacts,
            "DAI",
            preset,
            ("Dai Stablecoin", "DAI").abi_encode_params(),
        )
        .await?;
        let link = deploy(
            &admin,
            artifacts,
            "LINK",
            preset,
            ("ChainLink Token", "LINK").abi_encode_params(),
        )
        .await?;
        let factory = deploy(
            &admin,
            artifacts,
            "UniswapV3Factory",
            "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
            Vec::new(),
        )
        .await?;
        let swap_router = deploy(
            &admin,
            artifacts,
            "SwapRouter",
            "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
            (factory, weth).abi_encode_params(),
        )
        .await?;
        let position_manager = deploy(
            &admin,
            artifacts,
            "NonfungiblePositionManager",
            "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
            (factory, weth, Address::ZERO).abi_encode_params(),
        )
        .await?;
        let feed = deploy(
            &admin,
            artifacts,
            "MockV3Aggregator",
            ".stratbox/MockV3Aggregator.json",
            (
                U256::from(8u8),
                alloy::primitives::I256::try_from(2_000 * 100_000_000_i64).unwrap_or_default(),
            )
                .abi_encode_params(),
        )
        .await?;
        let receipt = transact(
            &admin,
            "createPool",
            factory,
            abi::createPoolCall {
                tokenA: weth,
                tokenB: dai,
                fee: U24::from(POOL_FEE),
            },
            U256::ZERO,
        )
        .await?;
        let pool = receipt
            .inner
            .logs()
            .iter()
            .find(|log| log.address() == factory)
            .and_then(|log| log.data().data.get(44..64).map(Address::from_slice))
            .ok_or_else(|| deploy_error("createPool")("no PoolCreated log".into()))?;
        let (token0, token1) = if weth < dai { (weth, dai) } else { (dai, weth) };
        let price0 = if token0 == weth {
            START_PRICE
        } else {
            1.0 / START_PRICE
        };
        // Rounded to an integer; exactness does not matter for a start price.
        let sqrt_price = U160::from((price0.sqrt() * 2f64.powi(96)) as u128);
        transact(
            &admin,
            "initialize",
            pool,
            abi::initializeCall {
                sqrtPriceX96: sqrt_price,
            },
            U256::ZERO,
        )
        .await?;
        // Liquidity: 100 WETH and 200,000 DAI over the full range.
        let weth_liquidity = U256::from(100 * ONE);
        let dai_liquidity = U256::from(200_000 * ONE);
        transact(
            &admin,
            "wrap ETH",
            weth,
            abi::depositCall {},
            U256::from(1_000 * ONE),
        )
        .await?;
        transact(
            &admin,
            "mint DAI",
            dai,
            abi::mintCall {
                to: admin_address,
                amount: U256::from(10_000_000 * ONE),
            },
            U256::ZERO,
        )
        .await?;
        transact(
            &admin,
            "mint LINK",
            link,
            abi::mintCall {
                to: admin_address,
                amount: U256::from(1_000_000 * ONE),
            },
            U256::ZERO,
        )
        .await?;
        for token in [weth, dai] {
            transact(
                &admin,
                "approve",
                token,
                abi::approveCall {
                    spender: position_manager,
                    amount: U256::MAX,
                },
                U256::ZERO,
            )
            .await?;
        }
        let (amount0, amount1) = if token0 == weth {
            (weth_liquidity, dai_liquidity)
        } else {
            (dai_liquidity, weth_liquidity)
        };
        transact(
            &admin,
            "add liquidity",
            position_manager,
            INonfungiblePositionManager::mintCall {
                params: INonfungiblePositionManager::MintParams {
                    token0,
                    token1,
                    fee: U24::from(POOL_FEE),
                    tickLower: I24::try_from(-887_220).unwrap_or_default(),
                    tickUpper: I24::try_from(887_220).unwrap_or_default(),
                    amount0Desired: amount0,
                    amount1Desired: amount1,
                    amount0Min: U256::ZERO,
                    amount1Min: U256::ZERO,
                    recipient: admin_address,
                    deadline: U256::from(u64::MAX),
                },
            },
            U256::ZERO,
        )
        .await?;
        let singleton = deploy(
            &admin,
            artifacts,
            "Safe",
            "@safe-global/safe-contracts/build/artifacts/contracts/Safe.sol/Safe.json",
            Vec::new(),
        )
        .await?;
        let proxy_factory = deploy(
            &admin,
            artifacts,
            "SafeProxyFactory",
            "@safe-global/safe-contracts/build/artifacts/contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
            Vec::new(),
        )
        .await?;
        let setup = abi::setupCall {
            owners: vec![admin_address, deployment_address],
            threshold: U256::from(1),
            to: Address::ZERO,
            data: Bytes::new(),
            fallbackHandler: Address::ZERO,
            paymentToken: Address::ZERO,
            payment: U256::ZERO,
            paymentReceiver: Address::ZERO,
        };
        let receipt = transact(
            &admin,
            "create Safe",
            proxy_factory,
            abi::createProxyWithNonceCall {
                singleton,
                initializer: setup.abi_encode().into(),
                saltNonce: U256::from(1),
            },
            U256::ZERO,
        )
        .await?;
        let safe = receipt
            .inner
            .logs()
            .iter()
            .find_map(|log| abi::ProxyCreation::decode_log(&log.inner).ok())
            .map(|event| event.proxy)
            .ok_or_else(|| deploy_error("create Safe")("no ProxyCreation log".into()))?;
        Ok(Devnet {
            url: url.to_owned(),
            weth,
            dai,
            link,
            factory,
            pool,
            swap_router,
            position_manager,
            feed,
            safe,
        })
    }

    /// Give `account` `weth` WETH and `dai` DAI (whole tokens) from the admin.
    pub async fn fund(&self, account: Address, weth: u128, dai: u128) -> Result<(), DevnetError> {
        let admin = signer_provider(&self.url, ADMIN_KEY)?;
        if weth > 0 {
            transact(
                &admin,
                "fund WETH",
                self.weth,
                abi::transferCall {
                    to: account,
                    amount: U256::from(weth * ONE),
                },
                U256::ZERO,
            )
            .await?;
        }
        if dai > 0 {
            transact(
                &admin,
                "fund DAI",
                self.dai,
                abi::transferCall {
                    to: account,
                    amount: U256::from(dai * ONE),
                },
                U256::ZERO,
            )
            .await?;
        }
        Ok(())
    }

    /// Set the ETH/USD feed's answer (8 decimals applied by the caller).
    pub async fn set_feed(&self, answer: i64) -> Result<(), DevnetError> {
        let admin = signer_provider(&self.url, ADMIN_KEY)?;
        let answer = alloy::primitives::I256::try_from(answer).unwrap_or_default();
        transact(
            &admin,
            "updateAnswer",
            self.feed,
            abi::updateAnswerCall { answer },
            U256::ZERO,
        )
        .await?;
        Ok(())
    }

    /// The chain file of a deployment on this devnet, as TOML a user can
    /// edit ([`ChainConfig`]'s format).
    pub fn chain_toml(&self, account: &AccountMode) -> String {
        let config = self.chain_config(account.clone());
        let account = match account {
            AccountMode::Eoa => r#"{ mode = "eoa" }"#.to_owned(),
            AccountMode::Safe { safe } => format!(r#"{{ mode = "safe", safe = "{safe}" }}"#),
        };
        let pool = &config.pools["WETH/DAI"];
        format!(
            r#"# The stratbox devnet (anvil with the npm contract artifacts).
rpc_url = "{url}"
chain_id = {chain_id}
native_asset = "ETH"
account = {account}
receipt_timeout_secs = {timeout}

[contracts]
swap_router = "{router}"
position_manager = "{manager}"

[assets.WETH]
address = "{weth}"
decimals = 18

[assets.DAI]
address = "{dai}"
decimals = 18

[assets.LINK]
address = "{link}"
decimals = 18

[pools."WETH/DAI"]
address = "{pool}"
token0 = "{token0}"
token1 = "{token1}"
fee = {fee}

[feeds."ETH/USD"]
aggregator = "{feed}"
"#,
            url = self.url,
            chain_id = CHAIN_ID,
            timeout = config.receipt_timeout_secs,
            router = self.swap_router,
            manager = self.position_manager,
            weth = self.weth,
            dai = self.dai,
            link = self.link,
            pool = self.pool,
            token0 = pool.token0,
            token1 = pool.token1,
            fee = POOL_FEE,
            feed = self.feed,
        )
    }

    /// The chain file of a deployment on this devnet.
    pub fn chain_config(&self, account: AccountMode) -> ChainConfig {
        let asset = |address| AssetConfig {
            address,
            decimals: 18,
        };
        let (token0, token1) = if self.weth < self.dai {
            ("WETH", "DAI")
        } else {
            ("DAI", "WETH")
        };
        ChainConfig {
            rpc_url: self.url.clone().into(),
            rpc_timeout_secs: 30,
            fees: crate::config::FeeCaps::default(),
            chain_id: CHAIN_ID,
            native_asset: "ETH".into(),
            account,
            contracts: Contracts {
                swap_router: self.swap_router,
                position_manager: self.position_manager,
            },
            assets: [
                ("WETH".to_owned(), asset(self.weth)),
                ("DAI".to_owned(), asset(self.dai)),
                ("LINK".to_owned(), asset(self.link)),
            ]
            .into_iter()
            .collect(),
            pools: [(
                "WETH/DAI".to_owned(),
                PoolConfig {
                    address: self.pool,
                    token0: token0.into(),
                    token1: token1.into(),
                    fee: POOL_FEE,
                },
            )]
            .into_iter()
            .collect(),
            feeds: [(
                "ETH/USD".to_owned(),
                FeedConfig {
                    aggregator: self.feed,
                    max_age_secs: 3600,
                },
            )]
            .into_iter()
            .collect(),
            receipt_timeout_secs: 30,
            deadline_secs: 600,
            lp_slippage_bps: 50,
        }
    }
}

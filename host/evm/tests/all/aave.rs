//! The simulator's lending venue (`stratbox_venues::lending::LendingPool`)
//! agrees to the wei with the real Aave v3.0 contracts (`@aave/core-v3`
//! 1.19.3 from npm) deployed on anvil as on chain: PoolAddressesProvider,
//! ACLManager, the Pool behind `setPoolImpl`'s proxy with its logic
//! libraries linked, the PoolConfigurator (`initReserves` with the AToken,
//! StableDebtToken and VariableDebtToken implementations,
//! `configureReserveAsCollateral`, borrowing, reserve factor, supply and
//! borrow caps), a DefaultReserveInterestRateStrategy per reserve, and the
//! AaveOracle reading Chainlink MockV3Aggregator feeds (USD, 8 decimals).
//! Three reserves: 18, 6 and 8 decimals (MintableERC20 mocks).
//!
//! A seeded random sequence by three accounts is applied to both: supply,
//! variable borrow, repay (partial, more than owed, `type(uint256).max`),
//! withdraw (partial, everything, `type(uint256).max`), time passing
//! (blocks at chosen timestamps; several operations also share a second),
//! price moves, and liquidations by a fourth account (`liquidationCall`
//! with `debtToCover = type(uint256).max`, `receiveAToken = false`), some
//! after a price move aimed at a health factor in (0.95, 1) or below 0.95,
//! some where the chosen collateral runs short, some of the debt asset
//! itself. Operations that must fail do fail on both sides: borrowing
//! above the LTV or the borrow cap, supplying above the supply cap,
//! withdrawing below a health factor of 1 or more than supplied,
//! liquidating a healthy account, repaying without debt.
//!
//! After every step, to the wei: the amounts each operation moved (the
//! `Supply`/`Withdraw`/`Borrow` (with its rate)/`Repay`/`LiquidationCall`
//! events: debt repaid, collateral seized); every account's aToken and
//! variable-debt-token `balanceOf` and `scaledBalanceOf`, token balance
//! and `getUserAccountData` (collateral, debt, available borrows,
//! liquidation threshold, LTV, health factor); each reserve's liquidity and
//! variable borrow indices, current liquidity and variable borrow rates,
//! `accruedToTreasury`, normalized income and debt, the aToken's and debt
//! token's scaled and total supplies, and the tokens the aToken holds.
//!
//! `STRATBOX_DIFFERENTIAL_OPS` sets the number of operations (default 250;
//! e.g. 4000 for the long run), `STRATBOX_DIFFERENTIAL_SEED` the seed
//! (printed on failure).

use std::collections::BTreeMap;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, I256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent, SolValue};
use stratbox_evm::devnet::{
    ADMIN_KEY, Anvil, Artifacts, DEPLOYMENT_KEY, address_of, signer_provider,
};
use stratbox_venues::lending::{
    AccountData, InterestRateModel, LendingPool, Liquidation, RAY, ReserveConfig, ray_mul,
};
use stratbox_venues::{CapKind, VenueError};

use crate::random_ops::{Rng, env_number};

mod abi {
    alloy::sol! {
        // PoolAddressesProvider
        function setACLAdmin(address newAclAdmin) external;
        function setACLManager(address newAclManager) external;
        function setPoolImpl(address newPoolImpl) external;
        function setPoolConfiguratorImpl(address newPoolConfiguratorImpl) external;
        function setPriceOracle(address newPriceOracle) external;
        function getPool() external view returns (address);
        function getPoolConfigurator() external view returns (address);
        // ACLManager
        function addPoolAdmin(address admin) external;
        // PoolConfigurator
        struct InitReserveInput {
            address aTokenImpl;
            address stableDebtTokenImpl;
            address variableDebtTokenImpl;
            uint8 underlyingAssetDecimals;
            address interestRateStrategyAddress;
            address underlyingAsset;
            address treasury;
            address incentivesController;
            string aTokenName;
            string aTokenSymbol;
            string variableDebtTokenName;
            string variableDebtTokenSymbol;
            string stableDebtTokenName;
            string stableDebtTokenSymbol;
            bytes params;
        }
        function initReserves(InitReserveInput[] calldata input) external;
        function configureReserveAsCollateral(
            address asset, uint256 ltv, uint256 liquidationThreshold, uint256 liquidationBonus
        ) external;
        function setReserveBorrowing(address asset, bool enabled) external;
        function setReserveFactor(address asset, uint256 newReserveFactor) external;
        function setSupplyCap(address asset, uint256 newSupplyCap) external;
        function setBorrowCap(address asset, uint256 newBorrowCap) external;
        // Pool
        struct ReserveConfigurationMap {
            uint256 data;
        }
        struct ReserveData {
            ReserveConfigurationMap configuration;
            uint128 liquidityIndex;
            uint128 currentLiquidityRate;
            uint128 variableBorrowIndex;
            uint128 currentVariableBorrowRate;
            uint128 currentStableBorrowRate;
            uint40 lastUpdateTimestamp;
            uint16 id;
            address aTokenAddress;
            address stableDebtTokenAddress;
            address variableDebtTokenAddress;
            address interestRateStrategyAddress;
            uint128 accruedToTreasury;
            uint128 unbacked;
            uint128 isolationModeTotalDebt;
        }
        function getReserveData(address asset) external view returns (ReserveData memory);
        function getUserAccountData(address user) external view returns (
            uint256 totalCollateralBase,
            uint256 totalDebtBase,
            uint256 availableBorrowsBase,
            uint256 currentLiquidationThreshold,
            uint256 ltv,
            uint256 healthFactor
        );
        function getReserveNormalizedIncome(address asset) external view returns (uint256);
        function getReserveNormalizedVariableDebt(address asset) external view returns (uint256);
        function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;
        function withdraw(address asset, uint256 amount, address to) external returns (uint256);
        function borrow(
            address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode,
            address onBehalfOf
        ) external;
        function repay(
            address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf
        ) external returns (uint256);
        function liquidationCall(
            address collateralAsset, address debtAsset, address user, uint256 debtToCover,
            bool receiveAToken
        ) external;
        event Supply(
            address indexed reserve, address user, address indexed onBehalfOf, uint256 amount,
            uint16 indexed referralCode
        );
        event Withdraw(address indexed reserve, address indexed user, address indexed to, uint256 amount);
        event Borrow(
            address indexed reserve, address user, address indexed onBehalfOf, uint256 amount,
            uint8 interestRateMode, uint256 borrowRate, uint16 indexed referralCode
        );
        event Repay(
            address indexed reserve, address indexed user, address indexed repayer, uint256 amount,
            bool useATokens
        );
        event LiquidationCall(
            address indexed collateralAsset, address indexed debtAsset, address indexed user,
            uint256 debtToCover, uint256 liquidatedCollateralAmount, address liquidator,
            bool receiveAToken
        );
        // Tokens (MintableERC20, AToken, VariableDebtToken)
        function mint(address account, uint256 value) external returns (bool);
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
        function scaledBalanceOf(address user) external view returns (uint256);
        function scaledTotalSupply() external view returns (uint256);
        function totalSupply() external view returns (uint256);
        // MockV3Aggregator
        function updateAnswer(int256 answer) external;
    }
}

/// Where the Aave artifacts are, below `node_modules`.
const AAVE: &str = "@aave/core-v3/artifacts/contracts";

/// The accounts that supply and borrow: the deployment key and anvil's
/// third and fourth development keys.
const ACTOR_KEYS: [&str; 3] = [
    DEPLOYMENT_KEY,
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
/// The liquidator: anvil's fifth development key.
const LIQUIDATOR_KEY: &str = "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
/// Index of the liquidator among the accounts.
const LIQUIDATOR: usize = 3;

/// Operations when `STRATBOX_DIFFERENTIAL_OPS` is unset.
const DEFAULT_OPS: usize = 250;
/// The seed when `STRATBOX_DIFFERENTIAL_SEED` is unset.
const DEFAULT_SEED: u64 = 0xaa7e_2024_0119;

/// Gas of every operation: set, not estimated, so that an operation that
/// must fail is mined and reverts at the block time the model uses.
const OPERATION_GAS: u64 = 3_000_000;

/// One USD in the oracle's base currency (8 decimals).
const USD: u128 = 100_000_000;
const PERCENT: u128 = RAY / 100;

/// One listed asset: the model's parameters and the deployed addresses.
struct Asset {
    name: &'static str,
    config: ReserveConfig,
    /// Whole tokens.
    supply_cap: u128,
    /// Whole tokens.
    borrow_cap: u128,
    /// USD, 8 decimals.
    start_price: u128,
    token: Address,
    feed: Address,
    a_token: Address,
    debt_token: Address,
}

fn rates(base: u128, slope1: u128, slope2: u128, optimal: u128) -> InterestRateModel {
    InterestRateModel {
        base_rate: base,
        slope1,
        slope2,
        optimal_utilization: optimal,
    }
}

/// The three reserves: an 18-decimal ETH-like, a 6-decimal stablecoin and
/// an 8-decimal BTC-like asset, with Aave-like parameters (the last with a
/// base rate and a steep second slope, so debts outgrow collateral).
fn listing() -> Vec<Asset> {
    let asset = |name, config, supply_cap, borrow_cap, start_price| Asset {
        name,
        config,
        supply_cap,
        borrow_cap,
        start_price,
        token: Address::ZERO,
        feed: Address::ZERO,
        a_token: Address::ZERO,
        debt_token: Address::ZERO,
    };
    vec![
        asset(
            "WETH",
            ReserveConfig {
                decimals: 18,
                ltv_bps: 8_000,
                liquidation_threshold_bps: 8_250,
                liquidation_bonus_bps: 500,
                reserve_factor_bps: 1_500,
                rates: rates(0, 38 * PERCENT / 10, 80 * PERCENT, 80 * PERCENT),
            },
            4_000,
            2_500,
            2_000 * USD,
        ),
        asset(
            "USDC",
            ReserveConfig {
                decimals: 6,
                ltv_bps: 7_700,
                liquidation_threshold_bps: 8_000,
                liquidation_bonus_bps: 450,
                reserve_factor_bps: 1_000,
                rates: rates(0, 4 * PERCENT, 60 * PERCENT, 90 * PERCENT),
            },
            8_000_000,
            5_000_000,
            USD,
        ),
        asset(
            "WBTC",
            ReserveConfig {
                decimals: 8,
                ltv_bps: 7_000,
                liquidation_threshold_bps: 7_500,
                liquidation_bonus_bps: 1_000,
                reserve_factor_bps: 2_000,
                rates: rates(PERCENT, 7 * PERCENT, 300 * PERCENT, 45 * PERCENT),
            },
            120,
            60,
            60_000 * USD,
        ),
    ]
}

/// anvil and the calls made to it.
struct Node {
    /// Dropping it stops anvil.
    anvil: Anvil,
    tokio: tokio::runtime::Runtime,
    artifacts: Artifacts,
    admin: DynProvider,
}

impl Node {
    fn start() -> Node {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let artifacts =
            Artifacts::locate(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let anvil = Anvil::start(artifacts.node_modules(), true).unwrap();
        let admin = signer_provider(anvil.url(), ADMIN_KEY).unwrap();
        Node {
            anvil,
            tokio,
            artifacts,
            admin,
        }
    }

    fn rpc(&self, method: &'static str, params: serde_json::Value) -> serde_json::Value {
        self.tokio
            .block_on(self.admin.raw_request(method.into(), params))
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn latest_timestamp(&self) -> u64 {
        let block = self.rpc("eth_getBlockByNumber", serde_json::json!(["latest", false]));
        let hex = block["timestamp"].as_str().unwrap();
        u64::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap()
    }

    /// Deploy `code` with `args` from the admin key.
    fn deploy(&self, what: &str, code: Vec<u8>, args: Vec<u8>) -> Address {
        let mut code = code;
        code.extend(args);
        let request = TransactionRequest::default().with_deploy_code(Bytes::from(code));
        let receipt = self.tokio.block_on(async {
            self.admin
                .send_transaction(request)
                .await
                .unwrap_or_else(|e| panic!("deploying {what}: {e}"))
                .get_receipt()
                .await
                .unwrap()
        });
        assert!(receipt.status(), "deploying {what} reverted");
        receipt.contract_address.expect("a contract address")
    }

    /// Deploy the Aave artifact `path` (below [`AAVE`]) with `libraries`
    /// linked.
    fn deploy_aave(&self, path: &str, libraries: &[(&str, Address)], args: Vec<u8>) -> Address {
        let code = self
            .artifacts
            .linked_bytecode(&format!("{AAVE}/{path}"), libraries)
            .unwrap();
        self.deploy(path, code, args)
    }

    /// A setup transaction from the admin key (gas estimated); panics if
    /// it reverts.
    fn setup<C: SolCall>(&self, to: Address, call: C) {
        let receipt = self.send(&self.admin, to, &call, None);
        assert!(receipt.status(), "{} reverted", C::SIGNATURE);
    }

    /// Send `call` to `to` from `provider`'s key with `gas` (estimated if
    /// `None`); the receipt, reverted or not.
    fn send<C: SolCall>(
        &self,
        provider: &DynProvider,
        to: Address,
        call: &C,
        gas: Option<u64>,
    ) -> TransactionReceipt {
        let mut request = TransactionRequest::default()
            .with_to(to)
            .with_input(call.abi_encode());
        if let Some(gas) = gas {
            request = request.with_gas_limit(gas);
        }
        self.tokio.block_on(async {
            let hash = *provider
                .send_transaction(request)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", C::SIGNATURE))
                .tx_hash();
            // Asked for directly: anvil mines it at once, while alloy's
            // `get_receipt` waits for its block poller (up to 250 ms).
            let started = std::time::Instant::now();
            loop {
                let receipt = provider.get_transaction_receipt(hash).await.unwrap();
                if let Some(receipt) = receipt {
                    return receipt;
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(30),
                    "{}: no receipt after 30 s",
                    C::SIGNATURE
                );
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
    }

    /// Why `call` from `from` reverts at the latest block (for messages).
    fn revert_reason<C: SolCall>(&self, from: Address, to: Address, call: &C) -> String {
        let request = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(call.abi_encode());
        match self
            .tokio
            .block_on(async { self.admin.call(request).latest().await })
        {
            Ok(_) => "it does not revert when called now".into(),
            Err(e) => e.to_string(),
        }
    }

    /// The decoded result of the view `call` on `to` at the latest block
    /// (alloy's default, the pending block, would run a second later).
    fn view<C: SolCall>(&self, to: Address, call: C) -> C::Return {
        let request = TransactionRequest::default()
            .to(to)
            .input(call.abi_encode().into());
        let out = self
            .tokio
            .block_on(async { self.admin.call(request).latest().await })
            .unwrap_or_else(|e| panic!("{}: {e}", C::SIGNATURE));
        C::abi_decode_returns(&out).unwrap()
    }
}

/// The Aave market on the node.
struct Market {
    pool: Address,
    assets: Vec<Asset>,
}

/// Deploy an Aave v3.0 market as on chain, list `assets` and configure
/// them; the accounts approve the pool for every token.
fn deploy_market(node: &Node, mut assets: Vec<Asset>, accounts: &[DynProvider]) -> Market {
    let admin = address_of(ADMIN_KEY);
    for asset in &mut assets {
        let decimals = asset.config.decimals;
        asset.token = node.deploy_aave(
            "mocks/tokens/MintableERC20.sol/MintableERC20.json",
            &[],
            (asset.name, asset.name, U256::from(decimals)).abi_encode_params(),
        );
        let answer = I256::try_from(asset.start_price).unwrap();
        asset.feed = node.deploy(
            "MockV3Aggregator",
            node.artifacts
                .bytecode(".stratbox/MockV3Aggregator.json")
                .unwrap(),
            (U256::from(8u8), answer).abi_encode_params(),
        );
    }
    let provider = node.deploy_aave(
        "protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
        &[],
        ("stratbox", admin).abi_encode_params(),
    );
    node.setup(provider, abi::setACLAdminCall { newAclAdmin: admin });
    let acl = node.deploy_aave(
        "protocol/configuration/ACLManager.sol/ACLManager.json",
        &[],
        provider.abi_encode(),
    );
    node.setup(provider, abi::setACLManagerCall { newAclManager: acl });
    node.setup(acl, abi::addPoolAdminCall { admin });

    let logic = |name: &str, libraries: &[(&str, Address)]| {
        node.deploy_aave(
            &format!("protocol/libraries/logic/{name}.sol/{name}.json"),
            libraries,
            Vec::new(),
        )
    };
    let borrow_logic = logic("BorrowLogic", &[]);
    let libraries = [
        ("SupplyLogic", logic("SupplyLogic", &[])),
        ("BorrowLogic", borrow_logic),
        ("LiquidationLogic", logic("LiquidationLogic", &[])),
        ("EModeLogic", logic("EModeLogic", &[])),
        ("BridgeLogic", logic("BridgeLogic", &[])),
        ("PoolLogic", logic("PoolLogic", &[])),
        (
            "FlashLoanLogic",
            logic("FlashLoanLogic", &[("BorrowLogic", borrow_logic)]),
        ),
    ];
    let pool_impl = node.deploy_aave(
        "protocol/pool/Pool.sol/Pool.json",
        &libraries,
        provider.abi_encode(),
    );
    node.setup(
        provider,
        abi::setPoolImplCall {
            newPoolImpl: pool_impl,
        },
    );
    let pool = node.view(provider, abi::getPoolCall {});
    let configurator_logic = logic("ConfiguratorLogic", &[]);
    let configurator_impl = node.deploy_aave(
        "protocol/pool/PoolConfigurator.sol/PoolConfigurator.json",
        &[("ConfiguratorLogic", configurator_logic)],
        Vec::new(),
    );
    node.setup(
        provider,
        abi::setPoolConfiguratorImplCall {
            newPoolConfiguratorImpl: configurator_impl,
        },
    );
    let configurator = node.view(provider, abi::getPoolConfiguratorCall {});

    // USD as the base currency (address 0, 8 decimals), as Aave's markets.
    let oracle = node.deploy_aave(
        "misc/AaveOracle.sol/AaveOracle.json",
        &[],
        (
            provider,
            assets.iter().map(|a| a.token).collect::<Vec<_>>(),
            assets.iter().map(|a| a.feed).collect::<Vec<_>>(),
            Address::ZERO,
            Address::ZERO,
            U256::from(USD),
        )
            .abi_encode_params(),
    );
    node.setup(
        provider,
        abi::setPriceOracleCall {
            newPriceOracle: oracle,
        },
    );

    let tokenization = |name: &str| {
        node.deploy_aave(
            &format!("protocol/tokenization/{name}.sol/{name}.json"),
            &[],
            pool.abi_encode(),
        )
    };
    let a_token_impl = tokenization("AToken");
    let stable_impl = tokenization("StableDebtToken");
    let variable_impl = tokenization("VariableDebtToken");
    let treasury = Address::repeat_byte(0x7e);
    let mut inputs = Vec::new();
    for asset in &assets {
        let r = &asset.config.rates;
        let strategy = node.deploy_aave(
            "protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json",
            &[],
            (
                provider,
                U256::from(r.optimal_utilization),
                U256::from(r.base_rate),
                U256::from(r.slope1),
                U256::from(r.slope2),
                // No stable-rate borrowing: its parameters are zero.
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
            )
                .abi_encode_params(),
        );
        inputs.push(abi::InitReserveInput {
            aTokenImpl: a_token_impl,
            stableDebtTokenImpl: stable_impl,
            variableDebtTokenImpl: variable_impl,
            underlyingAssetDecimals: asset.config.decimals,
            interestRateStrategyAddress: strategy,
            underlyingAsset: asset.token,
            treasury,
            incentivesController: Address::ZERO,
            aTokenName: format!("Aave {}", asset.name),
            aTokenSymbol: format!("a{}", asset.name),
            variableDebtTokenName: format!("Variable debt {}", asset.name),
            variableDebtTokenSymbol: format!("variableDebt{}", asset.name),
            stableDebtTokenName: format!("Stable debt {}", asset.name),
            stableDebtTokenSymbol: format!("stableDebt{}", asset.name),
            params: Bytes::new(),
        });
    }
    node.setup(configurator, abi::initReservesCall { input: inputs });
    for asset in &mut assets {
        let c = &asset.config;
        node.setup(
            configurator,
            abi::configureReserveAsCollateralCall {
                asset: asset.token,
                ltv: U256::from(c.ltv_bps),
                liquidationThreshold: U256::from(c.liquidation_threshold_bps),
                liquidationBonus: U256::from(10_000 + c.liquidation_bonus_bps),
            },
        );
        node.setup(
            configurator,
            abi::setReserveBorrowingCall {
                asset: asset.token,
                enabled: true,
            },
        );
        node.setup(
            configurator,
            abi::setReserveFactorCall {
                asset: asset.token,
                newReserveFactor: U256::from(c.reserve_factor_bps),
            },
        );
        node.setup(
            configurator,
            abi::setSupplyCapCall {
                asset: asset.token,
                newSupplyCap: U256::from(asset.supply_cap),
            },
        );
        node.setup(
            configurator,
            abi::setBorrowCapCall {
                asset: asset.token,
                newBorrowCap: U256::from(asset.borrow_cap),
            },
        );
        let data = node.view(pool, abi::getReserveDataCall { asset: asset.token });
        asset.a_token = data.aTokenAddress;
        asset.debt_token = data.variableDebtTokenAddress;
        for account in accounts {
            let approve = abi::approveCall {
                spender: pool,
                amount: U256::MAX,
            };
            let receipt = node.send(account, asset.token, &approve, None);
            assert!(receipt.status());
        }
    }
    Market { pool, assets }
}

/// How often the cases that matter came up.
#[derive(Debug, Default)]
struct Coverage {
    supplies: usize,
    withdrawals: usize,
    /// Withdrawals of everything (`type(uint256).max` or the balance).
    withdrawals_of_everything: usize,
    borrows: usize,
    repayments: usize,
    /// Repayments of the whole debt (`type(uint256).max` or more).
    repayments_of_everything: usize,
    waits: usize,
    price_moves: usize,
    /// Liquidations above a health factor of 0.95 (close factor 50%).
    liquidations_half: usize,
    /// Liquidations at or below 0.95 (close factor 100%).
    liquidations_full: usize,
    /// Liquidations where the collateral ran short (debt repaid reduced).
    liquidations_short: usize,
    /// Liquidations whose collateral is the debt asset.
    liquidations_same_asset: usize,
    refused_borrow_ltv: usize,
    refused_borrow_cap: usize,
    refused_supply_cap: usize,
    refused_withdraw_health: usize,
    refused_liquidation_healthy: usize,
    /// Other operations both refused (more than held, no debt, dust...).
    refused_other: usize,
}

/// The market on the chain and its model.
struct Differential {
    node: Node,
    pool: Address,
    assets: Vec<Asset>,
    /// The three actors, then the liquidator.
    accounts: Vec<(Address, DynProvider)>,
    model: LendingPool,
    /// USD, 8 decimals, by asset name.
    prices: BTreeMap<&'static str, u128>,
    /// Token balances of each account, from the model's results.
    wallets: Vec<Vec<u128>>,
    /// The timestamp of the next transaction's block (seconds).
    time: u64,
    seed: u64,
    step: usize,
    what: String,
    rng: Rng,
    seen: Coverage,
}

fn name(account: usize) -> String {
    format!("account{account}")
}

impl Differential {
    fn new(seed: u64) -> Self {
        let node = Node::start();
        let accounts: Vec<(Address, DynProvider)> = ACTOR_KEYS
            .iter()
            .chain([&LIQUIDATOR_KEY])
            .map(|key| {
                let provider = signer_provider(node.anvil.url(), key).unwrap();
                (address_of(key), provider)
            })
            .collect();
        let providers: Vec<DynProvider> = accounts.iter().map(|(_, p)| p.clone()).collect();
        let Market { pool, assets } = deploy_market(&node, listing(), &providers);
        let time = node.latest_timestamp() + 1;
        let mut model = LendingPool::new();
        for asset in &assets {
            model.add_reserve(asset.name, asset.config.clone(), time * 1_000);
            model.set_supply_cap(asset.name, asset.supply_cap).unwrap();
            model.set_borrow_cap(asset.name, asset.borrow_cap).unwrap();
        }
        let prices = assets.iter().map(|a| (a.name, a.start_price)).collect();
        let wallets = vec![vec![0; assets.len()]; accounts.len()];
        Differential {
            node,
            pool,
            assets,
            accounts,
            model,
            prices,
            wallets,
            time,
            seed,
            step: 0,
            what: String::new(),
            rng: Rng(seed),
            seen: Coverage::default(),
        }
    }

    fn context(&self) -> String {
        format!(
            "[seed {:#x}] step {} (t = {}): {}",
            self.seed, self.step, self.time, self.what
        )
    }

    fn now_ms(&self) -> u64 {
        self.time * 1_000
    }

    fn feed(&self) -> impl Fn(&str) -> Option<u128> + use<> {
        let prices = self.prices.clone();
        move |asset: &str| prices.get(asset).copied()
    }

    fn unit(&self, asset: usize) -> u128 {
        10u128.pow(u32::from(self.assets[asset].config.decimals))
    }

    /// Base units of `asset` worth `value` (USD, 8 decimals), rounded down.
    fn units_worth(&self, asset: usize, value: u128) -> u128 {
        let price = self.prices[self.assets[asset].name];
        (U256::from(value) * U256::from(self.unit(asset)) / U256::from(price))
            .try_into()
            .unwrap_or(u128::MAX)
    }

    /// A random amount of `asset`: dust sometimes, else worth up to $1
    /// to $1M.
    fn random_amount(&mut self, asset: usize) -> u128 {
        if self.rng.percent(8) {
            return 1 + self.rng.below(1_000);
        }
        let top = 10u128.pow(self.rng.below(7) as u32) * USD;
        let value = 1 + self.rng.below(top);
        self.units_worth(asset, value).max(1)
    }

    /// The next transaction's block is mined at `self.time`.
    fn pin_time(&self) {
        self.node
            .rpc("evm_setNextBlockTimestamp", serde_json::json!([self.time]));
    }

    /// Give `account` at least `need` of `asset` (minted; not a step).
    fn top_up(&mut self, account: usize, asset: usize, need: u128) {
        let held = self.wallets[account][asset];
        if held >= need {
            return;
        }
        let extra = self.rng.below(self.unit(asset) * 100);
        let amount = need - held + extra;
        self.pin_time();
        let mint = abi::mintCall {
            account: self.accounts[account].0,
            value: U256::from(amount),
        };
        let receipt = self
            .node
            .send(&self.node.admin, self.assets[asset].token, &mint, None);
        assert!(receipt.status(), "{}: mint reverted", self.context());
        self.wallets[account][asset] += amount;
    }

    /// Send `call` to the pool from `account` at `self.time`: the receipt
    /// if it succeeded, `None` if it reverted; panics unless the model
    /// agrees (`model` is the model's outcome, `Ok` if it accepted).
    fn operate<C: SolCall>(
        &self,
        account: usize,
        call: C,
        model: Result<String, String>,
    ) -> Option<TransactionReceipt> {
        self.pin_time();
        let (from, provider) = &self.accounts[account];
        let receipt = self
            .node
            .send(provider, self.pool, &call, Some(OPERATION_GAS));
        match (receipt.status(), &model) {
            (true, Ok(_)) => Some(receipt),
            (false, Err(_)) => None,
            (true, Err(refusal)) => panic!(
                "{}: the model refused what Aave accepted: {refusal}",
                self.context()
            ),
            (false, Ok(result)) => panic!(
                "{}: Aave reverted ({}) what the model accepted: {result}",
                self.context(),
                self.node.revert_reason(*from, self.pool, &call)
            ),
        }
    }

    fn event<E: SolEvent>(&self, receipt: &TransactionReceipt) -> E {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == self.pool)
            .find_map(|log| log.log_decode::<E>().ok())
            .map(|log| log.inner.data)
            .unwrap_or_else(|| panic!("{}: no {} event", self.context(), E::SIGNATURE))
    }

    fn same(&self, what: &str, model: u128, chain: U256) {
        assert!(
            U256::from(model) == chain,
            "{}: {what}: model {model}, Aave {chain} (latest block at {})",
            self.context(),
            self.node.latest_timestamp()
        );
    }

    fn supply(&mut self, account: usize, asset: usize, amount: u128) {
        let symbol = self.assets[asset].name;
        self.what = format!("account {account} supplies {amount} {symbol}");
        self.top_up(account, asset, amount);
        let now = self.now_ms();
        let result = self.model.supply(&name(account), symbol, amount, now);
        let call = abi::supplyCall {
            asset: self.assets[asset].token,
            amount: U256::from(amount),
            onBehalfOf: self.accounts[account].0,
            referralCode: 0,
        };
        let refusal = result.as_ref().err().cloned();
        let outcome = result
            .map(|()| "supplied".into())
            .map_err(|e| e.to_string());
        match self.operate(account, call, outcome) {
            Some(receipt) => {
                let event: abi::Supply = self.event(&receipt);
                self.same("amount supplied", amount, event.amount);
                self.wallets[account][asset] -= amount;
                self.seen.supplies += 1;
            }
            None => self.refused(refusal),
        }
    }

    fn withdraw(&mut self, account: usize, asset: usize, amount: u128) {
        let symbol = self.assets[asset].name;
        let shown = if amount == u128::MAX {
            "type(uint256).max".to_owned()
        } else {
            amount.to_string()
        };
        self.what = format!("account {account} withdraws {shown} {symbol}");
        let balance = self.model.supplied(&name(account), symbol);
        let feed = self.feed();
        let now = self.now_ms();
        let result = self
            .model
            .withdraw(&name(account), symbol, amount, now, &feed);
        let call = abi::withdrawCall {
            asset: self.assets[asset].token,
            amount: if amount == u128::MAX {
                U256::MAX
            } else {
                U256::from(amount)
            },
            to: self.accounts[account].0,
        };
        let refusal = result.as_ref().err().cloned();
        let outcome = result
            .as_ref()
            .map(|w| format!("withdrew {w}"))
            .map_err(|e| e.to_string());
        match self.operate(account, call, outcome) {
            Some(receipt) => {
                let withdrawn = result.unwrap();
                let event: abi::Withdraw = self.event(&receipt);
                self.same("amount withdrawn", withdrawn, event.amount);
                self.wallets[account][asset] += withdrawn;
                self.seen.withdrawals += 1;
                self.seen.withdrawals_of_everything += usize::from(withdrawn == balance);
            }
            None => {
                if matches!(refusal, Some(VenueError::Undercollateralized { .. })) {
                    self.seen.refused_withdraw_health += 1;
                } else {
                    self.refused(refusal);
                }
            }
        }
    }

    fn borrow(&mut self, account: usize, asset: usize, amount: u128) {
        let symbol = self.assets[asset].name;
        self.what = format!("account {account} borrows {amount} {symbol}");
        let feed = self.feed();
        let now = self.now_ms();
        let result = self
            .model
            .borrow(&name(account), symbol, amount, now, &feed);
        let call = abi::borrowCall {
            asset: self.assets[asset].token,
            amount: U256::from(amount),
            interestRateMode: U256::from(2u8),
            referralCode: 0,
            onBehalfOf: self.accounts[account].0,
        };
        let refusal = result.as_ref().err().cloned();
        let outcome = result
            .map(|()| "borrowed".into())
            .map_err(|e| e.to_string());
        match self.operate(account, call, outcome) {
            Some(receipt) => {
                let event: abi::Borrow = self.event(&receipt);
                self.same("amount borrowed", amount, event.amount);
                let rate = self.model.reserve(symbol).unwrap().borrow_rate();
                self.same("Borrow event's borrow rate", rate, event.borrowRate);
                self.wallets[account][asset] += amount;
                self.seen.borrows += 1;
            }
            None => match refusal {
                Some(VenueError::Undercollateralized { .. }) => self.seen.refused_borrow_ltv += 1,
                Some(VenueError::CapExceeded {
                    cap: CapKind::Borrow,
                    ..
                }) => {
                    self.seen.refused_borrow_cap += 1;
                }
                other => self.refused(other),
            },
        }
    }

    fn repay(&mut self, account: usize, asset: usize, amount: u128) {
        let symbol = self.assets[asset].name;
        let shown = if amount == u128::MAX {
            "type(uint256).max".to_owned()
        } else {
            amount.to_string()
        };
        self.what = format!("account {account} repays {shown} {symbol}");
        let owed = self.model.borrowed(&name(account), symbol);
        self.top_up(account, asset, amount.min(owed));
        let now = self.now_ms();
        let result = self.model.repay(&name(account), symbol, amount, now);
        let call = abi::repayCall {
            asset: self.assets[asset].token,
            amount: if amount == u128::MAX {
                U256::MAX
            } else {
                U256::from(amount)
            },
            interestRateMode: U256::from(2u8),
            onBehalfOf: self.accounts[account].0,
        };
        let refusal = result.as_ref().err().cloned();
        let outcome = result
            .as_ref()
            .map(|r| format!("repaid {r}"))
            .map_err(|e| e.to_string());
        match self.operate(account, call, outcome) {
            Some(receipt) => {
                let repaid = result.unwrap();
                let event: abi::Repay = self.event(&receipt);
                self.same("amount repaid", repaid, event.amount);
                self.wallets[account][asset] -= repaid;
                self.seen.repayments += 1;
                self.seen.repayments_of_everything += usize::from(repaid == owed);
            }
            None => self.refused(refusal),
        }
    }

    /// The liquidator calls `liquidationCall(collateral, debt, user,
    /// type(uint256).max, false)`.
    fn liquidate(&mut self, user: usize, collateral: usize, debt: usize) {
        let (c, d) = (self.assets[collateral].name, self.assets[debt].name);
        self.what = format!("liquidation of account {user}: {c} collateral for {d} debt");
        let owed = self.model.borrowed(&name(user), d);
        self.top_up(LIQUIDATOR, debt, owed);
        let feed = self.feed();
        let before = self.model.account_data(&name(user), &feed).unwrap();
        let balance = self.model.supplied(&name(user), c);
        let now = self.now_ms();
        let result = self
            .model
            .liquidation_call(&name(user), c, d, u128::MAX, now, &feed);
        let call = abi::liquidationCallCall {
            collateralAsset: self.assets[collateral].token,
            debtAsset: self.assets[debt].token,
            user: self.accounts[user].0,
            debtToCover: U256::MAX,
            receiveAToken: false,
        };
        let outcome = match &result {
            Ok(Some(l)) => Ok(format!("{l:?}")),
            Ok(None) => Err("nothing to liquidate".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        match self.operate(LIQUIDATOR, call, outcome) {
            Some(receipt) => {
                let Ok(Some(Liquidation {
                    debt_repaid,
                    collateral_seized,
                    ..
                })) = result
                else {
                    unreachable!()
                };
                let event: abi::LiquidationCall = self.event(&receipt);
                self.same("debt repaid", debt_repaid, event.debtToCover);
                self.same(
                    "collateral seized",
                    collateral_seized,
                    event.liquidatedCollateralAmount,
                );
                self.wallets[LIQUIDATOR][debt] -= debt_repaid;
                self.wallets[LIQUIDATOR][collateral] += collateral_seized;
                if before.health_factor > 950_000_000_000_000_000 {
                    self.seen.liquidations_half += 1;
                } else {
                    self.seen.liquidations_full += 1;
                }
                self.seen.liquidations_short += usize::from(collateral_seized == balance);
                self.seen.liquidations_same_asset += usize::from(collateral == debt);
            }
            None => {
                if before.health_factor >= 1_000_000_000_000_000_000 {
                    self.seen.refused_liquidation_healthy += 1;
                } else {
                    self.refused(result.err());
                }
            }
        }
    }

    fn refused(&mut self, refusal: Option<VenueError>) {
        match refusal {
            Some(VenueError::CapExceeded {
                cap: CapKind::Supply,
                ..
            }) => {
                self.seen.refused_supply_cap += 1;
            }
            _ => self.seen.refused_other += 1,
        }
    }

    /// Time passes: a block at the new time, no operation.
    fn wait(&mut self, seconds: u64) {
        self.what = format!("{seconds} s pass");
        self.time += seconds;
        self.node.rpc("evm_mine", serde_json::json!([self.time]));
        self.model.advance(self.now_ms());
        self.seen.waits += 1;
    }

    /// The oracle's price of `asset` becomes `price` (USD, 8 decimals).
    fn move_price(&mut self, asset: usize, price: u128) {
        let symbol = self.assets[asset].name;
        self.what = format!("{symbol} price {} -> {price}", self.prices[symbol]);
        self.pin_time();
        let update = abi::updateAnswerCall {
            answer: I256::try_from(price).unwrap(),
        };
        let receipt = self
            .node
            .send(&self.node.admin, self.assets[asset].feed, &update, None);
        assert!(
            receipt.status(),
            "{}: updateAnswer reverted",
            self.context()
        );
        self.prices.insert(symbol, price);
        self.seen.price_moves += 1;
    }

    /// Everything Aave shows equals the model.
    fn check(&self) {
        let (node, pool) = (&self.node, self.pool);
        let now = self.now_ms();
        let feed = self.feed();
        for asset in &self.assets {
            let reserve = self.model.reserve(asset.name).unwrap();
            let n = asset.name;
            let data = node.view(pool, abi::getReserveDataCall { asset: asset.token });
            let pairs = [
                (
                    "liquidity index",
                    reserve.liquidity_index(),
                    data.liquidityIndex,
                ),
                (
                    "variable borrow index",
                    reserve.borrow_index(),
                    data.variableBorrowIndex,
                ),
                (
                    "current liquidity rate",
                    reserve.supply_rate(),
                    data.currentLiquidityRate,
                ),
                (
                    "current variable borrow rate",
                    reserve.borrow_rate(),
                    data.currentVariableBorrowRate,
                ),
                (
                    "accrued to treasury",
                    reserve.accrued_to_treasury(),
                    data.accruedToTreasury,
                ),
            ];
            for (what, model, chain) in pairs {
                self.same(&format!("{n} {what}"), model, U256::from(chain));
            }
            // Zero on chain until the reserve's first operation.
            let updated = data.lastUpdateTimestamp.to::<u64>();
            if updated != 0 {
                self.same(
                    &format!("{n} last update (s)"),
                    u128::from(reserve.last_update_ms() / 1_000),
                    U256::from(updated),
                );
            }
            let income = reserve.normalized_income(now).unwrap();
            let debt_index = reserve.normalized_debt(now).unwrap();
            let token = asset.token;
            let views = [
                (
                    "normalized income",
                    income,
                    node.view(pool, abi::getReserveNormalizedIncomeCall { asset: token }),
                ),
                (
                    "normalized variable debt",
                    debt_index,
                    node.view(
                        pool,
                        abi::getReserveNormalizedVariableDebtCall { asset: token },
                    ),
                ),
                (
                    "aToken scaledTotalSupply",
                    reserve.scaled_total_supply(),
                    node.view(asset.a_token, abi::scaledTotalSupplyCall {}),
                ),
                (
                    "aToken totalSupply",
                    ray_mul(reserve.scaled_total_supply(), income).unwrap(),
                    node.view(asset.a_token, abi::totalSupplyCall {}),
                ),
                (
                    "debt token scaledTotalSupply",
                    reserve.scaled_total_debt(),
                    node.view(asset.debt_token, abi::scaledTotalSupplyCall {}),
                ),
                (
                    "debt token totalSupply",
                    ray_mul(reserve.scaled_total_debt(), debt_index).unwrap(),
                    node.view(asset.debt_token, abi::totalSupplyCall {}),
                ),
                (
                    "tokens held by the aToken",
                    reserve.cash(),
                    node.view(
                        token,
                        abi::balanceOfCall {
                            owner: asset.a_token,
                        },
                    ),
                ),
            ];
            for (what, model, chain) in views {
                self.same(&format!("{n} {what}"), model, chain);
            }
        }
        for (i, (address, _)) in self.accounts.iter().enumerate() {
            let owner = *address;
            for (a, asset) in self.assets.iter().enumerate() {
                let n = asset.name;
                self.same(
                    &format!("account {i}'s {n} wallet"),
                    self.wallets[i][a],
                    node.view(asset.token, abi::balanceOfCall { owner }),
                );
                if i == LIQUIDATOR {
                    continue;
                }
                let m = &name(i);
                let pairs = [
                    (
                        "aToken balanceOf",
                        self.model.supplied(m, n),
                        node.view(asset.a_token, abi::balanceOfCall { owner }),
                    ),
                    (
                        "aToken scaledBalanceOf",
                        self.model.scaled_supply(m, n),
                        node.view(asset.a_token, abi::scaledBalanceOfCall { user: owner }),
                    ),
                    (
                        "debt balanceOf",
                        self.model.borrowed(m, n),
                        node.view(asset.debt_token, abi::balanceOfCall { owner }),
                    ),
                    (
                        "debt scaledBalanceOf",
                        self.model.scaled_debt(m, n),
                        node.view(asset.debt_token, abi::scaledBalanceOfCall { user: owner }),
                    ),
                ];
                for (what, model, chain) in pairs {
                    self.same(&format!("account {i}'s {n} {what}"), model, chain);
                }
            }
            if i == LIQUIDATOR {
                continue;
            }
            let model: AccountData = self.model.account_data(&name(i), &feed).unwrap();
            let chain = node.view(pool, abi::getUserAccountDataCall { user: owner });
            let health = if model.health_factor == u128::MAX {
                U256::MAX
            } else {
                U256::from(model.health_factor)
            };
            assert!(
                health == chain.healthFactor,
                "{}: account {i}'s health factor: model {health}, Aave {}",
                self.context(),
                chain.healthFactor
            );
            let pairs = [
                (
                    "total collateral",
                    model.total_collateral_base,
                    chain.totalCollateralBase,
                ),
                ("total debt", model.total_debt_base, chain.totalDebtBase),
                (
                    "available borrows",
                    model.available_borrows_base,
                    chain.availableBorrowsBase,
                ),
                (
                    "liquidation threshold",
                    model.liquidation_threshold_bps,
                    chain.currentLiquidationThreshold,
                ),
                ("ltv", model.ltv_bps, chain.ltv),
            ];
            for (what, model, chain) in pairs {
                self.same(&format!("account {i}'s {what}"), model, chain);
            }
        }
    }

    fn supplied_assets(&self, account: usize) -> Vec<usize> {
        (0..self.assets.len())
            .filter(|a| self.model.supplied(&name(account), self.assets[*a].name) > 0)
            .collect()
    }

    fn borrowed_assets(&self, account: usize) -> Vec<usize> {
        (0..self.assets.len())
            .filter(|a| self.model.borrowed(&name(account), self.assets[*a].name) > 0)
            .collect()
    }

    fn pick(&mut self, among: &[usize]) -> Option<usize> {
        (!among.is_empty()).then(|| among[self.rng.index(among.len())])
    }

    fn random_supply(&mut self, account: usize, asset: usize) {
        let reserve = self.model.reserve(self.assets[asset].name).unwrap();
        let cap = reserve.supply_cap() * self.unit(asset);
        let income = reserve.normalized_income(self.now_ms()).unwrap();
        let supplied = ray_mul(
            reserve.scaled_total_supply() + reserve.accrued_to_treasury(),
            income,
        )
        .unwrap();
        let headroom = cap.saturating_sub(supplied);
        let amount = if headroom == 0 || self.rng.percent(6) {
            // Above the cap (by a wei, sometimes).
            headroom
                + 1
                + if self.rng.percent(50) {
                    0
                } else {
                    self.random_amount(asset)
                }
        } else if self.rng.percent(4) {
            headroom
        } else {
            self.random_amount(asset).min(headroom)
        };
        self.supply(account, asset, amount);
    }

    fn random_withdraw(&mut self, account: usize, asset: usize) {
        let balance = self.model.supplied(&name(account), self.assets[asset].name);
        let feed = self.feed();
        let data = self.model.account_data(&name(account), &feed).unwrap();
        // About what may go before the health factor reaches 1: the
        // collateral's weighted value above the debt, over the asset's
        // threshold (the test's estimate; the sides decide exactly).
        let spare = (data.total_collateral_base * data.liquidation_threshold_bps / 10_000)
            .saturating_sub(data.total_debt_base)
            * 10_000
            / u128::from(self.assets[asset].config.liquidation_threshold_bps);
        let edge = self.units_worth(asset, spare);
        let amount = match self.rng.below(20) {
            0..=3 => u128::MAX,
            4..=5 => balance,
            6 => balance + 1 + self.rng.below(1_000),
            // Around the health factor's limit: just above or below it.
            7..=10 if data.total_debt_base != 0 && edge < balance => {
                let jitter = self.rng.below(edge / 1_000 + 2);
                if self.rng.percent(50) {
                    edge + jitter
                } else {
                    edge.saturating_sub(jitter).max(1)
                }
            }
            _ => self.rng.up_to(balance),
        };
        self.withdraw(account, asset, amount);
    }

    fn random_borrow(&mut self, account: usize, asset: usize) {
        let feed = self.feed();
        let data = self.model.account_data(&name(account), &feed).unwrap();
        let most = self.units_worth(asset, data.available_borrows_base);
        let reserve = self.model.reserve(self.assets[asset].name).unwrap();
        let debt = ray_mul(
            reserve.scaled_total_debt(),
            reserve.normalized_debt(self.now_ms()).unwrap(),
        )
        .unwrap();
        let cap_left = (reserve.borrow_cap() * self.unit(asset)).saturating_sub(debt);
        let amount = match self.rng.below(20) {
            // Above the LTV.
            0..=2 => most + 1 + self.rng.below(most / 50 + 1),
            // At the edge of the LTV.
            3..=5 => most.max(1),
            // Above the borrow cap.
            6..=7 => cap_left + 1,
            _ if most == 0 => self.random_amount(asset),
            _ => self.rng.up_to(most),
        };
        self.borrow(account, asset, amount);
    }

    fn random_repay(&mut self, account: usize, asset: usize) {
        let owed = self.model.borrowed(&name(account), self.assets[asset].name);
        let amount = match self.rng.below(10) {
            0..=2 => u128::MAX,
            3 => owed + 1 + self.rng.below(owed),
            _ if owed == 0 => 1 + self.rng.below(1_000),
            _ => self.rng.up_to(owed),
        };
        self.repay(account, asset, amount);
    }

    fn random_wait(&mut self) {
        let seconds = match self.rng.below(10) {
            0..=3 => 1 + self.rng.below(60),
            4..=6 => 1 + self.rng.below(86_400),
            7..=8 => 1 + self.rng.below(30 * 86_400),
            _ => 1 + self.rng.below(365 * 86_400),
        };
        self.wait(seconds as u64);
    }

    fn random_price_move(&mut self, asset: usize) {
        let price = self.prices[self.assets[asset].name];
        // -20% to +25%, with digits below the percent.
        let moved = price * (80_000 + self.rng.below(45_001)) / 100_000;
        self.move_price(asset, moved.max(1));
    }

    /// A random liquidation attempt on `user` (healthy or not).
    fn random_liquidation(&mut self, user: usize) {
        let debts = self.borrowed_assets(user);
        let collaterals = self.supplied_assets(user);
        let (Some(debt), Some(collateral)) = (self.pick(&debts), self.pick(&collaterals)) else {
            return;
        };
        self.liquidate(user, collateral, debt);
    }

    /// Push `user` under water and liquidate it: borrow most of what it
    /// may still borrow (of an asset it does not supply), move the price of
    /// its largest collateral that it does not owe so that its health
    /// factor lands near a random target (in (0.95, 1) half of the time,
    /// lower otherwise), then liquidate it once or twice.
    fn squeeze(&mut self, user: usize) {
        let m = name(user);
        let feed = self.feed();
        let available = self
            .model
            .account_data(&m, &feed)
            .unwrap()
            .available_borrows_base;
        let supplied = self.supplied_assets(user);
        let others: Vec<usize> = (0..self.assets.len())
            .filter(|a| !supplied.contains(a))
            .collect();
        if let Some(asset) = self.pick(&others)
            && available > 0
        {
            let most = self.units_worth(asset, available);
            let amount = most - most * self.rng.below(10) / 100;
            if amount > 0 {
                self.borrow(user, asset, amount);
                self.check();
                self.step += 1;
            }
        }
        let debts = self.borrowed_assets(user);
        // The test's choice of a price, not a compared amount: floats do.
        let value = |s: &Self, asset: usize, amount: u128| {
            amount as f64 * s.prices[s.assets[asset].name] as f64 / s.unit(asset) as f64
        };
        let weighted: Vec<(usize, f64)> = supplied
            .iter()
            .map(|a| {
                let held = value(self, *a, self.model.supplied(&m, self.assets[*a].name));
                let threshold = f64::from(self.assets[*a].config.liquidation_threshold_bps);
                (*a, held * threshold / 1e4)
            })
            .collect();
        let Some(&(target, moved)) = weighted
            .iter()
            .filter(|(a, _)| !debts.contains(a))
            .max_by(|x, y| x.1.total_cmp(&y.1))
        else {
            return;
        };
        let others: f64 = weighted
            .iter()
            .filter(|(a, _)| *a != target)
            .map(|(_, w)| w)
            .sum();
        let debt: f64 = debts
            .iter()
            .map(|a| value(self, *a, self.model.borrowed(&m, self.assets[*a].name)))
            .sum();
        let goal = if self.rng.percent(50) {
            0.951 + self.rng.below(48) as f64 / 1_000.0
        } else {
            0.5 + self.rng.below(450) as f64 / 1_000.0
        };
        let factor = (goal * debt - others) / moved;
        if !(1e-6..1.0).contains(&factor) {
            return;
        }
        let price = self.prices[self.assets[target].name];
        let new_price = (price as f64 * factor) as u128;
        self.move_price(target, new_price.max(1));
        self.check();
        self.step += 1;
        self.random_liquidation(user);
        if self.rng.percent(30) {
            self.check();
            self.step += 1;
            self.random_liquidation(user);
        }
    }

    /// One random step.
    fn random_step(&mut self) {
        let account = self.rng.index(ACTOR_KEYS.len());
        let asset = self.rng.index(self.assets.len());
        let supplied = self.supplied_assets(account);
        let borrowed = self.borrowed_assets(account);
        match self.rng.below(100) {
            0..=21 => self.random_supply(account, asset),
            22..=34 => match self.pick(&supplied) {
                Some(a) => self.random_withdraw(account, a),
                None => self.random_supply(account, asset),
            },
            35..=54 => {
                if supplied.is_empty() {
                    self.random_supply(account, asset);
                } else {
                    self.random_borrow(account, asset);
                }
            }
            55..=66 => match self.pick(&borrowed) {
                Some(a) => self.random_repay(account, a),
                // Nothing owed: refused on both sides.
                None => {
                    let amount = 1 + self.rng.below(1_000);
                    self.repay(account, asset, amount);
                }
            },
            67..=75 => self.random_wait(),
            76..=81 => self.random_price_move(asset),
            82..=86 => {
                let users: Vec<usize> = (0..ACTOR_KEYS.len())
                    .filter(|u| !self.borrowed_assets(*u).is_empty())
                    .collect();
                match self.pick(&users) {
                    Some(user) => self.random_liquidation(user),
                    None => self.random_wait(),
                }
            }
            _ => {
                let users: Vec<usize> = (0..ACTOR_KEYS.len())
                    .filter(|u| !self.supplied_assets(*u).is_empty())
                    .collect();
                match self.pick(&users) {
                    Some(user) => self.squeeze(user),
                    None => self.random_borrow(account, asset),
                }
            }
        }
    }

    /// `ops` steps, each checked. Each account first supplies one asset
    /// and borrows another, so that debts exist early.
    fn run(mut self, ops: usize) -> Coverage {
        self.what = "deployed".into();
        self.check();
        for account in 0..ACTOR_KEYS.len() {
            let asset = account % self.assets.len();
            let value = (100_000 + self.rng.below(400_000)) * USD;
            let amount = self.units_worth(asset, value);
            self.supply(account, asset, amount);
            self.check();
            self.step += 1;
        }
        for account in 0..ACTOR_KEYS.len() {
            let asset = (account + 1) % self.assets.len();
            self.random_borrow(account, asset);
            self.check();
            self.step += 1;
        }
        while self.step < ops {
            self.random_step();
            self.check();
            self.step += 1;
        }
        self.seen
    }
}

#[test]
fn lending_pool_matches_aave_v3() {
    let ops = env_number("STRATBOX_DIFFERENTIAL_OPS").map_or(DEFAULT_OPS, |n| n as usize);
    let seed = env_number("STRATBOX_DIFFERENTIAL_SEED").unwrap_or(DEFAULT_SEED);
    let started = std::time::Instant::now();
    let differential = Differential::new(seed);
    let deployed = started.elapsed();
    let seen = differential.run(ops);
    eprintln!(
        "aave v3 differential: market deployed in {deployed:.1?}, {ops} operations \
         (seed {seed:#x}) in {:.1?}: {seen:?}",
        started.elapsed() - deployed
    );
    assert!(
        seen.supplies > 0
            && seen.withdrawals > 0
            && seen.withdrawals_of_everything > 0
            && seen.borrows > 0
            && seen.repayments > 0
            && seen.repayments_of_everything > 0
            && seen.waits > 0
            && seen.price_moves > 0
            && seen.liquidations_half > 0
            && seen.liquidations_full > 0
            && seen.liquidations_short > 0
            && seen.refused_borrow_ltv > 0
            && seen.refused_withdraw_health > 0
            && seen.refused_supply_cap > 0
            && seen.refused_borrow_cap > 0
            && seen.refused_liquidation_healthy > 0,
        "not every kind of step ran (a short run with another seed may miss one: \
         raise STRATBOX_DIFFERENTIAL_OPS): {seen:?}"
    );
}

//! The simulator's ERC-4626 vault (`stratbox_venues::vault::Vault4626`)
//! agrees to the wei with a real OpenZeppelin Contracts 4.9.6 `ERC4626`
//! vault on anvil: `VaultUnderTest` over a mintable `TestAsset`
//! (`scripts/evm/VaultUnderTest.sol`, compiled by `scripts/setup.sh` into
//! `node_modules/.stratbox/VaultUnderTest.json`).
//!
//! A seeded random sequence of deposits, mints, withdrawals, redemptions
//! (by three accounts, some to another receiver), donations (the asset
//! sent straight to the vault: yield that mints no shares) and "everyone
//! redeems everything" is applied to both. Amounts run from 1 wei to a
//! billion tokens; the first operation meets an empty vault (sometimes
//! after a donation), and draining it leaves an empty supply with assets
//! behind. After every operation the shares and assets moved (the
//! contract's `Deposit`/`Withdraw` events), every account's shares, asset
//! balance, `maxWithdraw` and `maxRedeem`, `totalAssets`, `totalSupply`,
//! and `previewDeposit`/`previewMint`/`previewWithdraw`/`previewRedeem`/
//! `convertToShares`/`convertToAssets` of several amounts must be equal.
//! Four vaults: asset decimals 18 and 6, each with decimals offset 0 and 6.
//!
//! `STRATBOX_DIFFERENTIAL_OPS` sets the number of operations over the four
//! vaults (default 160; e.g. 4000 for the long run),
//! `STRATBOX_DIFFERENTIAL_SEED` the seed (printed on failure).

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::{SolEvent, SolValue};
use stratbox_evm::devnet::{Artifacts, DEPLOYMENT_KEY, address_of, signer_provider};
use stratbox_venues::VenueError;
use stratbox_venues::vault::Vault4626;

use crate::random_ops::{Rng, env_number};
use crate::support::Net;

mod asset_abi {
    alloy::sol! {
        function mint(address to, uint256 amount) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address owner) external view returns (uint256);
    }
}

mod vault_abi {
    alloy::sol! {
        function decimals() external view returns (uint8);
        function balanceOf(address owner) external view returns (uint256);
        function totalAssets() external view returns (uint256);
        function totalSupply() external view returns (uint256);
        function convertToShares(uint256 assets) external view returns (uint256);
        function convertToAssets(uint256 shares) external view returns (uint256);
        function maxWithdraw(address owner) external view returns (uint256);
        function maxRedeem(address owner) external view returns (uint256);
        function previewDeposit(uint256 assets) external view returns (uint256);
        function previewMint(uint256 shares) external view returns (uint256);
        function previewWithdraw(uint256 assets) external view returns (uint256);
        function previewRedeem(uint256 shares) external view returns (uint256);
        function deposit(uint256 assets, address receiver) external returns (uint256);
        function mint(uint256 shares, address receiver) external returns (uint256);
        function withdraw(uint256 assets, address receiver, address owner) external returns (uint256);
        function redeem(uint256 shares, address receiver, address owner) external returns (uint256);
        event Deposit(address indexed sender, address indexed owner, uint256 assets, uint256 shares);
        event Withdraw(
            address indexed sender, address indexed receiver, address indexed owner,
            uint256 assets, uint256 shares
        );
    }
}

/// The accounts that use the vaults: the deployment key and anvil's third
/// and fourth development keys.
const ACTOR_KEYS: [&str; 3] = [
    DEPLOYMENT_KEY,
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// Operations over the four vaults when `STRATBOX_DIFFERENTIAL_OPS` is unset.
const DEFAULT_OPS: usize = 160;
/// The seed when `STRATBOX_DIFFERENTIAL_SEED` is unset.
const DEFAULT_SEED: u64 = 0x4626_2024_0496;

/// Operations for one of the four vaults.
fn ops_per_vault() -> usize {
    let total = env_number("STRATBOX_DIFFERENTIAL_OPS").map_or(DEFAULT_OPS, |n| n as usize);
    total.div_ceil(4).max(1)
}

fn seed() -> u64 {
    env_number("STRATBOX_DIFFERENTIAL_SEED").unwrap_or(DEFAULT_SEED)
}

/// Creation bytecode of `TestAsset` and `VaultUnderTest`.
fn compiled() -> (Vec<u8>, Vec<u8>) {
    let artifacts = Artifacts::locate(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let path = artifacts
        .node_modules()
        .join(".stratbox/VaultUnderTest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/setup.sh compiles it with scripts/evm/compile-vault.cjs)",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        json["openzeppelin"]
            .as_str()
            .is_some_and(|v| v.ends_with(" 4.9.6")),
        "the vault is compiled against OpenZeppelin Contracts 4.9.6: {}",
        json["openzeppelin"]
    );
    let code = |name: &str| {
        let hex_code = json["contracts"][name]["bytecode"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no bytecode in {}", path.display()));
        hex::decode(hex_code.trim_start_matches("0x")).unwrap()
    };
    (code("TestAsset"), code("VaultUnderTest"))
}

/// Whether the model's result is the contract's: equal, or the model
/// overflowed 128 bits where the contract's 256-bit result does too.
fn agree(model: &Result<u128, VenueError>, chain: U256) -> bool {
    match model {
        Ok(value) => U256::from(*value) == chain,
        Err(VenueError::Overflow { .. }) => chain > U256::from(u128::MAX),
        Err(_) => false,
    }
}

/// How often the cases that matter came up.
#[derive(Debug, Default)]
struct Coverage {
    deposits: usize,
    mints: usize,
    withdrawals: usize,
    redemptions: usize,
    donations: usize,
    /// Deposits and mints into a vault without shares.
    into_empty_vault: usize,
    /// Deposits that minted no share.
    zero_share_deposits: usize,
    /// Redemptions that paid no asset.
    zero_asset_redemptions: usize,
    /// Steps of 1 wei or 1 share.
    one_unit_steps: usize,
    /// Withdrawals or redemptions of everything an account had.
    everything_out: usize,
    /// Times every holder redeemed everything.
    drains: usize,
}

/// One vault on the chain and its model, with the accounts' books.
struct Differential<'a> {
    net: &'a Net,
    label: String,
    actors: Vec<(Address, DynProvider)>,
    asset: Address,
    vault: Address,
    model: Vault4626,
    /// Shares of each actor, from the model's results.
    shares: [u128; 3],
    /// Asset balance of each actor, from the model's results.
    wallets: [u128; 3],
    /// Largest amounts drawn: digits of a billion tokens.
    digits: u32,
    /// Amounts that are whole units of the asset and of the shares.
    units: [u128; 2],
    step: usize,
    what: String,
    rng: Rng,
    seen: Coverage,
}

impl<'a> Differential<'a> {
    fn new(net: &'a Net, asset_decimals: u8, offset: u8, seed: u64) -> Self {
        let actors: Vec<(Address, DynProvider)> = ACTOR_KEYS
            .iter()
            .map(|key| {
                (
                    address_of(key),
                    signer_provider(&net.devnet.url, key).unwrap(),
                )
            })
            .collect();
        let (asset_code, vault_code) = compiled();
        let deployer = &actors[0].1;
        let asset = net.deploy_code(
            deployer,
            &asset_code,
            U256::from(asset_decimals).abi_encode(),
        );
        let vault = net.deploy_code(
            deployer,
            &vault_code,
            (asset, U256::from(offset)).abi_encode_params(),
        );
        assert_eq!(
            net.view(deployer, vault, vault_abi::decimalsCall {}),
            asset_decimals + offset
        );
        for (_, provider) in &actors {
            let approve = asset_abi::approveCall {
                spender: vault,
                amount: U256::MAX,
            };
            net.send(provider, asset, approve);
        }
        Differential {
            net,
            label: format!("asset decimals {asset_decimals}, offset {offset}, seed {seed:#x}"),
            actors,
            asset,
            vault,
            model: Vault4626::new(0, 0).with_decimals_offset(offset),
            shares: [0; 3],
            wallets: [0; 3],
            digits: u32::from(asset_decimals) + 9,
            units: [
                10u128.pow(u32::from(asset_decimals)),
                10u128.pow(u32::from(asset_decimals + offset)),
            ],
            step: 0,
            what: String::new(),
            rng: Rng(seed ^ (u64::from(asset_decimals) << 8) ^ u64::from(offset)),
            seen: Coverage::default(),
        }
    }

    fn context(&self) -> String {
        format!("[{}] step {}: {}", self.label, self.step, self.what)
    }

    fn provider(&self) -> &DynProvider {
        &self.actors[0].1
    }

    /// Give actor `i` at least `need` assets (minted; not a vault step).
    fn top_up(&mut self, i: usize, need: u128) {
        if self.wallets[i] >= need {
            return;
        }
        let amount = need - self.wallets[i] + self.rng.amount(self.digits);
        let call = asset_abi::mintCall {
            to: self.actors[i].0,
            amount: U256::from(amount),
        };
        self.net.send(self.provider(), self.asset, call);
        self.wallets[i] += amount;
    }

    fn event<E: SolEvent>(&self, receipt: &TransactionReceipt) -> E {
        receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == self.vault)
            .find_map(|log| log.log_decode::<E>().ok())
            .map(|log| log.inner.data)
            .unwrap_or_else(|| panic!("{}: no {} event", self.context(), E::SIGNATURE))
    }

    /// The model's result of the step the contract accepted.
    fn modelled(&self, result: Result<u128, VenueError>) -> u128 {
        result.unwrap_or_else(|e| {
            panic!(
                "{}: the model refused what the vault contract accepted: {e}",
                self.context()
            )
        })
    }

    fn same(&self, what: &str, model: u128, chain: U256) {
        assert!(
            U256::from(model) == chain,
            "{}: {what}: model {model}, contract {chain}",
            self.context()
        );
    }

    fn deposit(&mut self, from: usize, to: usize, assets: u128) {
        self.what = format!("actor {from} deposits {assets} assets for actor {to}");
        self.seen.deposits += 1;
        self.seen.into_empty_vault += usize::from(self.model.total_shares() == 0);
        self.seen.one_unit_steps += usize::from(assets == 1);
        self.top_up(from, assets);
        let call = vault_abi::depositCall {
            assets: U256::from(assets),
            receiver: self.actors[to].0,
        };
        let receipt = self.net.send(&self.actors[from].1, self.vault, call);
        let event: vault_abi::Deposit = self.event(&receipt);
        let shares = {
            let result = self.model.deposit(assets, 0);
            self.modelled(result)
        };
        self.same("assets taken", assets, event.assets);
        self.same("shares minted", shares, event.shares);
        self.seen.zero_share_deposits += usize::from(shares == 0);
        self.wallets[from] -= assets;
        self.shares[to] += shares;
    }

    fn mint(&mut self, from: usize, to: usize, shares: u128) {
        self.what = format!("actor {from} mints {shares} shares for actor {to}");
        self.seen.mints += 1;
        self.seen.into_empty_vault += usize::from(self.model.total_shares() == 0);
        self.seen.one_unit_steps += usize::from(shares == 1);
        let cost = self.net.view(
            self.provider(),
            self.vault,
            vault_abi::previewMintCall {
                shares: U256::from(shares),
            },
        );
        self.top_up(from, u128::try_from(cost).unwrap());
        let call = vault_abi::mintCall {
            shares: U256::from(shares),
            receiver: self.actors[to].0,
        };
        let receipt = self.net.send(&self.actors[from].1, self.vault, call);
        let event: vault_abi::Deposit = self.event(&receipt);
        let assets = {
            let result = self.model.mint(shares, 0);
            self.modelled(result)
        };
        self.same("assets taken", assets, event.assets);
        self.same("shares minted", shares, event.shares);
        self.wallets[from] -= assets;
        self.shares[to] += shares;
    }

    fn withdraw(&mut self, owner: usize, to: usize, assets: u128) {
        self.what = format!("actor {owner} withdraws {assets} assets to actor {to}");
        self.seen.withdrawals += 1;
        self.seen.one_unit_steps += usize::from(assets == 1);
        let call = vault_abi::withdrawCall {
            assets: U256::from(assets),
            receiver: self.actors[to].0,
            owner: self.actors[owner].0,
        };
        let receipt = self.net.send(&self.actors[owner].1, self.vault, call);
        let event: vault_abi::Withdraw = self.event(&receipt);
        let shares = {
            let result = self.model.withdraw(assets, 0);
            self.modelled(result)
        };
        self.same("assets paid", assets, event.assets);
        self.same("shares burned", shares, event.shares);
        self.seen.everything_out += usize::from(shares == self.shares[owner]);
        self.shares[owner] -= shares;
        self.wallets[to] += assets;
    }

    fn redeem(&mut self, owner: usize, to: usize, shares: u128) {
        self.what = format!("actor {owner} redeems {shares} shares to actor {to}");
        self.seen.redemptions += 1;
        self.seen.one_unit_steps += usize::from(shares == 1);
        self.seen.everything_out += usize::from(shares == self.shares[owner]);
        let call = vault_abi::redeemCall {
            shares: U256::from(shares),
            receiver: self.actors[to].0,
            owner: self.actors[owner].0,
        };
        let receipt = self.net.send(&self.actors[owner].1, self.vault, call);
        let event: vault_abi::Withdraw = self.event(&receipt);
        let assets = {
            let result = self.model.redeem(shares, 0);
            self.modelled(result)
        };
        self.same("assets paid", assets, event.assets);
        self.same("shares burned", shares, event.shares);
        self.seen.zero_asset_redemptions += usize::from(assets == 0);
        self.shares[owner] -= shares;
        self.wallets[to] += assets;
    }

    fn donate(&mut self, from: usize, assets: u128) {
        self.what = format!("actor {from} donates {assets} assets to the vault");
        self.seen.donations += 1;
        self.seen.one_unit_steps += usize::from(assets == 1);
        self.top_up(from, assets);
        let call = asset_abi::transferCall {
            to: self.vault,
            amount: U256::from(assets),
        };
        self.net.send(&self.actors[from].1, self.asset, call);
        if let Err(e) = self.model.donate(assets, 0) {
            panic!("{}: the model refused a donation: {e}", self.context());
        }
        self.wallets[from] -= assets;
    }

    /// Everything the contract shows equals the model.
    fn check(&self) {
        let (net, provider, vault) = (self.net, self.provider(), self.vault);
        self.same(
            "totalAssets",
            self.model.total_assets(),
            net.view(provider, vault, vault_abi::totalAssetsCall {}),
        );
        self.same(
            "totalSupply",
            self.model.total_shares(),
            net.view(provider, vault, vault_abi::totalSupplyCall {}),
        );
        for (i, (address, _)) in self.actors.iter().enumerate() {
            let owner = *address;
            self.same(
                &format!("actor {i}'s shares"),
                self.shares[i],
                net.view(provider, vault, vault_abi::balanceOfCall { owner }),
            );
            self.same(
                &format!("actor {i}'s assets"),
                self.wallets[i],
                net.view(provider, self.asset, asset_abi::balanceOfCall { owner }),
            );
            self.same(
                &format!("actor {i}'s maxRedeem"),
                self.shares[i],
                net.view(provider, vault, vault_abi::maxRedeemCall { owner }),
            );
            let max_withdraw = net.view(provider, vault, vault_abi::maxWithdrawCall { owner });
            let model = self.model.max_withdraw(self.shares[i]);
            assert!(
                agree(&model, max_withdraw),
                "{}: actor {i}'s maxWithdraw: model {model:?}, contract {max_withdraw}",
                self.context()
            );
        }
        let mut probe_rng = Rng(self.step as u64 ^ 0x9e37);
        let probes = [
            1,
            2,
            self.units[0],
            self.units[1],
            probe_rng.amount(self.digits),
            probe_rng.amount(self.digits + 6),
            self.model.total_assets(),
            self.model.total_shares(),
        ];
        for x in probes {
            let v = U256::from(x);
            let pairs = [
                (
                    "previewDeposit",
                    self.model.preview_deposit(x),
                    net.view(provider, vault, vault_abi::previewDepositCall { assets: v }),
                ),
                (
                    "previewMint",
                    self.model.preview_mint(x),
                    net.view(provider, vault, vault_abi::previewMintCall { shares: v }),
                ),
                (
                    "previewWithdraw",
                    self.model.preview_withdraw(x),
                    net.view(
                        provider,
                        vault,
                        vault_abi::previewWithdrawCall { assets: v },
                    ),
                ),
                (
                    "previewRedeem",
                    self.model.preview_redeem(x),
                    net.view(provider, vault, vault_abi::previewRedeemCall { shares: v }),
                ),
                (
                    "convertToShares",
                    self.model.convert_to_shares(x),
                    net.view(
                        provider,
                        vault,
                        vault_abi::convertToSharesCall { assets: v },
                    ),
                ),
                (
                    "convertToAssets",
                    self.model.convert_to_assets(x),
                    net.view(
                        provider,
                        vault,
                        vault_abi::convertToAssetsCall { shares: v },
                    ),
                ),
            ];
            for (name, model, chain) in pairs {
                assert!(
                    agree(&model, chain),
                    "{}: {name}({x}): model {model:?}, contract {chain}",
                    self.context()
                );
            }
        }
    }

    /// One random step (or, for "drain", one step per holder).
    fn random_step(&mut self) {
        let from = self.rng.index(3);
        let to = if self.rng.percent(30) {
            self.rng.index(3)
        } else {
            from
        };
        let mut kind = self.rng.below(100);
        // Nothing to withdraw or redeem: deposit instead.
        if (40..90).contains(&kind) && self.shares[from] == 0 {
            kind = 0;
        }
        match kind {
            0..=19 => {
                let assets = if self.rng.percent(10) {
                    1
                } else {
                    self.rng.amount(self.digits)
                };
                self.deposit(from, to, assets);
            }
            20..=39 => {
                let shares = if self.rng.percent(10) {
                    1
                } else {
                    let budget = self.rng.amount(self.digits);
                    self.model.preview_deposit(budget).unwrap_or(1).max(1)
                };
                self.mint(from, to, shares);
            }
            40..=64 => {
                let max = self.model.max_withdraw(self.shares[from]).unwrap();
                if max == 0 {
                    // Shares worth less than a wei: redeem them.
                    self.redeem(from, to, self.shares[from]);
                    return;
                }
                let assets = match self.rng.below(10) {
                    0 | 1 => max,
                    2 => 1,
                    _ => self.rng.up_to(max),
                };
                self.withdraw(from, to, assets);
            }
            65..=89 => {
                let held = self.shares[from];
                let shares = match self.rng.below(10) {
                    0 | 1 => held,
                    2 => 1,
                    _ => self.rng.up_to(held),
                };
                self.redeem(from, to, shares);
            }
            90..=96 => {
                let assets = if self.rng.percent(20) {
                    1
                } else {
                    self.rng.amount(self.digits)
                };
                self.donate(from, assets);
            }
            _ => self.drain(),
        }
    }

    /// Every holder redeems everything (each redemption a checked step),
    /// leaving no shares and the assets rounding kept in the vault.
    fn drain(&mut self) {
        for owner in 0..3 {
            if self.shares[owner] > 0 {
                self.redeem(owner, owner, self.shares[owner]);
                self.check();
                self.step += 1;
            }
        }
        self.what = "everyone redeemed everything".into();
        self.seen.drains += 1;
        assert_eq!(self.model.total_shares(), 0, "{}", self.context());
    }

    /// `ops` steps, each checked; the first meets an empty vault,
    /// sometimes after a donation, and halfway through everyone redeems
    /// everything, so later steps meet an empty supply with assets left.
    fn run(mut self, ops: usize) -> Coverage {
        self.what = "deployed".into();
        self.check();
        if self.rng.percent(30) {
            let assets = self.rng.amount(self.digits);
            self.donate(1, assets);
            self.check();
            self.step += 1;
        }
        let first = self.rng.amount(self.digits);
        if self.rng.percent(50) {
            self.deposit(0, 0, first);
        } else {
            let shares = self.model.preview_deposit(first).unwrap().max(1);
            self.mint(0, 0, shares);
        }
        self.check();
        self.step += 1;
        let mut drained = false;
        while self.step < ops {
            if !drained && self.step >= ops / 2 {
                self.drain();
                drained = true;
            } else {
                self.random_step();
            }
            self.check();
            self.step += 1;
        }
        self.seen
    }
}

fn differential(asset_decimals: u8, offset: u8) {
    let net = Net::start();
    let started = std::time::Instant::now();
    let ops = ops_per_vault();
    let seen = Differential::new(&net, asset_decimals, offset, seed()).run(ops);
    eprintln!(
        "erc4626 differential (asset decimals {asset_decimals}, offset {offset}): \
         {ops} operations in {:.1?}: {seen:?}",
        started.elapsed()
    );
    assert!(
        seen.deposits > 0
            && seen.mints > 0
            && seen.withdrawals > 0
            && seen.redemptions > 0
            && seen.donations > 0
            && seen.into_empty_vault >= 2
            && seen.drains > 0,
        "every kind of step ran, into an empty vault twice: {seen:?}"
    );
}

#[test]
fn vault_matches_openzeppelin_erc4626_18_decimals_offset_0() {
    differential(18, 0);
}

#[test]
fn vault_matches_openzeppelin_erc4626_18_decimals_offset_6() {
    differential(18, 6);
}

#[test]
fn vault_matches_openzeppelin_erc4626_6_decimals_offset_0() {
    differential(6, 0);
}

#[test]
fn vault_matches_openzeppelin_erc4626_6_decimals_offset_6() {
    differential(6, 6);
}

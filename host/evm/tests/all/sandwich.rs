//! A sandwich around an LP action: another account moves the pool between
//! the moment the deployment quotes it and the moment its call executes.
//! The minimum amounts of `mint` / `decreaseLiquidity` (a fresh quote less
//! the chain file's `lp_slippage_bps`) make the call fail the position
//! manager's "Price slippage check": the action fails and nothing moves.
//!
//! The attacker sits in a JSON-RPC proxy between the deployment and anvil:
//! when it sees the request it waits for (the simulation of the calls, or
//! the broadcast of the signed transaction), it first swaps in the pool
//! from another account, then forwards the request.

use std::future::IntoFuture;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

use alloy::primitives::{Address, Bytes, TxKind, U256, aliases::U24, aliases::U160};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::transports::http::reqwest;
use stratbox_evm::devnet::{ADMIN_KEY, DEPLOYMENT_KEY, POOL_FEE, signer_provider, transact};
use stratbox_evm::{AccountMode, Chain, ChainView, DeploymentSigner, Executor, RpcUrl};
use stratbox_journal::{Journal, RunPolicy};
use stratbox_runtime::DeploymentSpec;
use stratbox_runtime::types::{Action, ActionOutcome, Amount, LpClose, LpOpen, LpRange};
use tokio::runtime::Handle;

use crate::support::{Net, deployment_address, rsi_config, sealed_rsi};

const ONE: u128 = 1_000_000_000_000_000_000;

mod abi {
    alloy::sol! {
        function approve(address spender, uint256 amount) external returns (bool);
        struct ExactInputSingleParams {
            address tokenIn;
            address tokenOut;
            uint24 fee;
            address recipient;
            uint256 deadline;
            uint256 amountIn;
            uint256 amountOutMinimum;
            uint160 sqrtPriceLimitX96;
        }
        function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);
        function balanceOf(address owner) external view returns (uint256);
    }
}

/// Which JSON-RPC request the attacker front-runs.
type Trigger = Box<dyn Fn(&serde_json::Value) -> bool + Send>;

/// A JSON-RPC proxy to anvil that, once armed, swaps `weth` WETH into the
/// devnet pool from the admin account just before forwarding the first
/// request the trigger matches.
struct FrontRunner {
    url: String,
    armed: Arc<Mutex<Option<Trigger>>>,
    /// How many times the attacker swapped.
    fired: Arc<Mutex<u32>>,
}

impl FrontRunner {
    fn start(net: &Net, weth: u128) -> FrontRunner {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let armed: Arc<Mutex<Option<Trigger>>> = Arc::new(Mutex::new(None));
        let fired = Arc::new(Mutex::new(0));
        let upstream = net.devnet.url.clone();
        let devnet = net.devnet.clone();
        let handle = net.tokio.handle().clone();
        let (armed_, fired_) = (Arc::clone(&armed), Arc::clone(&fired));
        // The attacker may spend the admin's WETH through the router.
        handle
            .block_on(transact(
                &signer_provider(&devnet.url, ADMIN_KEY).unwrap(),
                "approve router",
                devnet.weth,
                abi::approveCall {
                    spender: devnet.swap_router,
                    amount: U256::MAX,
                },
                U256::ZERO,
            ))
            .unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (armed, fired) = (Arc::clone(&armed_), Arc::clone(&fired_));
                let (upstream, devnet, handle) = (upstream.clone(), devnet.clone(), handle.clone());
                std::thread::spawn(move || {
                    serve(stream, &upstream, &handle, |request| {
                        let mut armed = armed.lock().unwrap_or_else(PoisonError::into_inner);
                        if !armed.as_ref().is_some_and(|trigger| trigger(request)) {
                            return;
                        }
                        *armed = None;
                        handle.block_on(attack(&devnet, weth));
                        *fired.lock().unwrap() += 1;
                    });
                });
            }
        });
        FrontRunner { url, armed, fired }
    }

    /// Front-run the next request `trigger` matches.
    fn arm(&self, trigger: impl Fn(&serde_json::Value) -> bool + Send + 'static) {
        *self.armed.lock().unwrap() = Some(Box::new(trigger));
    }

    fn fired(&self) -> u32 {
        *self.fired.lock().unwrap()
    }

    /// The deployment key's chain connection through the proxy.
    fn chain(&self, net: &Net) -> Chain {
        let mut config = net.devnet.chain_config(AccountMode::Eoa);
        config.rpc_url = RpcUrl::new(self.url.clone());
        let signer = DeploymentSigner::from_hex(DEPLOYMENT_KEY, "devnet").unwrap();
        net.tokio.block_on(Chain::connect(config, signer)).unwrap()
    }
}

/// The attacker's swap: `weth` WETH sold for DAI, mined before the
/// deployment's request reaches the node.
async fn attack(devnet: &stratbox_evm::devnet::Devnet, weth: u128) {
    let admin = signer_provider(&devnet.url, ADMIN_KEY).unwrap();
    transact(
        &admin,
        "front-run",
        devnet.swap_router,
        abi::exactInputSingleCall {
            params: abi::ExactInputSingleParams {
                tokenIn: devnet.weth,
                tokenOut: devnet.dai,
                fee: U24::from(POOL_FEE),
                recipient: stratbox_evm::devnet::address_of(ADMIN_KEY),
                deadline: U256::from(u64::MAX),
                amountIn: U256::from(weth * ONE),
                amountOutMinimum: U256::ZERO,
                sqrtPriceLimitX96: U160::ZERO,
            },
        },
        U256::ZERO,
    )
    .await
    .unwrap();
}

/// Answer HTTP/1.1 JSON-RPC requests on `stream` (kept alive) by
/// forwarding them to `upstream`, calling `before` with each request first.
fn serve(stream: TcpStream, upstream: &str, handle: &Handle, before: impl Fn(&serde_json::Value)) {
    let client = reqwest::Client::new();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = None;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.unwrap_or(0)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) {
            before(&request);
        }
        let (status, answer) = handle.block_on(async {
            let response = client
                .post(upstream)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.bytes().await.unwrap())
        });
        let head = format!(
            "HTTP/1.1 {status} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            answer.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}

fn method_is(request: &serde_json::Value, method: &str) -> bool {
    request["method"] == method
}

/// An LP open of about 1 WETH and 2,000 DAI around the pool's price.
fn open_action(net: &Net, chain: &Chain) -> Action {
    let view = net.tokio.block_on(ChainView::fetch(chain)).unwrap();
    let centre = view.pools["WETH/DAI"].tick.div_euclid(60) * 60;
    let (amount0, amount1) = if net.devnet.weth < net.devnet.dai {
        (ONE, 2_000 * ONE)
    } else {
        (2_000 * ONE, ONE)
    };
    Action::LpOpen(LpOpen {
        pool: "WETH/DAI".into(),
        range: LpRange::Ticks((centre - 6_000, centre + 6_000)),
        amount0: Amount::from_u128(amount0),
        amount1: Amount::from_u128(amount1),
    })
}

fn positions_of(net: &Net, owner: Address) -> U256 {
    net.balance(net.devnet.position_manager, owner)
}

#[test]
fn a_pool_moved_before_lp_open_fails_the_slippage_check_and_moves_nothing() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 2, 5_000);
    let front_runner = FrontRunner::start(&net, 3);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("sandwich-open", rsi_config("1"));
    let (recorder, _direct) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let chain = front_runner.chain(&net);
    let open = open_action(&net, &chain);
    let mut executor = Executor::new(
        chain,
        Journal::open(&net.journal_path()).unwrap(),
        recorder.run(),
    );
    let (weth_before, dai_before) = (
        net.balance(net.devnet.weth, account),
        net.balance(net.devnet.dai, account),
    );
    let nonce_before = net.nonce(account);
    let price_before = net
        .tokio
        .block_on(ChainView::fetch(&net.chain(AccountMode::Eoa)))
        .unwrap()
        .pools["WETH/DAI"]
        .sqrt_price_x96;

    // Quoted and compiled at one price, simulated after the swap.
    front_runner.arm(|request| method_is(request, "eth_simulateV1"));
    let outcome = net
        .tokio
        .block_on(executor.execute(1, &open))
        .expect("a known outcome");
    assert_eq!(front_runner.fired(), 1, "the attacker swapped");
    let price_after = net
        .tokio
        .block_on(ChainView::fetch(&net.chain(AccountMode::Eoa)))
        .unwrap()
        .pools["WETH/DAI"]
        .sqrt_price_x96;
    assert_ne!(price_before, price_after, "the pool moved");
    let ActionOutcome::Failed(failure) = outcome else {
        panic!("a front-run lp-open must fail, got {outcome:?}");
    };
    assert_eq!(failure.code, "SIMULATION_REVERTED", "{failure:?}");
    assert!(
        failure.reason.contains("Price slippage check"),
        "{}",
        failure.reason
    );
    assert_eq!(failure.tx_hash, None);
    assert_eq!(net.nonce(account), nonce_before, "nothing was sent");
    assert_eq!(net.balance(net.devnet.weth, account), weth_before);
    assert_eq!(net.balance(net.devnet.dai, account), dai_before);
    assert_eq!(positions_of(&net, account), U256::ZERO, "no position");
    let journal = Journal::open(&net.journal_path()).unwrap();
    assert!(journal.tx_intents("sandwich-open").unwrap().is_empty());
}

#[test]
fn a_pool_moved_before_lp_close_reverts_on_chain_and_keeps_the_position() {
    let net = Net::start();
    let account = deployment_address();
    net.fund(account, 2, 5_000);
    let front_runner = FrontRunner::start(&net, 3);
    let component = sealed_rsi(net.dir.path());
    let spec = DeploymentSpec::new("sandwich-close", rsi_config("1"));
    let (recorder, _direct) =
        net.recorder_and_executor(&spec, &component, RunPolicy::AllowAll, AccountMode::Eoa);
    let chain = front_runner.chain(&net);
    let open = open_action(&net, &chain);
    let mut executor = Executor::new(
        chain,
        Journal::open(&net.journal_path()).unwrap(),
        recorder.run(),
    );
    let ActionOutcome::Filled(fill) = net
        .tokio
        .block_on(executor.execute(1, &open))
        .expect("a known outcome")
    else {
        panic!("lp-open failed");
    };
    let position = fill.position.expect("the fill names the position");
    let (weth_before, dai_before) = (
        net.balance(net.devnet.weth, account),
        net.balance(net.devnet.dai, account),
    );

    // Quoted, compiled and simulated at one price; the signed transaction
    // is mined after the swap.
    front_runner.arm(|request| method_is(request, "eth_sendRawTransaction"));
    let close = Action::LpClose(LpClose {
        position: position.clone(),
    });
    let outcome = net
        .tokio
        .block_on(executor.execute(2, &close))
        .expect("a known outcome");
    assert_eq!(front_runner.fired(), 1, "the attacker swapped");
    let ActionOutcome::Failed(failure) = outcome else {
        panic!("a front-run lp-close must fail, got {outcome:?}");
    };
    assert_eq!(failure.code, "TX_REVERTED", "{failure:?}");
    let tx_hash: alloy::primitives::B256 = failure.tx_hash.as_deref().unwrap().parse().unwrap();
    assert_eq!(net.balance(net.devnet.weth, account), weth_before);
    assert_eq!(net.balance(net.devnet.dai, account), dai_before);
    let direct = net.chain(AccountMode::Eoa);
    let view = net.tokio.block_on(ChainView::fetch(&direct)).unwrap();
    assert_eq!(view.positions.len(), 1, "the position is still there");
    assert_eq!(view.positions[0].token_id.to_string(), position);
    assert!(view.positions[0].liquidity > 0);

    // Why it reverted: the same call, replayed on the state it met.
    let sent = net
        .tokio
        .block_on(direct.provider().get_transaction_by_hash(tx_hash))
        .unwrap()
        .unwrap();
    let input: Bytes = alloy::consensus::Transaction::input(&sent).clone();
    let replay = TransactionRequest {
        from: Some(account),
        to: Some(TxKind::Call(net.devnet.position_manager)),
        input: input.into(),
        ..TransactionRequest::default()
    };
    let error = net
        .tokio
        .block_on(direct.provider().call(replay).into_future())
        .unwrap_err();
    assert!(
        error.to_string().contains("Price slippage check"),
        "{error}"
    );
}

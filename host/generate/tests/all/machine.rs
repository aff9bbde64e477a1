//! The state-machine form renders readable Rust.

use std::path::Path;

use stratbox_generate::{ActionSpec, AmountSpec, Balance, Logic, RangeSpec, parse, render};

const LP_BANDS: &str = include_str!("../../../../examples/specs/lp-bands.toml");

#[test]
fn the_lp_example_renders_its_states_rules_and_actions() {
    let spec = parse(LP_BANDS, Path::new("lp-bands.toml")).unwrap();
    let Logic::Machine(machine) = &spec.logic else {
        panic!("{:?}", spec.logic);
    };
    assert_eq!(machine.states, ["idle", "providing", "cooling_off"]);
    let open = &machine.rules[0];
    assert_eq!(open.to.as_deref(), Some("providing"));
    let ActionSpec::LpOpen { range, amount0, .. } = &open.actions[0] else {
        panic!("{:?}", open.actions);
    };
    assert_eq!(*range, RangeSpec::AroundClose(0.03));
    assert_eq!(
        *amount0,
        AmountSpec::Fraction {
            ppm: 500_000,
            of: Balance::Wallet("ETH".to_owned())
        }
    );
    assert_eq!(machine.rules[2].cooldown_candles, 288);

    let source = render(&spec, Path::new("lp-bands.toml"), Path::new("/sdk")).source;
    println!("{source}");
    for expected in [
        "enum State {\n    /// `idle`, the initial state.\n    Idle,",
        "    CoolingOff,\n}",
        "(State::Idle, State::Providing),\n    (State::Providing, State::CoolingOff),\n    (State::CoolingOff, State::Idle),",
        "state: StateMachine::with_transitions(State::Idle, &TRANSITIONS),",
        "if state == State::Idle && ((now.close > now.bands_lower) && (now.close < now.bands_upper)) {",
        "range: LpRange::Price((now.close / 1.03, now.close * 1.03)),",
        "amount0: share(wallet(ctx, \"ETH\")?, 500_000),",
        "amount1: share(wallet(ctx, \"BTC\")?, 500_000),",
        "self.fire(ctx, 0, actions, State::Providing, now_ms)?;",
        "} else if state == State::Providing && self.cooled_down(2, now_ms) {",
        "for position in lp_positions(ctx, \"ETH/BTC-0.3\") {\n                    actions.push(Action::LpCollect(LpCollect { position }));",
        "self.fire(ctx, 2, actions, state, now_ms)?;",
        "let actions = Vec::new();\n                self.fire(ctx, 3, actions, State::Idle, now_ms)?;",
        "name: \"collect\",\n        cooldown_candles: 288,",
    ] {
        assert!(
            source.contains(expected),
            "missing {expected:?} in\n{source}"
        );
    }
    assert!(
        !source.contains("fn lent("),
        "helpers appear only when used"
    );
}

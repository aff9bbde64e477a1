//! Refused specs name the file's line and the field.

use crate::{invalid, syntax};

/// A simple-form spec with `entry` as its `[entry]` table (line 10).
fn simple(entry: &str) -> String {
    format!(
        "version = 1\nname = \"s\"\n[market]\nname = \"ETH/BTC\"\nbase = \"ETH\"\n\
         quote = \"BTC\"\nquote_decimals = 8\n[indicators]\nrsi = {{ kind = \"rsi\", period = 14 }}\n\
         [entry]\n{entry}\n[exit]\nleft = \"rsi\"\nop = \">\"\nright = 70\n\
         [position]\norder_size = \"0.1\"\n"
    )
}

const RSI_ENTRY: &str = "left = \"rsi\"\nop = \"<\"\nright = 30";

/// A state-machine spec whose one rule starts on line 11 and whose action
/// is on line 16.
fn machine() -> String {
    "version = 1\n\
     name = \"m\"\n\
     states = [\"idle\", \"lending\"]\n\
     [market]\n\
     name = \"ETH/BTC\"\n\
     base = \"ETH\"\n\
     quote = \"BTC\"\n\
     quote_decimals = 8\n\
     [assets]\n\
     ETH = { decimals = 18 }\n\
     [[rules]]\n\
     name = \"lend\"\n\
     in = \"idle\"\n\
     when = { left = \"close\", op = \"<\", right = 0.048 }\n\
     actions = [\n\
     \x20 { kind = \"supply\", market = \"aave\", asset = \"ETH\", amount = { fraction = 0.5, of = \"ETH\" } },\n\
     ]\n\
     to = \"lending\"\n\
     cooldown_candles = 3\n"
        .to_owned()
}

#[test]
fn the_machine_fixture_is_valid() {
    stratbox_generate::parse(&machine(), std::path::Path::new("spec.toml")).unwrap();
}

#[test]
fn an_unknown_field_names_its_line() {
    let text =
        simple(RSI_ENTRY).replace("quote_decimals = 8\n", "quote_decimals = 8\nleverage = 3\n");
    let (line, message) = syntax(&text);
    assert_eq!(line, 8, "{message}");
    assert!(message.contains("leverage"), "{message}");
}

#[test]
fn an_unknown_series_is_named_with_its_field_and_line() {
    let (line, field, reason) = invalid(&simple(
        "all = [{ left = \"rsi\", op = \"<\", right = \"rsj\" }]",
    ));
    assert_eq!(line, 10);
    assert_eq!(field, "entry.all[0].right");
    assert!(reason.contains("unknown series `rsj`"), "{reason}");
    assert!(reason.contains("indicators: rsi"), "{reason}");
}

#[test]
fn bad_values_of_the_simple_form_are_refused_with_the_field() {
    let field_of = |text: &str| invalid(text).1;
    assert_eq!(
        field_of(&simple(RSI_ENTRY).replace("period = 14", "period = 0")),
        "indicators.rsi.period"
    );
    assert_eq!(
        field_of(&simple(RSI_ENTRY).replace("order_size = \"0.1\"", "order_size = \"-1\"")),
        "position.order_size"
    );
    assert_eq!(
        field_of(&simple(RSI_ENTRY).replace("\"0.1\"", "\"0.000000001\"")),
        "position.order_size",
        "more decimals than the quote has"
    );
    assert_eq!(
        field_of(&simple(RSI_ENTRY).replace("order_size = \"0.1\"", "")),
        "position"
    );
    assert_eq!(
        field_of(&simple(RSI_ENTRY).replace("name = \"s\"", "name = \"My Strategy\"")),
        "name"
    );
    assert_eq!(
        field_of(&simple(RSI_ENTRY).replace("rsi = {", "state = {")),
        "indicators.state",
        "the generated code's own names are taken"
    );
    assert_eq!(
        field_of(&simple("left = 1\nop = \"<\"\nright = 2")),
        "entry"
    );
    assert_eq!(field_of(&simple("any = []")), "entry.any");
    assert_eq!(
        syntax(&simple("left = \"rsi\"\nop = \"=<\"\nright = 30")).0,
        10
    );
}

#[test]
fn a_rule_naming_an_unknown_state_is_refused() {
    let (line, field, reason) = invalid(&machine().replace("in = \"idle\"", "in = \"idel\""));
    assert_eq!((line, field.as_str()), (13, "rules[0].in"));
    assert_eq!(reason, "unknown state `idel` (states: idle, lending)");

    let (line, field, _) = invalid(&machine().replace("to = \"lending\"", "to = \"lent\""));
    assert_eq!((line, field.as_str()), (18, "rules[0].to"));

    let (line, field, reason) =
        invalid(&machine().replace("states = [\"idle\", \"lending\"]\n", ""));
    assert_eq!(field, "states");
    assert!(reason.starts_with("missing"), "{reason}");
    assert_eq!(line, 10, "reported at the rules");
}

#[test]
fn a_fraction_outside_zero_to_one_is_refused() {
    for fraction in ["1.5", "0", "-0.5"] {
        let (line, field, reason) =
            invalid(&machine().replace("fraction = 0.5", &format!("fraction = {fraction}")));
        assert_eq!(
            (line, field.as_str()),
            (16, "rules[0].actions[0].amount.fraction")
        );
        assert_eq!(reason, "must be in (0, 1]");
    }
    let (_, field, reason) = invalid(&machine().replace("fraction = 0.5, ", ""));
    assert_eq!(
        (field.as_str(), reason.as_str()),
        ("rules[0].actions[0].amount.fraction", "missing")
    );
}

#[test]
fn an_unknown_action_kind_is_refused() {
    let (line, field, reason) = invalid(&machine().replace("\"supply\"", "\"suply\""));
    assert_eq!((line, field.as_str()), (16, "rules[0].actions[0].kind"));
    assert!(
        reason.starts_with("unknown action kind `suply` (kinds: swap, lp_open"),
        "{reason}"
    );
}

#[test]
fn a_fraction_of_an_unknown_or_other_balance_is_refused() {
    let (line, field, reason) = invalid(&machine().replace("of = \"ETH\"", "of = \"DOGE\""));
    assert_eq!(
        (line, field.as_str()),
        (16, "rules[0].actions[0].amount.of")
    );
    assert_eq!(
        reason,
        "unknown asset `DOGE` (assets: BTC, ETH; list others in [assets])"
    );

    let (_, _, reason) = invalid(&machine().replace("of = \"ETH\"", "of = \"BTC\""));
    assert_eq!(
        reason,
        "a fraction of the BTC balance is not an amount of ETH"
    );

    let (_, _, reason) = invalid(&machine().replace("of = \"ETH\"", "of = \"shares\""));
    assert_eq!(reason, "`shares` is the balance of vault_request_redeem");

    let (_, field, reason) = invalid(&machine().replace("asset = \"ETH\"", "asset = \"USDC\""));
    assert_eq!(field, "rules[0].actions[0].asset");
    assert!(reason.starts_with("unknown asset `USDC`"), "{reason}");
}

#[test]
fn a_missing_or_foreign_action_field_is_named() {
    let (line, field, reason) = invalid(&machine().replace("market = \"aave\", ", ""));
    assert_eq!((line, field.as_str()), (16, "rules[0].actions[0].market"));
    assert_eq!(reason, "missing: a `supply` action needs it");

    let (line, field, reason) =
        invalid(&machine().replace("market = \"aave\", ", "market = \"aave\", pool = \"p\", "));
    assert_eq!((line, field.as_str()), (16, "rules[0].actions[0].pool"));
    assert_eq!(reason, "a `supply` action has no `pool`");

    let (line, message) = syntax(&machine().replace("in = \"idle\"\n", ""));
    assert_eq!(line, 11, "{message}");
    assert!(message.contains("missing field `in`"), "{message}");
}

#[test]
fn fixed_amounts_need_known_decimals_and_exact_strings() {
    let fixed = |amount: &str| {
        machine().replace(
            "amount = { fraction = 0.5, of = \"ETH\" }",
            &format!("amount = {amount}"),
        )
    };
    stratbox_generate::parse(&fixed("\"0.25\""), std::path::Path::new("spec.toml")).unwrap();

    let (_, field, reason) = invalid(&fixed("0.25"));
    assert_eq!(field, "rules[0].actions[0].amount");
    assert!(reason.contains("decimal string"), "{reason}");

    let (_, _, reason) = invalid(&fixed("\"0.1234567890123456789\""));
    assert!(
        reason.contains("more than the asset's 18 decimals"),
        "{reason}"
    );

    let (_, _, reason) = invalid(&fixed("\"0\""));
    assert_eq!(reason, "must be more than zero");

    let (_, _, reason) =
        invalid(&fixed("\"0.25\"").replace("ETH = { decimals = 18 }", "USDC = { decimals = 6 }"));
    assert!(
        reason.starts_with("a fixed amount of ETH needs its decimals"),
        "{reason}"
    );
}

#[test]
fn the_two_forms_do_not_mix_and_rules_must_do_something() {
    let (line, field, _) = invalid(&format!("{}[entry]\n{RSI_ENTRY}\n", machine()));
    assert_eq!((line, field.as_str()), (20, "entry"));

    let (_, field, _) =
        invalid(&simple(RSI_ENTRY).replace("[market]", "states = [\"a\"]\n[market]"));
    assert_eq!(field, "states");

    let idle = machine()
        .replace("to = \"lending\"\n", "")
        .replace(
            "  { kind = \"supply\", market = \"aave\", asset = \"ETH\", amount = { fraction = 0.5, of = \"ETH\" } },\n",
            "",
        );
    let (line, field, reason) = invalid(&idle);
    assert_eq!((line, field.as_str()), (11, "rules[0]"));
    assert!(reason.starts_with("does nothing"), "{reason}");
}

#[test]
fn states_must_be_distinct_identifiers() {
    let (_, field, _) = invalid(&machine().replace("\"lending\"]", "\"Lending\"]"));
    assert_eq!(field, "states[1]");
    let (_, _, reason) =
        invalid(&machine().replace("\"lending\"]", "\"lending\", \"lend_ing\", \"lend_ing\"]"));
    assert_eq!(reason, "`lend_ing` is listed twice");
}

#[test]
fn a_range_around_the_close_needs_the_market_pair() {
    let text = machine().replace(
        "{ kind = \"supply\", market = \"aave\", asset = \"ETH\", amount = { fraction = 0.5, of = \"ETH\" } }",
        "{ kind = \"lp_open\", pool = \"p\", token0 = \"BTC\", token1 = \"ETH\", range = { around_close = 0.05 }, \
         amount0 = { fraction = 1, of = \"BTC\" }, amount1 = \"1\" }",
    );
    let (line, field, reason) = invalid(&text);
    assert_eq!(
        (line, field.as_str()),
        (16, "rules[0].actions[0].range.around_close")
    );
    assert!(
        reason.contains("token0 and token1 must be those"),
        "{reason}"
    );
    stratbox_generate::parse(
        &text
            .replace(
                "token0 = \"BTC\", token1 = \"ETH\"",
                "token0 = \"ETH\", token1 = \"BTC\"",
            )
            .replace(
                "of = \"BTC\" }, amount1 = \"1\"",
                "of = \"ETH\" }, amount1 = \"1\"",
            ),
        std::path::Path::new("spec.toml"),
    )
    .unwrap();
}

//! Spec parsing, validation errors and rendering.

use std::path::Path;

use crate::{SpecError, parse, render};

const RSI: &str = include_str!("../../../examples/specs/rsi.toml");
const EMA_BOLLINGER: &str = include_str!("../../../examples/specs/ema-bollinger.toml");

fn refusal(text: &str) -> SpecError {
    parse(text, Path::new("spec.toml")).expect_err("the spec is refused")
}

fn minimal(entry: &str) -> String {
    format!(
        "version = 1\nname = \"s\"\n[market]\nname = \"ETH/BTC\"\nbase = \"ETH\"\n\
         quote = \"BTC\"\nquote_decimals = 8\n[indicators]\nrsi = {{ kind = \"rsi\", period = 14 }}\n\
         [entry]\n{entry}\n[exit]\nleft = \"rsi\"\nop = \">\"\nright = 70\n\
         [position]\norder_size = \"0.1\"\n"
    )
}

#[test]
fn the_examples_parse_and_render_readable_rust() {
    let spec = parse(RSI, Path::new("rsi.toml")).unwrap();
    let rendered = render(
        &spec,
        Path::new("examples/specs/rsi.toml"),
        Path::new("/sdk"),
    );
    assert!(rendered.manifest.contains("name = \"rsi-spec\""));
    assert!(rendered.manifest.contains("path = \"/sdk\""));
    assert!(rendered.source.contains("let entry = now.rsi < 30.0;"));
    assert!(rendered.source.contains("let exit = now.rsi > 70.0;"));
    assert!(rendered.source.contains("rsi: Rsi::new(14),"));

    let spec = parse(EMA_BOLLINGER, Path::new("ema-bollinger.toml")).unwrap();
    let source = render(&spec, Path::new("ema-bollinger.toml"), Path::new("/sdk")).source;
    assert!(source.contains(
        "let entry = (previous.is_some_and(|before| before.fast <= before.slow) && \
         now.fast > now.slow) && (now.close < now.bands_upper);"
    ));
    assert!(source.contains("bands: Bollinger::new(20, 2.0),"));
    assert!(source.contains("const ORDER_PPM: u128 = 500000;"));
}

#[test]
fn an_unknown_field_names_its_line() {
    let text = minimal("left = \"rsi\"\nop = \"<\"\nright = 30")
        .replace("quote_decimals = 8\n", "quote_decimals = 8\nleverage = 3\n");
    match refusal(&text) {
        SpecError::Syntax { line, message, .. } => {
            assert_eq!(line, 8, "{message}");
            assert!(message.contains("leverage"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_series_is_named_with_its_field_and_line() {
    match refusal(&minimal(
        "all = [{ left = \"rsi\", op = \"<\", right = \"rsj\" }]",
    )) {
        SpecError::Invalid {
            line,
            field,
            reason,
            ..
        } => {
            assert_eq!(line, 10);
            assert_eq!(field, "entry.all[0].right");
            assert!(reason.contains("unknown series `rsj`"), "{reason}");
            assert!(reason.contains("indicators: rsi"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_values_are_refused_with_the_field() {
    let field_of = |text: &str| match refusal(text) {
        SpecError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let rsi_entry = "left = \"rsi\"\nop = \"<\"\nright = 30";
    assert_eq!(
        field_of(&minimal(rsi_entry).replace("period = 14", "period = 0")),
        "indicators.rsi.period"
    );
    assert_eq!(
        field_of(&minimal(rsi_entry).replace("order_size = \"0.1\"", "order_size = \"-1\"")),
        "position.order_size"
    );
    assert_eq!(
        field_of(&minimal(rsi_entry).replace("order_size = \"0.1\"", "")),
        "position"
    );
    assert_eq!(
        field_of(&minimal(rsi_entry).replace("name = \"s\"", "name = \"My Strategy\"")),
        "name"
    );
    assert_eq!(
        field_of(&minimal("left = 1\nop = \"<\"\nright = 2")),
        "entry"
    );
    assert_eq!(field_of(&minimal("any = []")), "entry.any");
    assert!(matches!(
        refusal(&minimal("left = \"rsi\"\nop = \"=<\"\nright = 30")),
        SpecError::Syntax { line: 10, .. }
    ));
}

//! The simple form (entry, exit, position) renders as before.

use std::path::Path;

use stratbox_generate::{parse, render};

const RSI: &str = include_str!("../../../../examples/specs/rsi.toml");
const EMA_BOLLINGER: &str = include_str!("../../../../examples/specs/ema-bollinger.toml");

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
    assert!(
        rendered
            .source
            .contains("position: LongOnly::new(BASE, QUOTE, COOLDOWN_MS, MAX_SLIPPAGE_BPS),")
    );

    let spec = parse(EMA_BOLLINGER, Path::new("ema-bollinger.toml")).unwrap();
    let source = render(&spec, Path::new("ema-bollinger.toml"), Path::new("/sdk")).source;
    assert!(source.contains(
        "let entry = (previous.is_some_and(|before| before.fast <= before.slow) && \
         now.fast > now.slow) && (now.close < now.bands_upper);"
    ));
    assert!(source.contains("bands: Bollinger::new(20, 2.0),"));
    assert!(source.contains("const ORDER_PPM: u128 = 500000;"));
}

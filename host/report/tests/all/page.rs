//! A real backtest's report, loaded in headless Chromium: no JavaScript
//! error, every pane of the chart drawn, strategy-controlled text shown as
//! text; and the check itself catches a broken page.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use stratbox_backtest::report::{BacktestReport, DenialRecord};
use stratbox_backtest::sim::{AssetConfig, PoolConfig, PoolKind, SimConfig, SimMarket};
use stratbox_backtest::{Backtest, NoJournal};
use stratbox_runtime::{AllowAll, DeploymentSpec, Limits, Runtime, RuntimeConfig};
use stratbox_test_artifacts::{Guest, data_dir};

use crate::browser::{Loaded, chromium, load};

/// An RSI config that trades often.
const EAGER_RSI: &str = r#"{"period": 3, "oversold": 40, "overbought": 60, "cooldown_ms": 0}"#;

/// Strategy-controlled text that would run a script of its own if the page
/// let it out of the text it belongs in.
const HOSTILE: &str = "</script><script>document.documentElement.setAttribute('data-pwned','1')\
                       </script><img src=x onerror=alert(1)><!--";

/// The RSI example over 1,500 bundled ETH/BTC candles against one
/// constant-product pool (what `stratbox backtest` trades against by
/// default), with two series as a strategy would record them and a
/// hostile denial detail.
fn report() -> BacktestReport {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let component = runtime.load(&Guest::RsiMomentum.bytes()).unwrap();
    let tape = stratbox_tape::load_csv(&data_dir().join("ETH_BTC-5m.csv"), "ETH/BTC")
        .unwrap()
        .take(1_500);
    let asset = |decimals| AssetConfig { decimals };
    let config = SimConfig {
        chain_id: 0,
        quote: "BTC".into(),
        native: None,
        assets: BTreeMap::from([("ETH".into(), asset(18)), ("BTC".into(), asset(8))]),
        balances: BTreeMap::from([("BTC".into(), "1".into())]),
        pools: BTreeMap::from([(
            "ETH/BTC-v2-0.3".into(),
            PoolConfig {
                kind: PoolKind::ConstantProduct,
                token0: "ETH".into(),
                token1: "BTC".into(),
                fee_pips: 3_000,
                market: "ETH/BTC".into(),
                depth: 1_000.0,
                range: 0.5,
            },
        )]),
        lending: BTreeMap::new(),
        vaults: BTreeMap::new(),
        gas: stratbox_venues::gas::GasModel::free(),
    };
    let market = SimMarket::new(config, vec![tape]).unwrap();
    let spec = DeploymentSpec::new("rsi", EAGER_RSI).with_limits(Limits::rust());
    let mut report = Backtest::new(&runtime, &component, "rsi", spec)
        .run(market, AllowAll, &mut NoJournal, |_| {})
        .unwrap();
    // A moving average over the candles and a momentum in a pane of its
    // own, at each candle's close.
    let closes: Vec<(u64, f64)> = report
        .candles
        .iter()
        .map(|c| (c.timestamp_ms + 300_000, c.close))
        .collect();
    let average = closes
        .windows(20)
        .map(|w| (w[19].0, w.iter().map(|(_, c)| c).sum::<f64>() / 20.0))
        .collect();
    let momentum = closes
        .windows(10)
        .map(|w| (w[9].0, w[9].1 / w[0].1 - 1.0))
        .collect();
    report.series.insert("overlay:sma.20".into(), average);
    report.series.insert("momentum".into(), momentum);
    report.denials.push(DenialRecord {
        sequence: 700,
        timestamp_ms: report.candles[700].timestamp_ms + 300_000,
        code: "COOLDOWN_ACTIVE".into(),
        rule: "swap.cooldown".into(),
        detail: HOSTILE.into(),
    });
    report
}

/// The report's page, rendered once.
static PAGE: LazyLock<(BacktestReport, String)> = LazyLock::new(|| {
    let report = report();
    let page = stratbox_report::html(&report).unwrap();
    (report, page)
});

/// `page` written to a file and loaded in Chromium; `None` without one.
/// With `STRATBOX_KEEP_REPORT` set to a directory, the page the first test
/// loads is also written there (`report.html`), to look at.
fn open(page: &str) -> Option<Loaded> {
    let chromium = chromium()?;
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("report.html");
    std::fs::write(&path, page).unwrap();
    Some(load(&chromium, &path))
}

#[test]
fn a_backtest_report_loads_without_errors_and_draws_every_pane() {
    let (report, page) = &*PAGE;
    assert!(!report.round_trips.is_empty(), "the strategy trades");
    if let Some(dir) = std::env::var_os("STRATBOX_KEEP_REPORT") {
        std::fs::write(PathBuf::from(dir).join("report.html"), page).unwrap();
    }
    let Some(loaded) = open(page) else { return };
    loaded.assert_no_errors();
    // Price, momentum, equity against buy and hold, drawdown, profits.
    assert_eq!(loaded.root_attribute("data-charts").as_deref(), Some("5"));
    assert_eq!(
        loaded.root_attribute("data-charts-drawn").as_deref(),
        Some("5"),
        "every pane shows something"
    );
    let canvases = loaded.canvases();
    assert!(canvases.len() >= 5, "{canvases:?}");
    assert!(
        canvases.iter().all(|&(w, h)| w > 0 && h > 0),
        "every canvas has a size: {canvases:?}"
    );
    // The hostile detail is in the denial table as text, and ran nothing.
    assert!(loaded.root_attribute("data-pwned").is_none());
    assert!(
        loaded
            .dom
            .contains("&lt;/script&gt;&lt;script&gt;document.documentElement"),
        "the detail is shown as text"
    );
}

#[test]
fn the_check_fails_when_the_page_throws() {
    let (_, page) = &*PAGE;
    // Data the chart's script cannot parse: it throws before drawing.
    let start =
        page.find("id=\"stratbox-chart-data\">").unwrap() + "id=\"stratbox-chart-data\">".len();
    let broken = format!("{}{{{}", &page[..start], &page[start..]);
    let Some(loaded) = open(&broken) else { return };
    let errors = loaded.errors();
    assert!(
        errors.iter().any(|e| e.contains("JSON")),
        "the error is recorded: {errors:?}"
    );
    assert_eq!(loaded.root_attribute("data-charts-drawn"), None);
}

#[test]
fn a_script_the_page_did_not_ship_is_refused() {
    let (_, page) = &*PAGE;
    // The chart's script, changed: its hash no longer matches the page's
    // Content-Security-Policy, so the browser refuses to run it.
    let tampered = page.replacen(
        "chart.timeScale().fitContent();",
        "chart.timeScale().fitContent(); ",
        1,
    );
    assert_ne!(&tampered, page);
    let Some(loaded) = open(&tampered) else {
        return;
    };
    let errors = loaded.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("content security policy") && e.contains("script-src")),
        "{errors:?}"
    );
    assert_eq!(loaded.root_attribute("data-charts-drawn"), None);
}

/// Moves a mouse across the price pane, as a person would, once the chart
/// is drawn, and records what the legend and the hover box showed (the
/// first legend with a bar's prices, the first box with a trade) on the
/// root element.
const HOVER_PROBE: &str = "(function () {
  var root = document.documentElement;
  function probe() {
    if (!root.hasAttribute('data-charts-drawn')) {
      setTimeout(probe, 50);
      return;
    }
    var box = document.getElementById('chart').getBoundingClientRect();
    var legend = document.getElementById('chart-legend');
    var tip = document.getElementById('chart-tip');
    var last = null;
    for (var x = box.left + 5; x < box.right - 80; x += 2) {
      var y = box.top + 150;
      var target = document.elementFromPoint(x, y);
      var init = { clientX: x, clientY: y, bubbles: true, cancelable: true, view: window };
      if (target !== last) {
        target.dispatchEvent(new MouseEvent('mouseenter', init));
        last = target;
      }
      target.dispatchEvent(new MouseEvent('mousemove', init));
      if (!root.hasAttribute('data-hover-legend') && legend.textContent.indexOf(' C ') >= 0) {
        root.setAttribute('data-hover-legend', legend.textContent);
      }
      if (!root.hasAttribute('data-hover-tip') && !tip.hidden && tip.textContent.indexOf('#') >= 0) {
        root.setAttribute('data-hover-tip', tip.textContent);
      }
    }
    root.setAttribute('data-hover-done', '1');
  }
  probe();
})();";

#[test]
fn hovering_the_chart_shows_a_bars_values_and_its_trades() {
    let (_, page) = &*PAGE;
    // The probe runs as one more of the page's own scripts: its hash goes
    // into the page's policy.
    let hash = stratbox_report::script_hash(HOVER_PROBE);
    let probed = page
        .replacen("script-src ", &format!("script-src {hash} "), 1)
        .replacen(
            "</body>",
            &format!("<script>{HOVER_PROBE}</script></body>"),
            1,
        );
    let Some(loaded) = open(&probed) else { return };
    loaded.assert_no_errors();
    assert_eq!(
        loaded.root_attribute("data-hover-done").as_deref(),
        Some("1")
    );
    let legend = loaded
        .root_attribute("data-hover-legend")
        .unwrap_or_default();
    assert!(
        legend.contains(" UTC") && legend.contains(" O 0.0") && legend.contains("equity (BTC) "),
        "the legend shows the bar: {legend:?}"
    );
    let tip = loaded.root_attribute("data-hover-tip").unwrap_or_default();
    assert!(
        (tip.contains("BUY #") || tip.contains("SELL #")) && tip.contains(" ETH"),
        "the box shows the bar's trades: {tip:?}"
    );
}

use stratbox_test_artifacts::Guest;

use crate::{stratbox, text};

#[test]
fn demo_runs_a_prebuilt_strategy_over_bundled_candles() {
    let component = Guest::RsiMomentum.path().to_str().expect("utf-8 path");
    let output = stratbox(&["demo", "--component", component, "--limit", "1500"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("ticks        1500 (0 failed)"), "{stdout}");
    assert!(stdout.contains("swap 0.1 BTC -> ETH  filled:"), "{stdout}");
}

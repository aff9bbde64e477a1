//! Portfolio VaR in quote value.

use stratbox_risk::{HOUR_MS, RiskError, RiskMethod, historical, portfolio_var, portfolio_var_es};

use crate::assert_close;

fn logs(simple: &[f64]) -> Vec<f64> {
    simple.iter().map(|s| s.ln_1p()).collect()
}

#[test]
fn historical_portfolio_by_hand() {
    // 40 intervals, k = 2 at 95%. P&L of 100 A + 50 B is +1 except
    // t = 5 (-5 + 2 = -3) and t = 9 (+1 - 3 = -2): VaR 2, ES 2.5.
    let mut a = vec![0.01; 40];
    let mut b = vec![0.0; 40];
    a[5] = -0.05;
    b[5] = 0.04;
    b[9] = -0.06;
    let (a, b) = (logs(&a), logs(&b));
    let figures = portfolio_var_es(
        &[100.0, 50.0],
        &[&a, &b],
        RiskMethod::Historical,
        HOUR_MS,
        HOUR_MS,
        0.95,
    )
    .unwrap();
    assert_close("var", figures.var, 2.0, 1e-12);
    assert_close("es", figures.es, 2.5, 1e-12);
    let var = portfolio_var(
        &[100.0, 50.0],
        &[&a, &b],
        RiskMethod::Historical,
        HOUR_MS,
        HOUR_MS,
        0.95,
    )
    .unwrap();
    assert_eq!(var, figures.var);
}

#[test]
fn one_asset_portfolio_is_the_asset_var_in_value() {
    let returns: Vec<f64> = (0..200)
        .map(|i| 0.01 * (f64::from(i) * 0.7).sin())
        .collect();
    for horizon in [HOUR_MS, 6 * HOUR_MS] {
        let fraction = historical(&returns, HOUR_MS, horizon, 0.99).unwrap();
        let value = portfolio_var(
            &[2500.0],
            &[&returns],
            RiskMethod::Historical,
            horizon,
            HOUR_MS,
            0.99,
        )
        .unwrap();
        assert_close("var", value, 2500.0 * fraction.var, 1e-9);
    }
}

#[test]
fn parametric_portfolio_uses_the_covariance() {
    // A: 0.01, -0.01, 0.02, 0 (mean 0.005, variance 5e-4 / 3);
    // B: 0, 0.01, -0.01, 0 (mean 0, variance 2e-4 / 3); covariance -1e-4.
    // P&L variance 100^2 5e-4/3 + 50^2 2e-4/3 + 2 100 50 (-1e-4) = 2.5/3,
    // mean 0.5; over 4 intervals at 95%.
    let a = logs(&[0.01, -0.01, 0.02, 0.0]);
    let b = logs(&[0.0, 0.01, -0.01, 0.0]);
    let figures = portfolio_var_es(
        &[100.0, 50.0],
        &[&a, &b],
        RiskMethod::Parametric,
        4 * HOUR_MS,
        HOUR_MS,
        0.95,
    )
    .unwrap();
    let z95 = 1.644_853_626_951_472_2;
    let expected = z95 * (2.5f64 / 3.0 * 4.0).sqrt() - 0.5 * 4.0;
    assert_close("var", figures.var, expected, 1e-9);
    assert!(figures.es > figures.var);
}

#[test]
fn portfolio_errors_are_typed() {
    let a = vec![0.0; 50];
    let b = vec![0.0; 49];
    let var = |values: &[f64], returns: &[&[f64]], method| {
        portfolio_var(values, returns, method, HOUR_MS, HOUR_MS, 0.95)
    };
    assert_eq!(
        var(&[1.0], &[&a], RiskMethod::MonteCarlo),
        Err(RiskError::Unsupported {
            method: RiskMethod::MonteCarlo,
            what: "portfolio VaR"
        })
    );
    assert!(matches!(
        var(&[1.0, 2.0], &[&a], RiskMethod::Historical),
        Err(RiskError::LengthMismatch {
            expected: 2,
            found: 1,
            ..
        })
    ));
    assert!(matches!(
        var(&[1.0, 2.0], &[&a, &b], RiskMethod::Parametric),
        Err(RiskError::LengthMismatch {
            expected: 50,
            found: 49,
            ..
        })
    ));
    assert_eq!(
        var(&[], &[], RiskMethod::Historical),
        Err(RiskError::NotEnoughData { needed: 1, have: 0 })
    );
    assert_eq!(
        var(&[1.0], &[&a[..10]], RiskMethod::Historical),
        Err(RiskError::NotEnoughData {
            needed: 20,
            have: 10
        })
    );
    assert!(matches!(
        var(&[f64::NAN], &[&a], RiskMethod::Historical),
        Err(RiskError::InvalidValue { what: "value", .. })
    ));
    assert!(matches!(
        portfolio_var(&[1.0], &[&a], RiskMethod::Parametric, 0, HOUR_MS, 0.95),
        Err(RiskError::InvalidHorizon { .. })
    ));
    assert!(matches!(
        portfolio_var(&[1.0], &[&a], RiskMethod::Parametric, HOUR_MS, HOUR_MS, 1.0),
        Err(RiskError::InvalidConfidence { .. })
    ));
}

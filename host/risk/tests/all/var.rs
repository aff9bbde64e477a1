//! One-asset VaR and ES: historical, parametric, Monte Carlo and the table.

use stratbox_risk::{
    DAY_MS, HOUR_MS, JumpDiffusion, MonteCarloConfig, RiskError, RiskMethod, Series, VarEs,
    historical, log_returns, monte_carlo, monte_carlo_model, normal_cdf, normal_pdf, normal_var_es,
    parametric, risk_table, risk_table_for, sample_var_es,
};

use crate::assert_close;

const FIVE_MINUTES: u64 = 300_000;

/// Prices from a seeded jump-diffusion, sampled every 5 minutes.
fn prices(model: &JumpDiffusion, returns: usize, seed: u64) -> Vec<f64> {
    let returns = model
        .simulate_horizon_returns(FIVE_MINUTES, returns, seed, 1)
        .unwrap();
    let mut price = 100.0;
    let mut out = vec![price];
    for r in returns {
        price *= r.exp();
        out.push(price);
    }
    out
}

#[test]
fn historical_on_a_known_series() {
    // 40 returns at 95%: k = ceil(40 * 0.05) = 2, so VaR is the second worst
    // loss and ES the mean of the two worst.
    let mut returns = vec![0.01; 40];
    returns[3] = -0.05;
    returns[17] = -0.03;
    returns[30] = -0.02;
    let figures = historical(&returns, HOUR_MS, HOUR_MS, 0.95).unwrap();
    assert_close("var", figures.var, 0.029_554_466_451_491_845, 1e-15);
    assert_close(
        "es",
        figures.es,
        (0.029_554_466_451_491_845 + 0.048_770_575_499_285_984) / 2.0,
        1e-15,
    );
    // Order does not matter.
    returns.reverse();
    assert_eq!(
        historical(&returns, HOUR_MS, HOUR_MS, 0.95).unwrap(),
        figures
    );
}

#[test]
fn historical_sums_overlapping_windows() {
    // 41 returns, two-interval horizon: 40 overlapping windows, k = 2.
    // Window sums: (9,10) -0.029, (10,11) -0.05, (11,12) -0.019,
    // (29,30) and (30,31) -0.024; the rest 0.002.
    let mut returns = vec![0.001; 41];
    returns[10] = -0.03;
    returns[11] = -0.02;
    returns[30] = -0.025;
    let figures = historical(&returns, HOUR_MS, 2 * HOUR_MS, 0.95).unwrap();
    let loss = |r: f64| 1.0 - r.exp();
    assert_close("var", figures.var, loss(-0.029), 1e-12);
    assert_close("es", figures.es, (loss(-0.05) + loss(-0.029)) / 2.0, 1e-12);
}

#[test]
fn historical_errors_are_typed() {
    let returns = vec![0.0; 50];
    assert!(matches!(
        historical(&returns, HOUR_MS, HOUR_MS / 2, 0.95),
        Err(RiskError::InvalidHorizon { .. })
    ));
    assert!(matches!(
        historical(&returns, FIVE_MINUTES, 7 * 60_000, 0.95),
        Err(RiskError::InvalidHorizon { .. })
    ));
    assert!(matches!(
        historical(&returns, HOUR_MS, 0, 0.95),
        Err(RiskError::InvalidHorizon { horizon_ms: 0, .. })
    ));
    assert_eq!(
        historical(&returns, 0, HOUR_MS, 0.95),
        Err(RiskError::InvalidInterval)
    );
    // 99% needs 100 windows; a day of hours adds 23 returns.
    assert_eq!(
        historical(&returns, HOUR_MS, DAY_MS, 0.99),
        Err(RiskError::NotEnoughData {
            needed: 123,
            have: 50
        })
    );
    assert_eq!(
        historical(&[], HOUR_MS, HOUR_MS, 0.95),
        Err(RiskError::NotEnoughData {
            needed: 20,
            have: 0
        })
    );
    let mut bad = returns.clone();
    bad[7] = f64::NAN;
    assert!(matches!(
        historical(&bad, HOUR_MS, HOUR_MS, 0.95),
        Err(RiskError::InvalidValue {
            what: "log return",
            index: 7,
            ..
        })
    ));
}

#[test]
fn confidence_must_be_strictly_between_0_and_1() {
    let returns = vec![0.001; 200];
    for confidence in [0.0, 1.0, 1.5, -0.1, f64::NAN] {
        let invalid = |result: Result<VarEs, RiskError>| {
            matches!(result, Err(RiskError::InvalidConfidence { .. }))
        };
        assert!(invalid(historical(&returns, HOUR_MS, HOUR_MS, confidence)));
        assert!(invalid(parametric(&returns, HOUR_MS, HOUR_MS, confidence)));
        assert!(invalid(normal_var_es(0.0, 0.01, 1.0, confidence)));
        assert!(invalid(sample_var_es(&returns, confidence)));
        assert!(invalid(monte_carlo_model(
            &JumpDiffusion::default(),
            HOUR_MS,
            confidence,
            100,
            0
        )));
        assert!(matches!(
            risk_table_for(
                Series::LogReturns(&returns),
                HOUR_MS,
                &[HOUR_MS],
                &[confidence],
                &MonteCarloConfig::default()
            ),
            Err(RiskError::InvalidConfidence { .. })
        ));
    }
}

#[test]
fn parametric_normal_formula() {
    let (mu, sigma, t) = (0.0005, 0.01, 24.0);
    let z99 = 2.326_347_874_040_840_8;
    let figures = normal_var_es(mu, sigma, t, 0.99).unwrap();
    assert_close("var", figures.var, z99 * sigma * t.sqrt() - mu * t, 1e-12);
    assert_close(
        "es",
        figures.es,
        sigma * t.sqrt() * normal_pdf(z99) / 0.01 - mu * t,
        1e-12,
    );
    // ES of a normal exceeds its VaR.
    assert!(figures.es > figures.var);
}

#[test]
fn parametric_uses_simple_returns_mean_and_sample_stdev() {
    // Simple returns 0.01, -0.02, 0.03, 0: mean 0.005, sample variance
    // (0.005^2 + 0.025^2 + 0.025^2 + 0.005^2) / 3 = 0.0013 / 3.
    let returns: Vec<f64> = [0.01f64, -0.02, 0.03, 0.0]
        .iter()
        .map(|s| s.ln_1p())
        .collect();
    let figures = parametric(&returns, HOUR_MS, DAY_MS, 0.95).unwrap();
    let (mu, sigma, t, z95) = (
        0.005,
        (0.0013f64 / 3.0).sqrt(),
        24.0f64,
        1.644_853_626_951_472_2,
    );
    assert_close("var", figures.var, z95 * sigma * t.sqrt() - mu * t, 1e-12);
    // A horizon below the interval scales down.
    let figures = parametric(&returns, HOUR_MS, HOUR_MS / 4, 0.95).unwrap();
    assert_close("var", figures.var, z95 * sigma * 0.5 - mu * 0.25, 1e-12);
    assert_eq!(
        parametric(&returns[..1], HOUR_MS, HOUR_MS, 0.95),
        Err(RiskError::NotEnoughData { needed: 2, have: 1 })
    );
    assert_eq!(
        parametric(&[], HOUR_MS, HOUR_MS, 0.95),
        Err(RiskError::NotEnoughData { needed: 2, have: 0 })
    );
    assert!(matches!(
        parametric(&returns, HOUR_MS, 0, 0.95),
        Err(RiskError::InvalidHorizon { .. })
    ));
}

#[test]
fn monte_carlo_matches_the_lognormal_without_jumps() {
    let model = JumpDiffusion {
        drift: 0.1,
        volatility: 0.8,
        jump_intensity: 0.0,
        jump_mean: 0.0,
        jump_stdev: 0.0,
    };
    // R ~ N(m, s^2): VaR = 1 - e^(m - z s), ES = 1 - e^(m + s^2/2) Phi(-z - s) / (1 - c).
    let t = 1.0 / 365.0;
    let (m, s) = ((0.1 - 0.32) * t, 0.8 * f64::sqrt(t));
    for (confidence, z) in [
        (0.95, 1.644_853_626_951_472_2),
        (0.99, 2.326_347_874_040_840_8),
    ] {
        let figures = monte_carlo_model(&model, DAY_MS, confidence, 200_000, 5).unwrap();
        let var = 1.0 - (m - z * s).exp();
        let es = 1.0 - (m + s * s / 2.0).exp() * normal_cdf(-z - s) / (1.0 - confidence);
        assert_close("var", figures.var, var, 0.02 * var);
        assert_close("es", figures.es, es, 0.03 * es);
    }
    assert_eq!(
        monte_carlo_model(&model, DAY_MS, 0.99, 99, 5),
        Err(RiskError::NotEnoughData {
            needed: 100,
            have: 99
        })
    );
}

#[test]
fn monte_carlo_is_seeded() {
    let model = JumpDiffusion {
        jump_intensity: 50.0,
        ..JumpDiffusion::default()
    };
    let prices = prices(&model, 20_000, 1);
    let returns = log_returns(&prices).unwrap();
    let config = MonteCarloConfig {
        paths: 20_000,
        ..MonteCarloConfig::default()
    };
    let a = monte_carlo(&returns, FIVE_MINUTES, DAY_MS, 0.99, &config).unwrap();
    let b = monte_carlo(&returns, FIVE_MINUTES, DAY_MS, 0.99, &config).unwrap();
    assert_eq!(a, b);
    let other = MonteCarloConfig {
        seed: 1,
        ..config.clone()
    };
    assert_ne!(
        a,
        monte_carlo(&returns, FIVE_MINUTES, DAY_MS, 0.99, &other).unwrap()
    );
    // Stress makes it worse.
    let stressed = MonteCarloConfig {
        stressed: true,
        ..config
    };
    let worse = monte_carlo(&returns, FIVE_MINUTES, DAY_MS, 0.99, &stressed).unwrap();
    assert!(worse.var > a.var && worse.es > a.es, "{worse:?} vs {a:?}");
}

#[test]
fn log_returns_of_prices() {
    let returns = log_returns(&[100.0, 110.0, 99.0]).unwrap();
    assert_close("r0", returns[0], 1.1f64.ln(), 1e-15);
    assert_close("r1", returns[1], 0.9f64.ln(), 1e-15);
    assert!(log_returns(&[100.0]).unwrap().is_empty());
    assert_eq!(
        log_returns(&[100.0, 0.0]),
        Err(RiskError::InvalidValue {
            what: "price",
            index: 1,
            value: 0.0
        })
    );
}

#[test]
fn risk_table_has_every_figure() {
    // 30 days of 5-minute prices.
    let prices = prices(&JumpDiffusion::default(), 30 * 288, 3);
    let config = MonteCarloConfig {
        paths: 20_000,
        ..MonteCarloConfig::default()
    };
    let table = risk_table(Series::Prices(&prices), FIVE_MINUTES, &config).unwrap();
    assert_eq!(table.figures.len(), 12, "{:?}", table.unavailable);
    assert!(table.unavailable.is_empty());
    assert_eq!(table.returns, 30 * 288);
    let model = table.model.unwrap();
    assert!((0.6..1.0).contains(&model.volatility), "{model:?}");
    for figure in &table.figures {
        assert!(figure.es >= figure.var, "{figure:?}");
        assert!(figure.var > 0.0 && figure.var < 0.5, "{figure:?}");
        assert_eq!(figure.var_value(1000.0), figure.var * 1000.0);
        assert_eq!(figure.es_value(1000.0), figure.es * 1000.0);
    }
    for method in RiskMethod::ALL {
        for horizon in [HOUR_MS, DAY_MS] {
            let at95 = table.figure(method, horizon, 0.95).unwrap();
            let at99 = table.figure(method, horizon, 0.99).unwrap();
            assert!(at99.var > at95.var, "{at95:?} {at99:?}");
        }
        let hour = table.figure(method, HOUR_MS, 0.99).unwrap();
        let day = table.figure(method, DAY_MS, 0.99).unwrap();
        assert!(day.var > 2.0 * hour.var, "{hour:?} {day:?}");
    }
    // The same returns give the same table.
    let returns = log_returns(&prices).unwrap();
    let again = risk_table(Series::LogReturns(&returns), FIVE_MINUTES, &config).unwrap();
    assert_eq!(again, table);
    // Serializable, methods in snake_case.
    let json = serde_json::to_string(&table).unwrap();
    assert!(json.contains("\"monte_carlo\""), "{json}");
    let back: stratbox_risk::RiskTable = serde_json::from_str(&json).unwrap();
    assert_eq!(back, table);
}

#[test]
fn risk_table_lists_what_it_cannot_compute() {
    // 300 five-minute returns: a day needs 287 + 20 (95%) or + 100 (99%).
    let prices = prices(&JumpDiffusion::default(), 300, 4);
    let config = MonteCarloConfig {
        paths: 1_000,
        ..MonteCarloConfig::default()
    };
    let table = risk_table(Series::Prices(&prices), FIVE_MINUTES, &config).unwrap();
    assert_eq!(table.figures.len(), 10);
    assert_eq!(table.unavailable.len(), 2);
    for missing in &table.unavailable {
        assert_eq!(missing.method, RiskMethod::Historical);
        assert_eq!(missing.horizon_ms, DAY_MS);
        assert!(
            missing.reason.contains("not enough data"),
            "{}",
            missing.reason
        );
    }
    // Daily prices: no one-hour historical figure, the models scale down.
    let table = risk_table(Series::Prices(&prices), DAY_MS, &config).unwrap();
    let missing: Vec<_> = table
        .unavailable
        .iter()
        .map(|u| (u.method, u.horizon_ms))
        .collect();
    assert_eq!(
        missing,
        [
            (RiskMethod::Historical, HOUR_MS),
            (RiskMethod::Historical, HOUR_MS)
        ]
    );
}

#[test]
fn risk_table_errors_are_typed() {
    let config = MonteCarloConfig::default();
    assert_eq!(
        risk_table(Series::LogReturns(&[]), HOUR_MS, &config),
        Err(RiskError::NotEnoughData { needed: 2, have: 0 })
    );
    assert_eq!(
        risk_table(Series::Prices(&[]), HOUR_MS, &config),
        Err(RiskError::NotEnoughData { needed: 3, have: 0 })
    );
    let returns = [0.01, -0.01, 0.02];
    assert_eq!(
        risk_table(Series::LogReturns(&returns), 0, &config),
        Err(RiskError::InvalidInterval)
    );
    assert!(matches!(
        risk_table_for(
            Series::LogReturns(&returns),
            HOUR_MS,
            &[0],
            &[0.95],
            &config
        ),
        Err(RiskError::InvalidHorizon { horizon_ms: 0, .. })
    ));
    assert!(matches!(
        risk_table(Series::Prices(&[1.0, -1.0]), HOUR_MS, &config),
        Err(RiskError::InvalidValue {
            what: "price",
            index: 1,
            ..
        })
    ));
    let zero_paths = MonteCarloConfig { paths: 0, ..config };
    assert!(matches!(
        risk_table(Series::LogReturns(&returns), HOUR_MS, &zero_paths),
        Err(RiskError::InvalidParameter { name: "paths", .. })
    ));
}

#[test]
fn risk_method_names() {
    for method in RiskMethod::ALL {
        assert_eq!(method.as_str().parse::<RiskMethod>().unwrap(), method);
        assert_eq!(method.to_string(), method.as_str());
        let json = serde_json::to_string(&method).unwrap();
        assert_eq!(json, format!("\"{}\"", method.as_str()));
        assert_eq!(serde_json::from_str::<RiskMethod>(&json).unwrap(), method);
    }
    assert_eq!(
        "monte-carlo".parse::<RiskMethod>().unwrap(),
        RiskMethod::MonteCarlo
    );
    assert_eq!(
        "var".parse::<RiskMethod>(),
        Err(RiskError::UnknownMethod { name: "var".into() })
    );
}

#[test]
fn monte_carlo_config_serde_defaults() {
    let config: MonteCarloConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, MonteCarloConfig::default());
    assert_eq!(config.paths, 100_000);
    let config: MonteCarloConfig =
        serde_json::from_str(r#"{"paths": 5000, "stressed": true}"#).unwrap();
    assert!(config.stressed && config.paths == 5000);
    assert!(serde_json::from_str::<MonteCarloConfig>(r#"{"path": 5}"#).is_err());
}

//! The lending-position shortfall study.

use stratbox_risk::{
    DAY_MS, JumpDiffusion, RiskError, StudyConfig, StudyResult, normal_cdf, run_study,
    run_study_with_threads, wilson_interval,
};

use crate::assert_close;

/// A model that never moves.
const STILL: JumpDiffusion = JumpDiffusion {
    drift: 0.0,
    volatility: 0.0,
    jump_intensity: 0.0,
    jump_mean: 0.0,
    jump_stdev: 0.0,
};

fn still(initial_ltv: f64) -> StudyConfig {
    StudyConfig {
        model: STILL,
        stressed: false,
        initial_ltv,
        liquidation_ltv: Some(0.85),
        paths: 10_000,
        ..StudyConfig::default()
    }
}

#[test]
fn no_volatility_no_jumps_no_shortfall() {
    let result = run_study(&still(0.75)).unwrap();
    for probability in [
        result.shortfall_at_end,
        result.shortfall_any_time,
        result.liquidation_at_end.unwrap(),
        result.liquidation_any_time.unwrap(),
    ] {
        assert_eq!(probability.count, 0);
        assert_eq!(probability.estimate, 0.0);
        assert_eq!(probability.low, 0.0);
        assert!(probability.high > 0.0 && probability.high < 0.001);
    }
    assert_eq!(result.expected_shortfall, 0.0);
    assert_eq!(result.mean_shortfall_when_short, None);
    // Every path ends with equity 0.25 of the initial collateral.
    let histogram = &result.histogram;
    assert_eq!(histogram.total(), 10_000);
    let bin = histogram
        .counts
        .iter()
        .position(|&count| count == 10_000)
        .unwrap();
    let (low, high) = histogram.bin_edges(bin);
    assert!(low <= 0.25 && 0.25 < high, "{low} {high}");
}

#[test]
fn ltv_of_one_or_more_is_always_short() {
    for ltv in [1.0, 1.2] {
        let result = run_study(&still(ltv)).unwrap();
        assert_eq!(result.shortfall_at_end.estimate, 1.0);
        assert_eq!(result.shortfall_any_time.estimate, 1.0);
        assert_eq!(result.shortfall_any_time.high, 1.0);
        assert!(result.shortfall_any_time.low > 0.999);
        assert_close("shortfall", result.expected_shortfall, ltv - 1.0, 1e-12);
    }
    // With a volatile model, the start already counts.
    let result = run_study(&StudyConfig {
        initial_ltv: 1.0,
        paths: 5_000,
        ..StudyConfig::default()
    })
    .unwrap();
    assert_eq!(result.shortfall_any_time.count, 5_000);
    // A liquidation LTV below the initial one is reached at the start.
    let result = run_study(&StudyConfig {
        liquidation_ltv: Some(0.7),
        ..still(0.75)
    })
    .unwrap();
    assert_eq!(result.liquidation_any_time.unwrap().estimate, 1.0);
    assert_eq!(result.shortfall_any_time.estimate, 0.0);
}

#[test]
fn end_probability_matches_the_jump_mixture() {
    // The end log price is a Poisson mixture of normals:
    // P(x_T <= ln ltv) = sum_n P(N = n) Phi((ln ltv - m - n a) / sqrt(s^2 + n b^2)).
    let config = StudyConfig {
        paths: 100_000,
        seed: 21,
        ..StudyConfig::default()
    };
    let result = run_study(&config).unwrap();
    let model = result.model;
    assert_eq!(model, JumpDiffusion::default().stressed());
    let t = 1.0 / 365.0;
    let sigma = model.volatility;
    let lambda = model.jump_intensity;
    let m = (model.drift - sigma * sigma / 2.0 - lambda * model.jump_compensator()) * t;
    let mut poisson = (-lambda * t).exp();
    let mut exact = 0.0;
    for n in 0..60 {
        let n = f64::from(n);
        if n > 0.0 {
            poisson *= lambda * t / n;
        }
        let spread = (sigma * sigma * t + n * model.jump_stdev.powi(2)).sqrt();
        exact += poisson * normal_cdf((0.75f64.ln() - m - n * model.jump_mean) / spread);
    }
    let estimate = result.shortfall_at_end.estimate;
    let standard_error = (exact * (1.0 - exact) / 100_000.0).sqrt();
    assert_close("shortfall at end", estimate, exact, 4.0 * standard_error);
    assert!(result.shortfall_at_end.low <= exact && exact <= result.shortfall_at_end.high);
    assert!(result.shortfall_any_time.estimate >= estimate);
    let when_short = result.mean_shortfall_when_short.unwrap();
    assert!(when_short > result.expected_shortfall && result.expected_shortfall > 0.0);
    assert_close(
        "expected shortfall",
        result.expected_shortfall,
        when_short * estimate,
        1e-12,
    );
    // Shortfalls are the histogram's negative equities.
    let histogram = &result.histogram;
    let negative: u64 = (0..histogram.counts.len())
        .filter(|&i| histogram.bin_edges(i).1 <= 1e-12)
        .map(|i| histogram.counts[i])
        .sum::<u64>()
        + histogram.underflow;
    assert_eq!(negative, result.shortfall_at_end.count);
}

#[test]
fn any_time_lies_between_the_end_and_continuous_watching() {
    // Plain GBM over 30 days, watched daily.
    let model = JumpDiffusion {
        jump_intensity: 0.0,
        ..JumpDiffusion::default()
    };
    let result = run_study(&StudyConfig {
        model,
        stressed: false,
        horizon_ms: 30 * DAY_MS,
        steps: 30,
        paths: 50_000,
        ..StudyConfig::default()
    })
    .unwrap();
    let (t, sigma, b) = (30.0f64 / 365.0, 0.8f64, 0.75f64.ln());
    let rate = -sigma * sigma / 2.0;
    let s = sigma * t.sqrt();
    let at_end = normal_cdf((b - rate * t) / s);
    let continuous =
        at_end + (2.0 * rate * b / (sigma * sigma)).exp() * normal_cdf((b + rate * t) / s);
    let standard_error = (at_end * (1.0 - at_end) / 50_000.0).sqrt();
    assert_close(
        "end",
        result.shortfall_at_end.estimate,
        at_end,
        4.0 * standard_error,
    );
    let any = result.shortfall_any_time.estimate;
    assert!(
        any > result.shortfall_at_end.estimate && any < continuous,
        "{any} {continuous}"
    );
}

#[test]
fn uncompensated_jumps_are_a_harsher_stress() {
    let compensated = StudyConfig {
        paths: 20_000,
        ..StudyConfig::default()
    };
    let harsh = StudyConfig {
        compensate_jumps: false,
        ..compensated.clone()
    };
    let (compensated, harsh) = (run_study(&compensated).unwrap(), run_study(&harsh).unwrap());
    assert!(
        harsh.shortfall_at_end.low > compensated.shortfall_at_end.high,
        "{:?} {:?}",
        harsh.shortfall_at_end,
        compensated.shortfall_at_end
    );
    assert!(harsh.expected_shortfall > compensated.expected_shortfall);
}

#[test]
fn same_seed_same_result_whatever_the_threads() {
    let config = StudyConfig {
        paths: 30_000,
        liquidation_ltv: Some(0.8),
        seed: 5,
        ..StudyConfig::default()
    };
    let one = run_study_with_threads(&config, 1).unwrap();
    assert_eq!(run_study_with_threads(&config, 3).unwrap(), one);
    assert_eq!(run_study_with_threads(&config, 64).unwrap(), one);
    assert_eq!(run_study(&config).unwrap(), one);
    let expected_bits = one.expected_shortfall.to_bits();
    assert_eq!(
        run_study_with_threads(&config, 2)
            .unwrap()
            .expected_shortfall
            .to_bits(),
        expected_bits
    );
    let other = run_study(&StudyConfig { seed: 6, ..config }).unwrap();
    assert_ne!(other, one);
}

#[test]
fn intervals_contain_the_estimate_and_narrow_with_paths() {
    let small = run_study(&StudyConfig {
        paths: 10_000,
        ..StudyConfig::default()
    })
    .unwrap();
    let large = run_study(&StudyConfig {
        paths: 100_000,
        ..StudyConfig::default()
    })
    .unwrap();
    for result in [&small, &large] {
        let p = result.shortfall_at_end;
        assert!(p.low < p.estimate && p.estimate < p.high, "{p:?}");
    }
    let width = |result: &StudyResult| result.shortfall_at_end.high - result.shortfall_at_end.low;
    assert!(width(&large) < width(&small) / 2.0);
}

#[test]
fn wilson_interval_values() {
    let (low, high) = wilson_interval(37, 100, 0.95).unwrap();
    assert_close("low", low, 0.281_823_605_343_245_24, 1e-12);
    assert_close("high", high, 0.467_794_704_190_570_9, 1e-12);
    let (low, high) = wilson_interval(0, 100, 0.95).unwrap();
    assert_eq!(low, 0.0);
    assert!(high > 0.0 && high < 0.05);
    let (low, high) = wilson_interval(100, 100, 0.95).unwrap();
    assert_eq!(high, 1.0);
    assert!(low > 0.95 && low < 1.0);
    let narrow = wilson_interval(500, 10_000, 0.95).unwrap();
    let wide = wilson_interval(50, 1_000, 0.95).unwrap();
    assert!(narrow.1 - narrow.0 < wide.1 - wide.0);
    for (low, high) in [narrow, wide] {
        assert!(low < 0.05 && 0.05 < high);
    }
    assert_eq!(
        wilson_interval(0, 0, 0.95),
        Err(RiskError::NotEnoughData { needed: 1, have: 0 })
    );
    assert!(matches!(
        wilson_interval(3, 2, 0.95),
        Err(RiskError::InvalidParameter { .. })
    ));
    assert!(matches!(
        wilson_interval(1, 2, 1.0),
        Err(RiskError::InvalidConfidence { .. })
    ));
}

#[test]
fn config_serde_defaults_and_unknown_fields() {
    let config: StudyConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, StudyConfig::default());
    assert!(config.stressed);
    assert_eq!(config.initial_ltv, 0.75);
    assert_eq!(config.horizon_ms, DAY_MS);
    assert_eq!((config.steps, config.paths), (24, 100_000));
    let config: StudyConfig =
        serde_json::from_str(r#"{"initial_ltv": 0.8, "liquidation_ltv": 0.9, "paths": 1000}"#)
            .unwrap();
    assert_eq!(config.liquidation_ltv, Some(0.9));
    assert!(serde_json::from_str::<StudyConfig>(r#"{"ltv": 0.8}"#).is_err());
    assert!(serde_json::from_str::<StudyConfig>(r#"{"model": {"volatility": 0.5}}"#).is_err());
    // The result serializes and reads back identically.
    let result = run_study(&StudyConfig {
        paths: 2_000,
        liquidation_ltv: Some(0.8),
        ..config
    })
    .unwrap();
    let json = serde_json::to_string(&result).unwrap();
    assert_eq!(serde_json::from_str::<StudyResult>(&json).unwrap(), result);
}

#[test]
fn config_errors_are_typed() {
    let bad = |config: StudyConfig| run_study(&config).unwrap_err();
    let base = StudyConfig {
        paths: 100,
        ..StudyConfig::default()
    };
    assert!(matches!(
        bad(StudyConfig {
            initial_ltv: 0.0,
            ..base.clone()
        }),
        RiskError::InvalidParameter {
            name: "initial_ltv",
            ..
        }
    ));
    assert!(matches!(
        bad(StudyConfig {
            liquidation_ltv: Some(f64::NAN),
            ..base.clone()
        }),
        RiskError::InvalidParameter {
            name: "liquidation_ltv",
            ..
        }
    ));
    assert!(matches!(
        bad(StudyConfig {
            horizon_ms: 0,
            ..base.clone()
        }),
        RiskError::InvalidHorizon { horizon_ms: 0, .. }
    ));
    assert!(matches!(
        bad(StudyConfig {
            steps: 0,
            ..base.clone()
        }),
        RiskError::InvalidParameter { name: "steps", .. }
    ));
    assert!(matches!(
        bad(StudyConfig {
            paths: 0,
            ..base.clone()
        }),
        RiskError::InvalidParameter { name: "paths", .. }
    ));
    assert!(matches!(
        bad(StudyConfig {
            histogram_min: 1.0,
            ..base.clone()
        }),
        RiskError::InvalidParameter { .. }
    ));
    let model = JumpDiffusion {
        jump_stdev: -1.0,
        ..JumpDiffusion::default()
    };
    assert!(matches!(
        bad(StudyConfig { model, ..base }),
        RiskError::InvalidParameter {
            name: "jump_stdev",
            ..
        }
    ));
}

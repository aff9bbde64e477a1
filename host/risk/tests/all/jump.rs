//! Fitting, stressing and sampling the jump-diffusion.

use stratbox_risk::{HOUR_MS, JumpDiffusion, RiskError};

use crate::assert_close;

const FIVE_MINUTES: u64 = 300_000;

#[test]
fn fit_recovers_known_jump_parameters() {
    let truth = JumpDiffusion {
        drift: 0.1,
        volatility: 0.8,
        jump_intensity: 500.0,
        jump_mean: -0.05,
        jump_stdev: 0.02,
    };
    // A year of 5-minute returns: about 500 jumps.
    let returns = truth
        .simulate_horizon_returns(FIVE_MINUTES, 105_120, 11, 1)
        .unwrap();
    let fit = JumpDiffusion::fit_with(&returns, FIVE_MINUTES, 4.0).unwrap();
    assert!(fit.converged, "{fit:?}");
    assert_eq!(fit.returns, 105_120);
    let model = fit.model;
    assert_close("volatility", model.volatility, 0.8, 0.03 * 0.8);
    assert_close("jump_intensity", model.jump_intensity, 500.0, 0.15 * 500.0);
    assert_close("jump_mean", model.jump_mean, -0.05, 0.005);
    assert_close("jump_stdev", model.jump_stdev, 0.02, 0.005);
    assert_eq!(JumpDiffusion::fit(&returns, FIVE_MINUTES).unwrap(), model);
    // The fitted model reproduces the sample mean log return.
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    assert_close("mean", model.mean_log_return(FIVE_MINUTES), mean, 1e-12);
}

#[test]
fn fit_recovers_drift_and_volatility_without_jumps() {
    let truth = JumpDiffusion {
        drift: 0.5,
        volatility: 0.1,
        jump_intensity: 0.0,
        jump_mean: 0.0,
        jump_stdev: 0.0,
    };
    // Five years of hourly returns: drift standard error 0.1 / sqrt(5).
    let returns = truth
        .simulate_horizon_returns(HOUR_MS, 5 * 8760, 12, 1)
        .unwrap();
    let fit = JumpDiffusion::fit_with(&returns, HOUR_MS, 4.0).unwrap();
    let model = fit.model;
    assert_close("volatility", model.volatility, 0.1, 0.02 * 0.1);
    assert_close("drift", model.drift, 0.5, 0.15);
    // A 4-sigma threshold flags about 3 in 43 800 normal returns, which the
    // intensity discounts.
    assert_close("false jumps", fit.expected_false_jumps, 2.774, 0.001);
    assert!(fit.jumps <= 10, "{fit:?}");
    assert!(model.jump_intensity < 2.0, "{model:?}");
}

#[test]
fn fit_errors_are_typed() {
    assert_eq!(
        JumpDiffusion::fit(&[0.01; 10], HOUR_MS),
        Err(RiskError::NotEnoughData {
            needed: 20,
            have: 10
        })
    );
    assert_eq!(
        JumpDiffusion::fit(&[], HOUR_MS),
        Err(RiskError::NotEnoughData {
            needed: 20,
            have: 0
        })
    );
    assert_eq!(
        JumpDiffusion::fit(&[0.01; 30], 0),
        Err(RiskError::InvalidInterval)
    );
    let mut returns = vec![0.01; 30];
    returns[4] = f64::INFINITY;
    assert!(matches!(
        JumpDiffusion::fit(&returns, HOUR_MS),
        Err(RiskError::InvalidValue { index: 4, .. })
    ));
    assert!(matches!(
        JumpDiffusion::fit_with(&[0.01; 30], HOUR_MS, 0.0),
        Err(RiskError::InvalidParameter {
            name: "threshold",
            ..
        })
    ));
}

#[test]
fn constant_returns_fit_without_volatility() {
    let mut returns = vec![0.001; 100];
    returns[50] = -0.2;
    let fit = JumpDiffusion::fit_with(&returns, HOUR_MS, 4.0).unwrap();
    assert_eq!(fit.jumps, 1);
    assert!(fit.model.volatility < 1e-12, "{fit:?}");
    assert_close("jump_mean", fit.model.jump_mean, -0.201, 1e-15);
    assert_eq!(fit.model.jump_stdev, 0.0);
}

#[test]
fn stressed_is_the_black_swan_scenario() {
    let base = JumpDiffusion::default();
    let stressed = base.stressed();
    assert_eq!(stressed.jump_intensity, 100.0 * base.jump_intensity);
    assert_eq!(stressed.jump_mean, 0.8f64.ln());
    assert_eq!(stressed.jump_stdev, base.jump_stdev);
    assert_eq!(stressed.volatility, base.volatility);
    assert_eq!(stressed.drift, base.drift);
}

#[test]
fn simulation_is_seeded_and_has_the_model_moments() {
    let model = JumpDiffusion::default().stressed();
    let a = model
        .simulate_horizon_returns(HOUR_MS, 50_000, 9, 1)
        .unwrap();
    assert_eq!(
        a,
        model
            .simulate_horizon_returns(HOUR_MS, 50_000, 9, 1)
            .unwrap()
    );
    assert_ne!(
        a,
        model
            .simulate_horizon_returns(HOUR_MS, 50_000, 10, 1)
            .unwrap()
    );
    // A prefix of paths is the same whatever the total.
    assert_eq!(
        a[..5_000],
        model
            .simulate_horizon_returns(HOUR_MS, 5_000, 9, 1)
            .unwrap()[..]
    );
    let horizon = 24 * HOUR_MS;
    for substeps in [1, 6] {
        let samples = model
            .simulate_horizon_returns(horizon, 100_000, 3, substeps)
            .unwrap();
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let variance = samples.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let expected_variance = model.log_return_variance(horizon);
        let standard_error = (expected_variance / n).sqrt();
        assert_close(
            "mean",
            mean,
            model.mean_log_return(horizon),
            4.0 * standard_error,
        );
        assert_close(
            "variance",
            variance,
            expected_variance,
            0.03 * expected_variance,
        );
    }
}

#[test]
fn simulation_errors_are_typed() {
    let model = JumpDiffusion::default();
    assert!(matches!(
        model.simulate_horizon_returns(0, 10, 0, 1),
        Err(RiskError::InvalidHorizon { horizon_ms: 0, .. })
    ));
    assert!(matches!(
        model.simulate_horizon_returns(HOUR_MS, 10, 0, 0),
        Err(RiskError::InvalidParameter {
            name: "substeps",
            ..
        })
    ));
    let bad = JumpDiffusion {
        volatility: -0.1,
        ..model
    };
    assert!(matches!(
        bad.simulate_horizon_returns(HOUR_MS, 10, 0, 1),
        Err(RiskError::InvalidParameter {
            name: "volatility",
            ..
        })
    ));
    assert!(matches!(
        JumpDiffusion {
            jump_mean: f64::NAN,
            ..model
        }
        .validate(),
        Err(RiskError::InvalidParameter {
            name: "jump_mean",
            ..
        })
    ));
}

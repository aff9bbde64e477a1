//! The standard normal distribution and its AS 241 inverse.

use stratbox_risk::{inverse_normal_cdf, normal_cdf, normal_pdf};

use crate::assert_close;

#[test]
fn inverse_matches_known_quantiles() {
    assert_close("z95", inverse_normal_cdf(0.95), 1.6448536269514722, 1e-9);
    assert_close("z99", inverse_normal_cdf(0.99), 2.3263478740408408, 1e-9);
    // Reference values from 40-digit arithmetic (mpmath), one per branch:
    // centre, near tail (r <= 5), far tail (r > 5).
    let cases = [
        (0.5, 0.0),
        (0.6, 0.253_347_103_135_799_8),
        (0.975, 1.959_963_984_540_054_2),
        (0.999, 3.090_232_306_167_813_5),
        (0.075, -1.439_531_470_938_456),
        (1e-5, -4.264_890_793_922_825),
        (1e-10, -6.361_340_902_404_056),
        (1e-15, -7.941_345_326_170_997),
    ];
    for (p, z) in cases {
        assert_close(
            &format!("z({p})"),
            inverse_normal_cdf(p),
            z,
            1e-12 * z.abs().max(1.0),
        );
    }
}

#[test]
fn inverse_is_odd_and_inverts_the_cdf() {
    for i in 1..200 {
        let p = f64::from(i) / 200.0;
        let z = inverse_normal_cdf(p);
        assert_close("symmetry", z, -inverse_normal_cdf(1.0 - p), 1e-12);
        assert_close("round trip", normal_cdf(z), p, 1e-14);
    }
}

#[test]
fn inverse_edges() {
    assert_eq!(inverse_normal_cdf(0.0), f64::NEG_INFINITY);
    assert_eq!(inverse_normal_cdf(1.0), f64::INFINITY);
    assert!(inverse_normal_cdf(-0.1).is_nan());
    assert!(inverse_normal_cdf(1.1).is_nan());
    assert!(inverse_normal_cdf(f64::NAN).is_nan());
}

#[test]
fn cdf_and_pdf_match_known_values() {
    let cases = [
        (0.5, 0.691_462_461_274_013_1),
        (1.0, 0.841_344_746_068_542_9),
        (-1.5, 0.066_807_201_268_858_07),
        (3.0, 0.998_650_101_968_369_9),
        (-5.0, 2.866_515_718_791_939e-7),
        (7.5, 0.999_999_999_999_968_1),
        (-8.5, 9.479_534_822_203_318e-18),
    ];
    for (x, p) in cases {
        assert_close(&format!("Phi({x})"), normal_cdf(x), p, 1e-15);
    }
    assert_close(
        "Phi(-8.5) relative",
        normal_cdf(-8.5) / 9.479_534_822_203_318e-18,
        1.0,
        1e-6,
    );
    assert_close("phi(0)", normal_pdf(0.0), 0.398_942_280_401_432_7, 1e-16);
    assert_close("phi(1)", normal_pdf(1.0), 0.241_970_724_519_143_37, 1e-16);
}

//! A policy that cannot be used is refused with the file, the line and the
//! reason; nothing is half-loaded.

use std::path::Path;

use stratbox_policy::{PolicyFileError, parse};
use stratbox_runtime::policy::PolicyError;

use crate::demo_assets;

fn refuse(text: &str) -> PolicyFileError {
    parse(text, Path::new("policies/p.toml"), &demo_assets()).unwrap_err()
}

#[test]
fn an_unknown_token_is_refused_at_its_line() {
    let text = "version = 1\nchains = [0]\n\n[swap]\ntokens = [\n    \"ETH\",\n    \"USDC\",\n]\n";
    let error = refuse(text);
    match &error {
        PolicyFileError::Rule {
            file,
            line,
            source: PolicyError::UnknownToken { token, .. },
            ..
        } => {
            assert_eq!(file, Path::new("policies/p.toml"));
            assert_eq!(*line, 7);
            assert_eq!(token, "USDC");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "policies/p.toml:7:5: swap.tokens[1]: unknown token `USDC` (the deployment's assets are: BTC, ETH)"
    );
}

#[test]
fn an_unknown_token_key_is_refused_at_its_line() {
    let text = "version = 1\nchains = [0]\n[swap.max_amount]\nETH = \"1\"\nDOGE = \"5\"\n";
    match refuse(text) {
        PolicyFileError::Rule { line, source, .. } => {
            assert_eq!(line, 5);
            assert_eq!(source.path().to_string(), "swap.max_amount.DOGE");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn syntax_and_shape_errors_name_the_line() {
    match refuse("version = 1\nchains = [0]\n[swap]\nmax_slipage_bps = 30\n") {
        PolicyFileError::Syntax { line, message, .. } => {
            assert_eq!(line, 4);
            assert!(
                message.contains("unknown field `max_slipage_bps`"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    match refuse("version = 1\nchains = [0]\n[swap\n") {
        PolicyFileError::Syntax { line, .. } => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    match refuse("version = 1\nchains = [0]\n[swap]\nmax_amount = { ETH = \"1.2.3\" }\n") {
        PolicyFileError::Syntax { line, message, .. } => {
            assert_eq!(line, 4);
            assert!(message.contains("not a decimal number"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match refuse("version = 1\nchains = [0]\n[swap]\ncooldown = \"soon\"\n") {
        PolicyFileError::Syntax { line, message, .. } => {
            assert_eq!(line, 4);
            assert!(message.contains("not a duration"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match refuse("[swap]\n") {
        PolicyFileError::Syntax { message, .. } => {
            assert!(message.contains("version"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn amounts_finer_than_the_token_are_refused() {
    let text = "version = 1\nchains = [0]\n[swap]\nmax_amount = { BTC = \"0.000000001\" }\n";
    match refuse(text) {
        PolicyFileError::Rule {
            line,
            source: PolicyError::Amount { .. },
            ..
        } => assert_eq!(line, 4),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_file_is_named() {
    let error =
        stratbox_policy::load(Path::new("does/not/exist.toml"), &demo_assets()).unwrap_err();
    assert!(matches!(error, PolicyFileError::Read { .. }));
    assert!(error.to_string().contains("does/not/exist.toml"), "{error}");
}

#[test]
fn an_unusable_var_limit_is_refused_at_its_line() {
    let text = "version = 1\nchains = [0]\nquote = \"BTC\"\n[swap]\n\n[risk.max_var]\nmethod = \"monte_carlo\"\nmax_fraction = 0.05\n";
    let error = refuse(text);
    match &error {
        PolicyFileError::Rule {
            line,
            source: PolicyError::Invalid { path, .. },
            ..
        } => {
            assert_eq!(*line, 7);
            assert_eq!(path.to_string(), "risk.max_var.method");
        }
        other => panic!("{other:?}"),
    }
    let text = "version = 1\nchains = [0]\nquote = \"BTC\"\n[risk.max_var]\nmax_fraction = 0.05\nconfidence = 1.5\n";
    match refuse(text) {
        PolicyFileError::Rule { line, source, .. } => {
            assert_eq!(line, 6);
            assert_eq!(source.path().to_string(), "risk.max_var.confidence");
        }
        other => panic!("{other:?}"),
    }
}

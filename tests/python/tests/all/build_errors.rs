//! Building broken Python strategies fails with a typed error naming the
//! file and line, not a panic; the same through the CLI's builder.

use std::path::Path;

use stratbox_builder::{BuildError, PythonStrategy, PythonToolchain};

use crate::support::repo_root;

fn build(fixture: &str) -> (BuildError, std::path::PathBuf) {
    let root = repo_root();
    let dir = root.join("strategies/python/fixtures").join(fixture);
    let strategy = PythonStrategy::locate(&dir).unwrap();
    let toolchain = PythonToolchain::find(&[&root]).unwrap();
    let error = strategy
        .build_component(&toolchain)
        .expect_err("the fixture must not build");
    (error, strategy.dir().join("strategy.py"))
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let (error, file) = build("syntax-error");
    let BuildError::PythonSyntax { at, message } = &error else {
        panic!("{error:?}");
    };
    assert_eq!((at.file.as_path(), at.line), (file.as_path(), Some(8)));
    assert!(!message.is_empty());
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:8: syntax error: ", file.display()))
    );
}

#[test]
fn a_module_without_a_strategy_class_is_named() {
    let (error, file) = build("missing-class");
    assert!(
        matches!(&error, BuildError::MissingStrategyClass { file: f } if f == &file),
        "{error:?}"
    );
}

#[test]
fn bindings_of_another_world_are_a_wrong_world_error() {
    let (error, file) = build("wrong-world");
    assert!(
        matches!(&error, BuildError::WrongWorld { at, module }
            if at.file == file && at.line == Some(5) && module == "wit_world.imports.wall_clock"),
        "{error:?}"
    );
}

#[test]
fn a_module_that_raises_at_import_names_the_line() {
    let (error, file) = build("raises-at-import");
    assert!(
        matches!(&error, BuildError::PythonImport { at, exception, .. }
            if at.file == file && at.line == Some(7) && exception == "ZeroDivisionError"),
        "{error:?}"
    );
}

#[test]
fn a_directory_without_strategy_py_is_not_a_python_strategy() {
    let error = PythonStrategy::locate(Path::new("strategies/rust/rsi-momentum")).unwrap_err();
    assert!(
        matches!(error, BuildError::NotAStrategy { .. }),
        "{error:?}"
    );
}

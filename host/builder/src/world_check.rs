//! A built component may import nothing but the stratbox world.

use wasmparser::{Parser, Payload};

use crate::error::BuildError;

/// Package whose interfaces a strategy may import.
const WORLD_PACKAGE: &str = "stratbox:strategy/";

/// Refuse a component whose top-level imports reach outside the stratbox
/// world (e.g. WASI, when a build did not stub it out).
pub(crate) fn check_world_imports(component: &[u8]) -> Result<(), BuildError> {
    let malformed = |e: wasmparser::BinaryReaderError| BuildError::Componentize {
        module: "<built component>".into(),
        reason: e.to_string(),
    };
    let mut foreign = Vec::new();
    // Nested modules and components open deeper levels whose imports are
    // satisfied inside the component.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        match payload.map_err(malformed)? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    let name = import.map_err(malformed)?.name.name;
                    if !name.starts_with(WORLD_PACKAGE) {
                        foreign.push(name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(BuildError::ForeignImports { imports: foreign })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::componentize::dummy_component;

    const WORLD: &str = include_str!("../../../wit/strategy.wit");

    #[test]
    fn the_stratbox_world_passes() {
        let component = dummy_component(&[], WORLD, "strategy-world").expect("dummy component");
        check_world_imports(&component).expect("only stratbox imports");
    }

    #[test]
    fn foreign_imports_are_named() {
        let world = "package fixture:clock;\n\ninterface wall { now: func() -> u64; }\n\nworld w {\n    import wall;\n    import stratbox:strategy/oracle@0.2.1;\n}\n";
        let component = dummy_component(&[WORLD], world, "w").expect("dummy component");
        match check_world_imports(&component) {
            Err(BuildError::ForeignImports { imports }) => {
                assert_eq!(imports, vec!["fixture:clock/wall".to_owned()]);
            }
            other => panic!("expected ForeignImports, got {other:?}"),
        }
    }
}

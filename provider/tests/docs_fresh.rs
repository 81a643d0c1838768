//! `docs/` must be exactly what `gen-docs` renders from the provider's schemas and `examples/`.
use std::path::Path;

#[test]
fn docs_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pages = terraform_provider_momento::docs::render_all(&root.join("examples"));
    let mut stale = Vec::new();
    for (rel, want) in &pages {
        let path = root.join("docs").join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "docs/ is stale for {stale:?}: run `make docs` and commit the result"
    );
}

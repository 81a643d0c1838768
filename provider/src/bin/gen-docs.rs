//! `gen-docs`: writes `docs/` (registry layout) from the provider's schemas and `examples/`.
//! Usage: `gen-docs [REPO_ROOT]` (default: the current directory).
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let pages = terraform_provider_momento::docs::render_all(&root.join("examples"));
    for (rel, text) in pages {
        let path = root.join("docs").join(&rel);
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("gen-docs: creating {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("gen-docs: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

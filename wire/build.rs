//! Compiles the shared `.proto` files with protox (pure Rust, no `protoc` binary).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/webhook.proto",
        "proto/cacheping.proto",
        "proto/topics.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}

//! Compiles the mock's own `.proto` files (services momento-protos does not ship) with protox:
//! pure Rust, no `protoc` binary.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/cacheping.proto"];
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

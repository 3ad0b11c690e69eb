//! Compiles `huren/v1/*.proto` with protox (pure Rust, no `protoc`) and keeps the
//! encoded descriptor set for server reflection.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "huren/v1/common.proto",
        "huren/v1/recognition.proto",
        "huren/v1/manifests.proto",
        "huren/v1/fanout.proto",
        "huren/v1/coordination.proto",
        "huren/v1/federation_summary.proto",
        "huren/v1/registry.proto",
        "huren/v1/status_lists.proto",
        "huren/v1/federation.proto",
        "huren/v1/witness.proto",
        "huren/v1/lookup.proto",
        "huren/v1/appeals.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let fds = protox::compile(files, ["."])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("huren_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}

//! `lede` links libtorch, and the root build script sets its rpath only on lede's own binaries.
//! The fuzz binaries need the same rpath to start without LD_LIBRARY_PATH. The paths come from
//! the root `.cargo/config.toml` [env] (absolute there, because `relative = true`).
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LEDE_LIBTORCH_ROOT");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let root = PathBuf::from(
        std::env::var("LEDE_LIBTORCH_ROOT").unwrap_or_else(|_| "../.deps/libtorch".into()),
    );
    let torch = std::env::var("LIBTORCH")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("torch"));
    println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
    for dir in [
        torch.join("lib"),
        root.join("nvidia/cuda_runtime/lib"),
        root.join("nvidia/cuda_cupti/lib"),
    ] {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}

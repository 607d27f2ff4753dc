//! Points the binary at the libtorch that `scripts/setup` unpacked, so nothing has to be exported.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LEDE_LIBTORCH_ROOT");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let root = PathBuf::from(
        std::env::var("LEDE_LIBTORCH_ROOT").unwrap_or_else(|_| ".deps/libtorch".into()),
    );
    let torch = std::env::var("LIBTORCH")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("torch"));
    if !torch.join("lib").join("libtorch_cpu.so").exists() {
        panic!(
            "\n\nlibtorch not found at {}.\nRun `scripts/setup` first: it installs libtorch 2.4.0 (CPU) and the default models.\n",
            torch.display()
        );
    }
    // DT_RPATH (not RUNPATH) so libtorch_cpu.so also finds libcudart/libcupti beside it.
    println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
    for dir in [
        torch.join("lib"),
        root.join("nvidia/cuda_runtime/lib"),
        root.join("nvidia/cuda_cupti/lib"),
    ] {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}

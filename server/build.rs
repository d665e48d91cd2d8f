//! The server embeds the built site (`target/site`, written by Trunk). Make sure the folder exists
//! so the server also builds (serving no bundle) before the first front-end build, and rebuild
//! whenever the site changes.

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let site = std::path::Path::new(&manifest).join("../target/site");
    std::fs::create_dir_all(site.join("pkg")).expect("create target/site/pkg");
    println!("cargo:rerun-if-changed={}", site.display());
}

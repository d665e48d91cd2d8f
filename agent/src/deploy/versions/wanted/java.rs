//! The Java release an app's build compiles for, read from Maven's `pom.xml` or a Gradle build
//! file: Java is the runtime whose version hides in the most places, so it has its own module.

use std::path::Path;

use super::read;

/// The Java release the build compiles for, which any JDK of that version or newer can build.
pub(super) fn java(dir: &Path) -> Option<(String, String)> {
    let (n, source) = pom(dir)
        .or_else(|| gradle(dir, "build.gradle.kts"))
        .or_else(|| gradle(dir, "build.gradle"))?;
    Some((format!(">={n}"), source))
}

/// `8` for `1.8`, `17` for `17`.
fn java_release(v: &str) -> Option<String> {
    let v = v.trim().trim_matches(['\'', '"']);
    let v = v.strip_prefix("1.").filter(|r| !r.is_empty()).unwrap_or(v);
    let n: String = v.chars().take_while(char::is_ascii_digit).collect();
    (!n.is_empty()).then_some(n)
}

fn pom(dir: &Path) -> Option<(String, String)> {
    let pom = read(dir, "pom.xml")?;
    let tag = |name: &str| {
        let start = pom.find(&format!("<{name}>"))? + name.len() + 2;
        let end = pom[start..].find('<')? + start;
        Some(pom[start..end].trim().to_owned())
    };
    [
        "maven.compiler.release",
        "release",
        "java.version",
        "maven.compiler.source",
    ]
    .into_iter()
    .find_map(|name| {
        let mut v = tag(name)?;
        // `<release>${java.version}</release>`: one level of property.
        if let Some(prop) = v.strip_prefix("${").and_then(|p| p.strip_suffix('}')) {
            v = tag(prop)?;
        }
        Some((java_release(&v)?, format!("<{name}> in pom.xml")))
    })
}

fn gradle(dir: &Path, file: &str) -> Option<(String, String)> {
    let text = read(dir, file)?;
    let after = |needle: &str| {
        let i = text.find(needle)? + needle.len();
        Some(&text[i..])
    };
    if let Some(v) = after("JavaLanguageVersion.of(").and_then(java_release) {
        return Some((v, format!("JavaLanguageVersion.of in {file}")));
    }
    if let Some(v) = after("jvmToolchain(").and_then(java_release) {
        return Some((v, format!("jvmToolchain in {file}")));
    }
    for needle in ["sourceCompatibility", "targetCompatibility"] {
        let Some(rest) = after(needle) else { continue };
        let value = rest.trim_start().trim_start_matches('=').trim_start();
        let value = value.strip_prefix("JavaVersion.").unwrap_or(value);
        let value = value
            .strip_prefix("VERSION_")
            .map_or_else(|| value.to_owned(), |v| v.replacen("1_", "1.", 1));
        if let Some(v) = java_release(&value) {
            return Some((v, format!("{needle} in {file}")));
        }
    }
    None
}

//! Java: Maven or Gradle (their wrappers when committed), then the application jar, with
//! `SERVER_PORT` set as Spring Boot reads it.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Plan, Step};

pub(super) fn plan(dir: &Path) -> Plan {
    let has = |name: &str| dir.join(name).is_file();
    // The jar's name comes from the build file, so the start command finds it after the build,
    // skipping the side artifacts both tools put beside it.
    let (build, why, jars, toolchain) = if has("pom.xml") {
        if has("mvnw") {
            (
                "sh ./mvnw -q -DskipTests package",
                "pom.xml and the Maven wrapper",
                "target",
                vec!["java"],
            )
        } else {
            (
                "mvn -q -DskipTests package",
                "pom.xml",
                "target",
                vec!["java", "mvn"],
            )
        }
    } else if has("gradlew") {
        (
            "sh ./gradlew build -x test",
            "the Gradle wrapper",
            "build/libs",
            vec!["java"],
        )
    } else {
        (
            "gradle build -x test",
            "build.gradle",
            "build/libs",
            vec!["java", "gradle"],
        )
    };
    let start = format!(
        "java -jar \"$(ls {jars}/*.jar | grep -v -e '-plain\\.jar$' -e '-sources\\.jar$' \
         -e '-javadoc\\.jar$' -e '/original-' | head -n 1)\""
    );
    Plan {
        build: vec![Step::new(build, why)],
        start: Some(Step::new(start, format!("the application jar in {jars}/"))),
        toolchain: toolchain.into_iter().map(Into::into).collect(),
        port_env: vec![("SERVER_PORT".into(), "$PORT".into())],
        ..Plan::empty(ServiceKind::Web)
    }
}

//! "Firefox 128 on Linux": the browser and system of a session or a sign-in, summarised from its
//! `User-Agent` so a person recognises their own devices. A small hand-written reader instead of
//! a user-agent database crate: the list only has to tell a person's few devices apart, and the
//! order of the checks below is what real strings need (Edge and Opera say "Chrome", Chrome says
//! "Safari", Android says "Linux", iOS says "Mac OS X").

/// Browsers, most specific first: `(token in the string, name)`.
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
];

/// Systems, most specific first.
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
];

/// Programs that are not browsers, by the product they start with.
const PROGRAMS: &[(&str, &str)] = &[
    ("dployr-cli/", "dployr CLI"),
    ("curl/", "curl"),
    ("reqwest", "a script"),
    ("python-requests/", "a Python script"),
    ("node", "a Node.js script"),
    ("Go-http-client/", "a Go program"),
];

/// The summary shown for a session or sign-in; "Unknown device" when the string says nothing
/// we know.
pub fn summarize(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or("").trim();
    if ua.is_empty() {
        return "Unknown device".into();
    }
    if let Some((_, name)) = PROGRAMS.iter().find(|(p, _)| ua.starts_with(p)) {
        return name.to_string();
    }
    let browser = BROWSERS.iter().find(|(token, _)| ua.contains(token));
    let system = SYSTEMS.iter().find(|(token, _)| ua.contains(token));
    let browser =
        browser.map(
            |(token, name)| match version_after(ua, token.trim_end_matches('/')) {
                Some(v) => format!("{name} {v}"),
                None => name.to_string(),
            },
        );
    match (browser, system) {
        (Some(b), Some((_, s))) => format!("{b} on {s}"),
        (Some(b), None) => b,
        (None, Some((_, s))) => format!("A browser on {s}"),
        (None, None) => "Unknown device".into(),
    }
}

/// The major version after `product/` in `ua` ("128" of "Firefox/128.0").
fn version_after(ua: &str, product: &str) -> Option<String> {
    let start = ua.find(&format!("{product}/"))? + product.len() + 1;
    let major: String = ua[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!major.is_empty()).then_some(major)
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn real_browsers_read_as_people_know_them() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox 128 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131 on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
                "Safari 17 on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
                "Chrome 131 on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131 on Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
                "Headless Chrome 156 on Linux",
            ),
        ];
        for (ua, want) in cases {
            assert_eq!(summarize(Some(ua)), want, "{ua}");
        }
    }

    #[test]
    fn programs_and_nothing_are_named_plainly() {
        assert_eq!(summarize(Some("dployr-cli/0.9.1")), "dployr CLI");
        assert_eq!(summarize(Some("curl/8.5.0")), "curl");
        assert_eq!(summarize(Some("reqwest/0.12")), "a script");
        assert_eq!(summarize(None), "Unknown device");
        assert_eq!(summarize(Some("  ")), "Unknown device");
        assert_eq!(summarize(Some("SomethingElse")), "Unknown device");
    }
}

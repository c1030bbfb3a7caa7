//! The context attributes derived from the page's plain inputs (acquisition channel,
//! device type, a URL's host), shared with the full engine's `context` module.

/// Where `word` (not empty) first occurs in `text`: a plain byte search (the texts are
/// short, and `str::find` brings ~2 KB of searcher).
pub fn find(text: &[u8], word: &[u8]) -> Option<usize> {
    text.windows(word.len()).position(|w| w == word)
}

/// The host name of a URL without a leading `www.`, not yet lower-cased (empty when
/// there is none): the caller lower-cases it with `to_ascii_lowercase`.
pub fn url_host_raw(url: &str) -> &str {
    // Byte by byte: every delimiter is ASCII, so each cut is on a character boundary
    // (and this is far smaller in the first module than `str::split`).
    let b = url.as_bytes();
    let Some(start) = find(b, b"://").map(|i| i + 3) else {
        return "";
    };
    let end = start + b[start..].iter().position(|&c| matches!(c, b'/' | b'?' | b'#')).unwrap_or(b.len() - start);
    let from = b[start..end].iter().rposition(|&c| c == b'@').map_or(start, |i| start + i + 1);
    let to = from + b[from..end].iter().position(|&c| c == b':').unwrap_or(end - from);
    let from = if to - from >= 4 && b[from..from + 4].eq_ignore_ascii_case(b"www.") { from + 4 } else { from };
    url.get(from..to).unwrap_or("")
}

/// Whether `url_host_raw(a)` and `url_host_raw(b)` are the same host, ignoring ASCII case.
fn same_host(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Search engines: a pattern ending in a dot is a label anywhere in the host.
pub const SEARCH_ENGINES: &[&str] = &[
    "google.",
    "bing.",
    "yahoo.",
    "duckduckgo.",
    "baidu.",
    "yandex.",
    "ecosia.",
    "qwant.",
    "startpage.",
    "search.brave.",
];
/// Social networks (same pattern rules as [`SEARCH_ENGINES`]).
pub const SOCIAL_NETWORKS: &[&str] = &[
    "facebook.",
    "instagram.",
    "t.co",
    "twitter.",
    "x.com",
    "linkedin.",
    "lnkd.in",
    "pinterest.",
    "reddit.",
    "tiktok.",
    "youtube.",
    "mastodon.",
    "threads.net",
    "bsky.app",
];

/// Whether `host` matches one of `patterns` (lower-case), ignoring ASCII case: a
/// pattern ending in a dot (`google.`) is a label anywhere in the host (google.fr,
/// www.google.co.uk); any other (`t.co`) is the host or one of its parent domains
/// (t.co, x.t.co).
pub fn host_matches(host: &[u8], patterns: &[&str]) -> bool {
    let at = |i: usize, p: &[u8]| {
        host.get(i..i + p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    patterns.iter().any(|p| {
        let p = p.as_bytes();
        if p.ends_with(b".") {
            (0..host.len()).any(|i| (i == 0 || host[i - 1] == b'.') && at(i, p))
        } else {
            host.len() >= p.len()
                && at(host.len() - p.len(), p)
                && (host.len() == p.len() || host[host.len() - p.len() - 1] == b'.')
        }
    })
}

/// The acquisition channel, as the string conditions see: `direct`, `organic_search`,
/// `paid_search`, `social`, `email`, `display` or `referral`. `param(name)` is the first
/// query parameter of that name.
pub fn channel<'q>(
    param: &dyn Fn(&str) -> Option<&'q str>,
    url: &str,
    referrer: &str,
) -> &'static str {
    let lower_is = |v: Option<&str>, list: &[&str]| {
        v.is_some_and(|v| list.iter().any(|w| v.eq_ignore_ascii_case(w)))
    };
    let medium = param("utm_medium");
    let referrer_host = url_host_raw(referrer);
    let self_referral = !referrer_host.is_empty() && same_host(referrer_host, url_host_raw(url));
    if param("gclid").is_some()
        || param("msclkid").is_some()
        || lower_is(medium, &["cpc", "ppc", "paidsearch", "paid_search", "sem"])
    {
        return "paid_search";
    }
    if lower_is(medium, &["email", "newsletter"]) {
        return "email";
    }
    if lower_is(medium, &["display", "banner", "cpm", "programmatic"]) {
        return "display";
    }
    if lower_is(
        medium,
        &["social", "social-network", "social_media", "paid_social"],
    ) || param("fbclid").is_some()
    {
        return "social";
    }
    if referrer_host.is_empty() || self_referral {
        return if medium.map_or(true, str::is_empty) {
            "direct"
        } else {
            "referral"
        };
    }
    if host_matches(referrer_host.as_bytes(), SEARCH_ENGINES) {
        return "organic_search";
    }
    if host_matches(referrer_host.as_bytes(), SOCIAL_NETWORKS) {
        return "social";
    }
    "referral"
}

/// "mobile", "tablet" or "desktop", from the user agent, then the viewport width.
pub fn device_type(user_agent: &str, viewport_width: u32) -> &'static str {
    let has = |word: &[u8]| {
        let ua = user_agent.as_bytes();
        ua.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word))
    };
    if has(b"ipad") || has(b"tablet") || (has(b"android") && !has(b"mobile")) {
        "tablet"
    } else if has(b"mobi")
        || has(b"iphone")
        || has(b"ipod")
        || (viewport_width > 0 && viewport_width < 768)
    {
        "mobile"
    } else {
        "desktop"
    }
}

/// Weekday names, 0 = Sunday.
pub const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

//! The context attributes derived from the page's plain inputs (acquisition channel,
//! device type, a URL's host), shared with the full engine's `context` module.
//!
//! The first module works on UTF-8 bytes (no validation code; every cut here is at an
//! ASCII delimiter); the `&str` functions are the full engine's entry points.

use alloc::vec::Vec;

/// Where `word` (not empty) first occurs in `text`: a plain byte search (the texts are
/// short, and `str::find` brings ~2 KB of searcher).
pub fn find(text: &[u8], word: &[u8]) -> Option<usize> {
    text.windows(word.len()).position(|w| w == word)
}

/// Where the host name of a URL lies in it, without a leading `www.` (empty when there
/// is none).
pub fn url_host_span(url: &[u8]) -> (usize, usize) {
    let Some(start) = find(url, b"://") else {
        return (0, 0);
    };
    // One pass to the end of the authority: the host starts after its last `@` and
    // ends at the first `:` after that.
    let (mut from, mut to, mut i) = (start + 3, None, start + 3);
    while let Some(&c) = url.get(i) {
        match c {
            b'/' | b'?' | b'#' => break,
            b'@' => (from, to) = (i + 1, None),
            b':' if to.is_none() => to = Some(i),
            _ => {}
        }
        i += 1;
    }
    let to = to.unwrap_or(i);
    if url.get(from..from + 4).is_some_and(|w| w.eq_ignore_ascii_case(b"www.")) && to - from >= 4 {
        from += 4;
    }
    (from, to)
}

/// The host name of a URL without a leading `www.`, not yet lower-cased (empty when
/// there is none): the caller lower-cases it with `to_ascii_lowercase`.
pub fn url_host_raw(url: &str) -> &str {
    // Byte by byte: every delimiter is ASCII, so each cut is on a character boundary
    // (and this is far smaller in the first module than `str::split`).
    let (from, to) = url_host_span(url.as_bytes());
    url.get(from..to).unwrap_or("")
}

fn url_host(url: &[u8]) -> &[u8] {
    let (from, to) = url_host_span(url);
    &url[from..to]
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

/// Every list [`channel`] reads, in order: the `utm_medium` values (lower-case) of paid
/// search, email, display and social, then [`SEARCH_ENGINES`] and [`SOCIAL_NETWORKS`].
pub const CHANNEL_LISTS: [&[&str]; 6] = [
    &["cpc", "ppc", "paidsearch", "paid_search", "sem"],
    &["email", "newsletter"],
    &["display", "banner", "cpm", "programmatic"],
    &["social", "social-network", "social_media", "paid_social"],
    SEARCH_ENGINES,
    SOCIAL_NETWORKS,
];

/// [`CHANNEL_LISTS`] as compiled rules carry them (the first module holds no copy):
/// per list, each item as a length byte and its text, then a 0 byte.
pub fn channel_lists() -> Vec<u8> {
    let mut out = Vec::new();
    for list in CHANNEL_LISTS {
        for item in list {
            out.push(item.len() as u8);
            out.extend_from_slice(item.as_bytes());
        }
        out.push(0);
    }
    out
}

/// Whether an item of list `k` of `lists` ([`channel_lists`]'s form) passes `f`.
fn any_in(lists: &[u8], k: usize, f: &dyn Fn(&[u8]) -> bool) -> bool {
    let (mut i, mut list) = (0, 0);
    while let Some(&n) = lists.get(i) {
        let item = lists.get(i + 1..i + 1 + n as usize).unwrap_or(&[]);
        i += 1 + n as usize;
        if n == 0 {
            list += 1;
        } else if list == k && f(item) {
            return true;
        }
    }
    false
}

/// Whether `host` matches a pattern (lower-case) of list `k` of `lists`, ignoring ASCII
/// case: a pattern ending in a dot (`google.`) is a label anywhere in the host
/// (google.fr, www.google.co.uk); any other (`t.co`) is the host or one of its parent
/// domains (t.co, x.t.co).
fn host_matches(host: &[u8], lists: &[u8], k: usize) -> bool {
    let at = |i: usize, p: &[u8]| host.get(i..i + p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    any_in(lists, k, &|p| {
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
pub fn channel<'q>(param: &dyn Fn(&str) -> Option<&'q str>, url: &str, referrer: &str) -> &'static str {
    let param = |k: &[u8]| param(core::str::from_utf8(k).ok()?).map(str::as_bytes);
    channel_bytes(&param, url.as_bytes(), referrer.as_bytes(), &channel_lists())
}

/// [`channel`] over UTF-8 bytes, with the lists in [`channel_lists`]'s form.
pub fn channel_bytes<'q>(param: &dyn Fn(&[u8]) -> Option<&'q [u8]>, url: &[u8], referrer: &[u8], lists: &[u8]) -> &'static str {
    let medium = param(b"utm_medium");
    let medium_in = |k| medium.is_some_and(|v| any_in(lists, k, &|w| v.eq_ignore_ascii_case(w)));
    let referrer_host = url_host(referrer);
    let self_referral = !referrer_host.is_empty() && referrer_host.eq_ignore_ascii_case(url_host(url));
    if param(b"gclid").is_some() || param(b"msclkid").is_some() || medium_in(0) {
        return "paid_search";
    }
    if medium_in(1) {
        return "email";
    }
    if medium_in(2) {
        return "display";
    }
    if medium_in(3) || param(b"fbclid").is_some() {
        return "social";
    }
    if referrer_host.is_empty() || self_referral {
        return if medium.map_or(true, <[u8]>::is_empty) { "direct" } else { "referral" };
    }
    if host_matches(referrer_host, lists, 4) {
        return "organic_search";
    }
    if host_matches(referrer_host, lists, 5) {
        return "social";
    }
    "referral"
}

/// "mobile", "tablet" or "desktop", from the user agent, then the viewport width.
pub fn device_type(user_agent: &str, viewport_width: u32) -> &'static str {
    device_type_bytes(user_agent.as_bytes(), viewport_width)
}

/// [`device_type`] over UTF-8 bytes.
pub fn device_type_bytes(ua: &[u8], viewport_width: u32) -> &'static str {
    let has = |word: &[u8]| ua.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    if has(b"ipad") || has(b"tablet") || (has(b"android") && !has(b"mobile")) {
        "tablet"
    } else if has(b"mobi") || has(b"iphone") || has(b"ipod") || (viewport_width > 0 && viewport_width < 768) {
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

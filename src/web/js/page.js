// The page inputs a decision reads, taken from a URL and a few plain fields: shared by
// the first-decision script and the full module.

/** Reads the page inputs the core needs from a URL and a few plain fields. */
export function pageInputs({ url = "", referrer = "", userAgent = "", language = "", hour, weekday, viewportWidth = 0 } = {}) {
  const { href, host, path, query } = urlParts(url);
  const now = hour == null || weekday == null ? new Date() : null;
  return {
    url: href,
    host,
    path,
    query,
    referrer,
    userAgent,
    language,
    hour: hour ?? now.getHours(),
    weekday: weekday ?? now.getDay(),
    viewportWidth,
  };
}

// The parts of the last URL parsed: a page decides again and again on one URL.
let lastUrl = null;
let lastParts = null;

function urlParts(url) {
  if (url === lastUrl) return lastParts;
  let parsed = null;
  try {
    parsed = url ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  lastParts = parsed
    ? { href: parsed.href, host: parsed.hostname, path: parsed.pathname, query: [...parsed.searchParams] }
    : { href: "", host: "", path: "", query: [] };
  lastUrl = url;
  return lastParts;
}

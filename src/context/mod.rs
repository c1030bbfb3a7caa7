//! Contextual attributes: what the current page view says, usable with no profile and
//! no storage (campaign, page, referrer channel, device, language, local time).
//!
//! The browser glue reads plain strings (URL parts already split by the browser's own
//! URL parser, the user agent, the local hour); everything derived from them is here.

use crate::json::{Map, Value};

/// Plain inputs read from the page by the host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageInputs {
    /// `location.href`.
    pub url: String,
    /// `location.hostname`.
    pub host: String,
    /// `location.pathname`.
    pub path: String,
    /// Decoded query parameters in order (`URLSearchParams` entries).
    pub query: Vec<(String, String)>,
    /// `document.referrer` (may be empty).
    pub referrer: String,
    /// `navigator.userAgent`.
    pub user_agent: String,
    /// `navigator.language`, e.g. "fr-FR".
    pub language: String,
    /// Local hour, 0–23.
    pub hour: u8,
    /// Local weekday, 0 = Sunday … 6 = Saturday (as `Date.getDay()`).
    pub weekday: u8,
    /// `innerWidth` in CSS pixels (0 when unknown).
    pub viewport_width: u32,
}

impl PageInputs {
    /// Reads inputs from the JSON object the browser glue builds (field names as in
    /// JavaScript: `url`, `host`, `path`, `query` as `[[k, v], …]`, `referrer`,
    /// `userAgent`, `language`, `hour`, `weekday`, `viewportWidth`). Missing or
    /// mistyped fields read as empty: context is best-effort, never an error.
    pub fn from_json(v: &Value) -> PageInputs {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let n = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let query = v
            .get("query")
            .and_then(Value::as_array)
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|p| {
                        let p = p.as_array()?;
                        Some((p.first()?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        PageInputs {
            url: s("url"),
            host: s("host"),
            path: s("path"),
            query,
            referrer: s("referrer"),
            user_agent: s("userAgent"),
            language: s("language"),
            hour: n("hour").clamp(0.0, 23.0) as u8,
            weekday: n("weekday").clamp(0.0, 6.0) as u8,
            viewport_width: n("viewportWidth").max(0.0) as u32,
        }
    }
}

/// Where the visit came from, derived from UTM parameters, click ids and the referrer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// No referrer, no campaign.
    Direct,
    /// A search engine, unpaid.
    OrganicSearch,
    /// A search ad (`utm_medium` cpc/ppc/paid search, or a `gclid`/`msclkid`).
    PaidSearch,
    /// A social network.
    Social,
    /// An email campaign.
    Email,
    /// Display or banner advertising.
    Display,
    /// Any other site.
    Referral,
}

impl Channel {
    /// The attribute value rules compare against.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::OrganicSearch => "organic_search",
            Channel::PaidSearch => "paid_search",
            Channel::Social => "social",
            Channel::Email => "email",
            Channel::Display => "display",
            Channel::Referral => "referral",
        }
    }
}

/// The host name of a URL, lower-cased, without `www.` (empty when there is none).
fn url_host(url: &str) -> String {
    context::url_host_raw(url).to_ascii_lowercase()
}

/// Derives the acquisition channel (the first-decision module's code, shared).
pub fn channel(inputs: &PageInputs) -> Channel {
    let param = |k: &str| inputs.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match context::channel(&param, &inputs.url, &inputs.referrer) {
        "organic_search" => Channel::OrganicSearch,
        "paid_search" => Channel::PaidSearch,
        "social" => Channel::Social,
        "email" => Channel::Email,
        "display" => Channel::Display,
        "referral" => Channel::Referral,
        _ => Channel::Direct,
    }
}

/// "mobile", "tablet" or "desktop", from the user agent, then the viewport width.
pub fn device_type(inputs: &PageInputs) -> &'static str {
    context::device_type(&inputs.user_agent, inputs.viewport_width)
}

use tailor_first::context::{self, WEEKDAYS};

/// The attributes conditions see for this page view:
///
/// ```text
/// page.url  page.host  page.path  query.<name>  utm.source|medium|campaign|term|content
/// referrer.url  referrer.host  channel  device.type  language  language_primary
/// time.hour  time.weekday (0 = Sunday)  time.weekday_name
/// ```
pub fn attributes(inputs: &PageInputs) -> Value {
    let mut query = Map::new();
    let mut utm = Map::new();
    for (k, v) in &inputs.query {
        if !query.contains_key(k) {
            query.insert(k.clone(), v.as_str().into());
        }
        if let Some(name) = k.strip_prefix("utm_") {
            if ["source", "medium", "campaign", "term", "content"].contains(&name) && !utm.contains_key(name) {
                utm.insert(name, v.as_str().into());
            }
        }
    }
    let obj = |pairs: Vec<(&str, Value)>| {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k, v);
        }
        Value::Object(m)
    };
    let primary = inputs.language.split('-').next().unwrap_or("").to_ascii_lowercase();
    obj(vec![
        ("page", obj(vec![("url", inputs.url.as_str().into()), ("host", inputs.host.as_str().into()), ("path", inputs.path.as_str().into())])),
        ("query", Value::Object(query)),
        ("utm", Value::Object(utm)),
        ("referrer", obj(vec![("url", inputs.referrer.as_str().into()), ("host", url_host(&inputs.referrer).into())])),
        ("channel", channel(inputs).as_str().into()),
        ("device", obj(vec![("type", device_type(inputs).into())])),
        ("language", inputs.language.as_str().into()),
        ("language_primary", primary.into()),
        (
            "time",
            obj(vec![
                ("hour", (inputs.hour as f64).into()),
                ("weekday", (inputs.weekday as f64).into()),
                ("weekday_name", WEEKDAYS[inputs.weekday as usize % 7].into()),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str, query: &[(&str, &str)], referrer: &str) -> PageInputs {
        PageInputs {
            url: url.into(),
            query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            referrer: referrer.into(),
            ..Default::default()
        }
    }

    #[test]
    fn channels() {
        let shop = "https://shop.example/p";
        assert_eq!(channel(&page(shop, &[], "")), Channel::Direct);
        assert_eq!(channel(&page(shop, &[], "https://shop.example/other")), Channel::Direct);
        assert_eq!(channel(&page(shop, &[], "https://www.google.fr/")), Channel::OrganicSearch);
        assert_eq!(channel(&page(shop, &[("gclid", "x")], "https://www.google.fr/")), Channel::PaidSearch);
        assert_eq!(channel(&page(shop, &[("utm_medium", "CPC")], "")), Channel::PaidSearch);
        assert_eq!(channel(&page(shop, &[("utm_medium", "email")], "")), Channel::Email);
        assert_eq!(channel(&page(shop, &[("utm_medium", "display")], "")), Channel::Display);
        assert_eq!(channel(&page(shop, &[], "https://l.facebook.com/")), Channel::Social);
        assert_eq!(channel(&page(shop, &[], "https://t.co/abc")), Channel::Social);
        assert_eq!(channel(&page(shop, &[], "https://blog.example/")), Channel::Referral);
        assert_eq!(channel(&page(shop, &[], "https://notgoogle.example/")), Channel::Referral);
        assert_eq!(channel(&page(shop, &[], "https://news.google.co.uk/")), Channel::OrganicSearch);
        assert_eq!(channel(&page(shop, &[], "https://m.t.co/")), Channel::Social);
        assert_eq!(channel(&page(shop, &[], "https://fiat.co/")), Channel::Referral);
        assert_eq!(channel(&page(shop, &[], "referrer.example")), Channel::Direct);
    }

    #[test]
    fn devices() {
        let ua = |s: &str, w| PageInputs { user_agent: s.into(), viewport_width: w, ..Default::default() };
        assert_eq!(device_type(&ua("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148", 390)), "mobile");
        assert_eq!(device_type(&ua("Mozilla/5.0 (Linux; Android 14; SM-X910) Safari", 1200)), "tablet");
        assert_eq!(device_type(&ua("Mozilla/5.0 (X11; Linux x86_64) Chrome/156", 1280)), "desktop");
        assert_eq!(device_type(&ua("Mozilla/5.0 (X11; Linux x86_64) Chrome/156", 500)), "mobile");
    }

    #[test]
    fn utm_and_time_attributes() {
        let mut p = page("https://s.example/?utm_campaign=spring&utm_campaign=other&x=1", &[("utm_campaign", "spring"), ("utm_campaign", "other"), ("x", "1")], "");
        p.weekday = 1;
        p.hour = 9;
        p.language = "fr-FR".into();
        let a = attributes(&p);
        assert_eq!(a.get("utm").unwrap().get("campaign"), Some(&"spring".into()));
        assert_eq!(a.get("query").unwrap().get("x"), Some(&"1".into()));
        assert_eq!(a.get("time").unwrap().get("weekday_name"), Some(&"monday".into()));
        assert_eq!(a.get("language_primary"), Some(&"fr".into()));
        assert_eq!(a.get("channel"), Some(&"direct".into()));
    }
}

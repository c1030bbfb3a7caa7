//! Signal inputs and what each says about each purpose.
//!
//! A signal answers, per purpose, `Some(Granted)`, `Some(Denied)` or `None` (says
//! nothing), or is ignored altogether (not ready yet: wait for the next event).
//!
//! ## TCF v2.2 mapping (decided here, conservatively)
//! - Act only when `cmpStatus === "loaded"` and `eventStatus` is `tcloaded` or
//!   `useractioncomplete`; `gdprApplies` undefined means wait (ignored); `false` means
//!   TCF says nothing.
//! - Personalization needs consent for purposes **1, 5 and 6**; measurement needs
//!   consent for **1, 7, 8 and 9** — all three of 7–9, not any: Tailor's measurement
//!   measures content performance (8) from experiment exposure (7) and aggregates
//!   statistics (9), so one of them alone does not cover it.
//! - Consent only: legitimate interest never counts, neither for 1–6 (forbidden by the
//!   policy) nor for 7–9 (storage on the device needs consent under ePrivacy anyway).
//! - The consents must all come from one party: either the publisher segment
//!   (`publisher.consents`, Tailor runs as the site's first-party code) or, when a
//!   vendor id is configured, `vendor.consents[id]` together with `purpose.consents`.
//! - A publisher restriction of type 0 (not allowed) on any needed purpose for the
//!   configured vendor id blocks that purpose set on both paths. Restrictions name
//!   vendors, so without a vendor id they cannot name Tailor and are not read.
//! - Purpose 11 (contextual content) grants nothing: contextual decisions need no
//!   purpose, so 11 alone leaves both purposes denied.
//! - `purposeOneTreatment` (purpose 1 not disclosed) gives no purpose 1 consent, hence
//!   nothing.

use super::State;
use crate::json::Value;

/// A signal read from the page by the browser glue.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// `navigator.globalPrivacyControl === true`, read at load. `false` changes
    /// nothing: a remembered GPC opt-out is sticky.
    Gpc(bool),
    /// A TCData object from `__tcfapi('addEventListener', 2, cb)`, passed only when
    /// the callback's `success` is true.
    Tcf(TcfData),
    /// GPP ping data from `__gpp('addEventListener', cb)` (`event.pingData`).
    Gpp(GppData),
    /// Google Consent Mode v2 as read (never written): `Some(true)` for `granted`.
    ConsentMode {
        /// `personalization_storage` → personalization.
        personalization_storage: Option<bool>,
        /// `analytics_storage` → measurement.
        analytics_storage: Option<bool>,
    },
    /// A CMP adapter's per-purpose answer (the glue maps the CMP's categories to
    /// purposes); `None` when the CMP has no category for the purpose.
    Adapter {
        /// Which CMP.
        adapter: Adapter,
        /// Consent for personalization.
        personalization: Option<bool>,
        /// Consent for measurement.
        measurement: Option<bool>,
    },
}

/// A generic CMP with an adapter in the browser glue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// vanilla-cookieconsent v3.
    CookieConsent,
    /// Klaro!.
    Klaro,
}

/// The parts of a TCF v2.2 TCData object Tailor reads. Purpose sets are bit masks:
/// bit `n` set means purpose `n` is true.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TcfData {
    /// `gdprApplies`: `None` when undefined.
    pub gdpr_applies: Option<bool>,
    /// `cmpStatus`.
    pub cmp_status: String,
    /// `eventStatus`.
    pub event_status: String,
    /// `tcString`, recorded in the ledger.
    pub tc_string: String,
    /// `purpose.consents`.
    pub purpose_consents: u32,
    /// `purpose.legitimateInterests` (kept for completeness; never counts).
    pub purpose_legitimate_interests: u32,
    /// Vendor ids true in `vendor.consents`.
    pub vendor_consents: Vec<u32>,
    /// `publisher.consents`.
    pub publisher_consents: u32,
    /// `publisher.legitimateInterests` (kept for completeness; never counts).
    pub publisher_legitimate_interests: u32,
    /// `publisher.restrictions`, flattened.
    pub restrictions: Vec<Restriction>,
}

/// One entry of `publisher.restrictions[purpose][vendor] = kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restriction {
    /// The purpose restricted.
    pub purpose: u8,
    /// The vendor it applies to.
    pub vendor: u32,
    /// 0 not allowed, 1 require consent, 2 require legitimate interest.
    pub kind: u8,
}

/// A bit mask of purposes from `{ "1": true, "2": false, … }`.
fn purpose_mask(v: Option<&Value>) -> u32 {
    let mut mask = 0;
    if let Some(m) = v.and_then(Value::as_object) {
        for (k, val) in m.iter() {
            if let (Ok(n @ 1..=31), Some(true)) = (k.parse::<u8>(), val.as_bool()) {
                mask |= 1 << n;
            }
        }
    }
    mask
}

impl TcfData {
    /// Reads a TCData object as JSON (`JSON.stringify(tcData)`: undefined members are
    /// absent). Missing or mistyped members read as empty, which grants nothing.
    pub fn from_tcdata(v: &Value) -> TcfData {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let at = |a: &str, b: &str| v.get(a).and_then(|x| x.get(b));
        let mut vendor_consents = Vec::new();
        if let Some(m) = at("vendor", "consents").and_then(Value::as_object) {
            for (k, val) in m.iter() {
                if let (Ok(id), Some(true)) = (k.parse::<u32>(), val.as_bool()) {
                    vendor_consents.push(id);
                }
            }
        }
        let mut restrictions = Vec::new();
        if let Some(m) = at("publisher", "restrictions").and_then(Value::as_object) {
            for (purpose, vendors) in m.iter() {
                let (Ok(purpose), Some(vendors)) = (purpose.parse::<u8>(), vendors.as_object()) else { continue };
                for (vendor, kind) in vendors.iter() {
                    if let (Ok(vendor), Some(kind)) = (vendor.parse::<u32>(), kind.as_f64()) {
                        restrictions.push(Restriction { purpose, vendor, kind: kind as u8 });
                    }
                }
            }
        }
        TcfData {
            gdpr_applies: v.get("gdprApplies").and_then(Value::as_bool),
            cmp_status: s("cmpStatus"),
            event_status: s("eventStatus"),
            tc_string: s("tcString"),
            purpose_consents: purpose_mask(at("purpose", "consents")),
            purpose_legitimate_interests: purpose_mask(at("purpose", "legitimateInterests")),
            vendor_consents,
            publisher_consents: purpose_mask(at("publisher", "consents")),
            publisher_legitimate_interests: purpose_mask(at("publisher", "legitimateInterests")),
            restrictions,
        }
    }

    /// What this TCData says about (personalization, measurement), or `None` when it
    /// must be ignored (CMP not loaded, no final event, or `gdprApplies` unknown).
    pub(crate) fn verdicts(&self, vendor_id: Option<u32>) -> Option<[Option<State>; 2]> {
        let ready =
            self.cmp_status == "loaded" && matches!(self.event_status.as_str(), "tcloaded" | "useractioncomplete");
        if !ready {
            return None;
        }
        match self.gdpr_applies? {
            false => Some([None, None]),
            true => {
                let verdict = |purposes: &[u8]| {
                    let has = |mask: u32| purposes.iter().all(|&p| mask & (1 << p) != 0);
                    let restricted = vendor_id.is_some_and(|id| {
                        self.restrictions.iter().any(|r| r.kind == 0 && r.vendor == id && purposes.contains(&r.purpose))
                    });
                    let publisher = has(self.publisher_consents);
                    let vendor =
                        vendor_id.is_some_and(|id| self.vendor_consents.contains(&id)) && has(self.purpose_consents);
                    Some(if !restricted && (publisher || vendor) { State::Granted } else { State::Denied })
                };
                Some([verdict(&[1, 5, 6]), verdict(&[1, 7, 8, 9])])
            }
        }
    }
}

/// The parts of GPP ping data Tailor reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GppData {
    /// `signalStatus`: only `"ready"` is acted on.
    pub signal_status: String,
    /// `gppString`, recorded in the ledger.
    pub gpp_string: String,
    /// A US section of `parsedSections` opts out (see [`GppData::from_ping`]).
    pub us_opt_out: bool,
}

impl GppData {
    /// Reads GPP ping data as JSON. `us_opt_out` is true when any US section
    /// (`usnat`, `usca`, `usva`, … — every `parsedSections` key starting with `us`),
    /// in any of its sub-sections (an array of objects, or a single object), has
    /// `SaleOptOut`, `SharingOptOut` or `TargetedAdvertisingOptOut` equal to 1
    /// (opted out; 2 is "did not", 0 "not applicable"), or `Gpc` true (or 1); the
    /// legacy `uspv1` section's `OptOutSale: "Y"` counts too.
    pub fn from_ping(v: &Value) -> GppData {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let opted_out = |seg: &Value| {
            let one = |k: &str| seg.get(k).and_then(Value::as_f64) == Some(1.0);
            one("SaleOptOut")
                || one("SharingOptOut")
                || one("TargetedAdvertisingOptOut")
                || one("Gpc")
                || seg.get("Gpc").and_then(Value::as_bool) == Some(true)
                || seg.get("OptOutSale").and_then(Value::as_str) == Some("Y")
        };
        let mut us_opt_out = false;
        if let Some(sections) = v.get("parsedSections").and_then(Value::as_object) {
            for (name, section) in sections.iter() {
                if !name.starts_with("us") {
                    continue;
                }
                us_opt_out |= match section {
                    Value::Array(segments) => segments.iter().any(opted_out),
                    other => opted_out(other),
                };
            }
        }
        GppData { signal_status: s("signalStatus"), gpp_string: s("gppString"), us_opt_out }
    }
}

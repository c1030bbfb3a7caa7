// Footer links and buttons that carry a consent choice: <a data-tailor-consent="revoke">,
// "grant" or "forget", with data-tailor-purposes. Shared by the first-decision script
// and the full module, so a visitor's click works from the first moment.
import { TailorError } from "./errors.js";

/** Calls made before Tailor is ready are held, at most this many. */
export const MAX_PENDING = 200;

/**
 * The document click listener for consent links, acting through `api` and telling
 * `report` about refused clicks. Only the visitor's own clicks count (a synthetic
 * click from a script does not), and variant HTML from the rules never carries these
 * attributes (the sanitizer drops them).
 */
export function consentLinks(api, report) {
  return (event) => {
    const el = event.target?.closest?.("[data-tailor-consent]");
    if (!el) return;
    event.preventDefault();
    if (!event.isTrusted) {
      report(new TailorError("CONSENT_UNTRUSTED", "Tailor: a consent link was clicked by a script, not by the visitor; ignored"));
      return;
    }
    const action = el.getAttribute("data-tailor-consent");
    const purposes = (el.getAttribute("data-tailor-purposes") || "personalization measurement").split(/[\s,]+/).filter(Boolean);
    if (action === "revoke") api.consent.revoke(purposes);
    else if (action === "grant") api.consent.grant(purposes);
    else if (action === "forget") api.forget();
  };
}

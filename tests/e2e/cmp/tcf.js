// A page-side TCF v2.2 CMP built only from the IAB's own @iabtechlabtcf/cmpapi, bundled
// by the consent tests with esbuild into target/e2e-cmp/tcf.js. The page loads the
// IAB stub (@iabtechlabtcf/stub) first, as the TCF requires; the test then calls
// startTcfCmp() and cmpApi.update(tcString) with TC strings it encoded in Node with
// @iabtechlabtcf/core.
import { CmpApi } from "@iabtechlabtcf/cmpapi";

window.startTcfCmp = ({ hideGdprApplies = false } = {}) => {
  // The IAB's "built-in custom command" hook: it post-processes every TCData the API
  // hands out (getTCData and addEventListener). Used only to produce TCData whose
  // gdprApplies is undefined, as some CMPs do before they know.
  const custom = hideGdprApplies
    ? {
        getTCData: (next, tcData, success) => {
          if (tcData && typeof tcData === "object") delete tcData.gdprApplies;
          next(tcData, success);
        },
      }
    : undefined;
  window.cmpApi = new CmpApi(2, 1, true, custom);
  return true;
};

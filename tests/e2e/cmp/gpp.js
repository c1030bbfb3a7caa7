// A page-side GPP CMP built only from the IAB's own @iabgpp/cmpapi, bundled by the
// consent tests with esbuild into target/e2e-cmp/gpp.js.
import { CmpApi } from "@iabgpp/cmpapi";

window.startGppCmp = () => {
  const api = new CmpApi(2, 1);
  api.setSupportedAPIs(["7:usnat", "8:usca"]);
  api.setApplicableSections([7]);
  window.gppApi = api;
  return true;
};

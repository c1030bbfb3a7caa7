// Counts what reaches the host page's own error handlers.
window.hostErrors = [];
window.addEventListener("error", (e) => window.hostErrors.push("error: " + (e.message || e.type)));
window.addEventListener("unhandledrejection", (e) => window.hostErrors.push("rejection: " + String(e.reason)));
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.violatedDirective + " " + e.blockedURI));

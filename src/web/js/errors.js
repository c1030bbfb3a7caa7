// Tailor's one error type, shared by the first-decision script and the full module.

/** An error from Tailor, with a stable `code` and, for rules, every `problem`. */
export class TailorError extends Error {
  constructor(code, message, problems = []) {
    super(message);
    this.name = "TailorError";
    this.code = code;
    this.problems = problems;
  }
}

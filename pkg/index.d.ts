// Type declarations of tailor-sdk. A test compiles a file using every export with
// `tsc --strict` against these declarations and checks them against the runtime.

/** One thing wrong with a rules document. */
export interface Problem {
  /** JSON path of the offending value, e.g. `$.experiences[2].variants[0].weight`. */
  path: string;
  /** What was expected there. */
  expected: string;
  /** What was found instead. */
  found: string;
}

/** An error from Tailor, with a stable `code`. */
export class TailorError extends Error {
  /** Stable machine-readable code, e.g. `RULES_INVALID`. */
  readonly code: string;
  /** For `RULES_INVALID`: every problem found. */
  readonly problems: Problem[];
}

/** Content a variant puts into a slot. */
export interface Content {
  text: string | null;
  html: string | null;
  template: string | null;
}

/** What one slot shows, and why. */
export interface Decision {
  slot: string;
  experience: string | null;
  variant: string | null;
  content: Content | null;
  reasons: string[];
}

/** Plain page inputs for deciding outside a browser page (or for a different URL). */
export interface PageContext {
  url?: string;
  referrer?: string;
  userAgent?: string;
  language?: string;
  /** Local hour 0–23; defaults to now. */
  hour?: number;
  /** Local weekday, 0 = Sunday; defaults to today. */
  weekday?: number;
  viewportWidth?: number;
}

/** A rules document: an object or JSON text. See rules.schema.json. */
export type RulesDocument = object | string;

/** Validates a rules document; returns every problem (empty when valid). */
export function validateRules(rules: RulesDocument): Problem[];

/** A validated rules document that decides slots. */
export class Engine {
  /** @throws TailorError with code `RULES_INVALID` and every problem. */
  constructor(rules: RulesDocument);
  /** Decides every slot for a page; `unit` is the allocation identity. */
  decide(page?: PageContext, unit?: string): Decision[];
}

/** The SDK version. */
export function version(): string;

/** Options of {@link start}. */
export interface StartOptions {
  /** The rules: an object, JSON text, a URL, or the id of an inline JSON script. */
  rules: RulesDocument;
  /** Milliseconds after which undecided slots show their default content (default 500). */
  antiFlickerMs?: number;
}

/** The page API (also `window.tailor` with the script tag). */
export interface Tailor {
  /** Resolves once the first decisions are applied or the defaults kept. */
  readonly ready: Promise<void>;
  /** Runs a queued command `["method", ...args]`. */
  push(command: [string, ...unknown[]]): unknown;
  /** Subscribes to decisions or errors; returns an unsubscribe function. */
  on(event: "decision", cb: (decision: Decision) => void): () => void;
  on(event: "error", cb: (error: TailorError) => void): () => void;
  /** The decision for a slot, or null before ready. */
  decide(slot: string): Decision | null;
  /** Why a slot shows what it shows, or null before ready. */
  explain(slot: string): string[] | null;
  /** Records an interaction (kept only under consent). */
  track(name: string, props?: Record<string, unknown>): void;
  /** The SDK version. */
  version(): string;
}

/** Starts Tailor on the current page (browsers only). */
export function start(options: StartOptions): Tailor;

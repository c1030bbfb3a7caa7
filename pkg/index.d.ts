// Type declarations of tailor-sdk. A test compiles a file using every export with
// `tsc --strict` against these declarations and checks them against the runtime. The
// rules document's types (rules.d.ts) are generated from rules.schema.json at build time.

import type { Rules, Content } from "./rules.js";

export type {
  Rules,
  Experience,
  Variant,
  Content,
  Classes,
  Schedule,
  ScheduleDate,
  Cap,
  Duration,
  EventDeclaration,
  AudienceCondition,
  EventFilter,
  ConditionValue,
  Operators,
  EventOperator,
  SinceOperator,
  ScenarioOperator,
  ScenarioStep,
} from "./rules.js";

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

/** How one top-level audience condition fared. */
export interface ConditionExplanation {
  /** JSON path of the condition in the rules document. */
  path: string;
  /** A short label, e.g. `utm.campaign` or `$event view_item`. */
  label: string;
  passed: boolean;
  /** The attribute value seen, or what was measured (`{count}`, `{last, elapsedHours}`, …). */
  seen: unknown;
}

/** One experience considered for a slot. */
export interface CandidateExplanation {
  experience: string;
  priority: number;
  outcome: "shown" | "holdout" | "excluded" | "outranked";
  reason: string | null;
  audience?: { name: string | null; passed: boolean; conditions: ConditionExplanation[] };
  schedule?: { state: string; start?: string; end?: string };
  caps?: Record<string, unknown>;
  allocation?: Record<string, unknown>;
}

/** Why a slot shows what it shows. */
export interface Explanation {
  slot: string;
  experience: string | null;
  variant: string | null;
  holdout: boolean;
  sticky: boolean;
  /** The decision time, RFC 3339. */
  now: string;
  /** Whether the visitor's profile was used. */
  profile: boolean;
  candidates: CandidateExplanation[];
}

/** What one slot shows, and why. */
export interface Decision {
  slot: string;
  experience: string | null;
  variant: string | null;
  content: Content | null;
  /** The visitor is in the experience's holdout: default content. */
  holdout: boolean;
  /** The variant comes from a stored (consented) assignment. */
  sticky: boolean;
  /** One readable line (from Engine.decide: built on first read). */
  readonly summary: string;
  /** Every candidate considered, stage by stage (from Engine.decide: built on first read). */
  readonly explanation: Explanation;
  /** In the page runtime: the decision came after the anti-flicker timeout, so the slot kept its default content for this page view. */
  late?: boolean;
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

/**
 * A rules document as the functions accept it: an object, checked against the
 * document's types ({@link Rules}), or JSON text, checked when it is read. Annotate a
 * rules object declared apart from the call (`const rules: Rules = {…}`): unannotated,
 * its `version: 1` widens to `number` and no longer matches. A JSON file imported as a
 * module widens the same way: assert its type (`rules as Rules`); validation still
 * checks it when it is used.
 */
export type RulesDocument = Rules | string;

/**
 * Validates a rules document; returns every problem (empty when valid). It takes any
 * object, not only {@link Rules}: it is there to check documents whose shape is not
 * known yet (from a file, a CMS, an editor).
 */
export function validateRules(rules: object | string): Problem[];

/** A validated rules document that decides slots. */
export class Engine {
  /** @throws TailorError with code `RULES_INVALID` and every problem. */
  constructor(rules: RulesDocument);
  /**
   * Decides every slot for a page; `unit` is the allocation identity, `now` the time
   * in ms, `viewStart` when the page view started (impressions since then do not
   * count against caps).
   */
  decide(page?: PageContext, unit?: string, now?: number, viewStart?: number): Decision[];
}

/** The SDK version. */
export function version(): string;

// GrowthBook-compatible functions (GrowthBook's signatures and exact semantics).

/** A GrowthBook condition (MongoDB-style operators). */
export type Condition = Record<string, unknown>;
/** GrowthBook's `evalCondition(attributes, condition, savedGroups?)`. */
export function evalCondition(attributes: Record<string, unknown>, condition: Condition, savedGroups?: Record<string, unknown>): boolean;
/** GrowthBook's `hash(seed, value, version)`: [0, 1), or null for a version other than 1 or 2. */
export function hash(seed: string, value: string, version: number): number | null;
/** GrowthBook's `getBucketRanges(numVariations, coverage?, weights?)`. */
export function getBucketRanges(numVariations: number, coverage?: number, weights?: number[]): [number, number][];
/** GrowthBook's `chooseVariation(n, ranges)`: the index of the range holding n, or -1. */
export function chooseVariation(n: number, ranges: [number, number][]): number;
/** GrowthBook's `inNamespace(hashValue, [id, start, end])`. */
export function inNamespace(hashValue: string, namespace: [string, number, number]): boolean;
/** GrowthBook's `getEqualWeights(n)`. */
export function getEqualWeights(n: number): number[];

/** The result of {@link verifyLedger}. */
export type LedgerVerification =
  | { ok: true; records: number }
  | { ok: false; index: number | null; kind: "syntax" | "format" | "record" | "sequence" | "chain" | "head"; message: string };

/** Verifies an exported consent ledger: detects an edited, reordered or removed record. */
export function verifyLedger(ledger: string | object): LedgerVerification;

/** A consent purpose. Contextual decisions need none. */
export type Purpose = "personalization" | "measurement";

/** One purpose's consent. */
export interface PurposeState {
  state: "granted" | "denied" | "not_asked";
  /** Where the state comes from: api, accept_all, reject_all, custom, revocation, gpc, tcf, gpp, consent_mode, cookieconsent, klaro, expiry, notice_change, default. */
  source: string;
  decided_at: number | null;
  expires_at: number | null;
}

/** Consent state of both purposes. */
export interface ConsentState {
  personalization: PurposeState;
  measurement: PurposeState;
  /** True when a Global Privacy Control opt-out is in force ("Opt-out preference signal honored"). */
  gpc_honored: boolean;
}

/** Consent configuration (see the README's section for privacy teams). */
export interface ConsentConfig {
  notice_version?: string;
  purposes: { personalization: { text: string }; measurement: { text: string } };
  rules_revision?: string;
  lifetime_days?: number;
  strict?: boolean;
  defaults?: { personalization?: "not_asked" | "denied" | "granted"; measurement?: "not_asked" | "denied" | "granted" };
  ledger_limit?: number;
  signals?: {
    gpc?: boolean;
    tcf?: boolean | { gdpr_applies?: boolean; vendor_id?: number };
    gpp?: boolean;
    consent_mode?: boolean;
    cookieconsent?: boolean;
    klaro?: boolean;
  };
  /** CMP category (cookieconsent) or service (Klaro) names per purpose. */
  categories?: {
    cookieconsent?: { personalization?: string; measurement?: string };
    klaro?: { personalization?: string; measurement?: string };
  };
}

/** The page's consent API (`tailor.consent`). */
export interface ConsentApi {
  grant(purposes: Purpose | Purpose[], method?: "api" | "accept_all" | "custom"): ConsentState | undefined;
  revoke(purposes: Purpose | Purpose[]): ConsentState | undefined;
  decide(choices: Partial<Record<Purpose, boolean>>, method?: "api" | "accept_all" | "reject_all" | "custom"): ConsentState | undefined;
  state(): ConsentState | null;
  on(event: "change", cb: (state: ConsentState) => void): (() => void) | undefined;
  on(event: "ask", cb: (purposes: Purpose[]) => void): (() => void) | undefined;
  /** The ledger as JSON text (valid against consent-ledger.schema.json). */
  export(): string | null;
}

/** A goal counted on the device for one variant. */
export interface GoalCount {
  goal: string;
  experience: string;
  variant: string;
  count: number;
}

/** An attribution model: how one conversion's credit is shared among the visits before it. */
export type AttributionModel = "first_touch" | "last_touch" | "last_non_direct" | "linear" | "time_decay" | "position_based";

/** The credit goals gave a channel under one model (each conversion gives 1 in all). */
export interface ChannelCredit {
  goal: string;
  model: AttributionModel;
  channel: "direct" | "organic_search" | "paid_search" | "social" | "email" | "display" | "referral";
  credit: number;
}

/** One visit as attribution sees it. */
export interface Touchpoint {
  /** When the visit started (ISO 8601, UTC). */
  at: string;
  channel: ChannelCredit["channel"];
  /** utm_source, else the referrer's host ("" for a direct visit). */
  source: string;
  medium: string;
  campaign: string;
  /** The experience variants shown during the visit, [experience, variant]. */
  shown: [string, string][];
}

/** What measurement counted on this device ({@link Tailor.goals}). */
export interface Goals {
  /** Goals reached after seeing a variant. */
  conversions: GoalCount[];
  /** Credit per goal, attribution model and channel. */
  credit: ChannelCredit[];
  /** The visits kept for attribution (at most 50, within the rules' lookback window). */
  touchpoints: Touchpoint[];
}

/** What Tailor holds on this device. */
export interface Inventory {
  keys: { key: string; store: "localStorage" | "memory"; bytes: number; purpose: Purpose | "consent record" }[];
  storage: "localStorage" | "memory";
  fallbackReason: string | null;
  /** What the profile holds (null without personalization): counts, event names, attributes, bytes. */
  profile: { events: number; rollups: number; eventNames: string[]; attributes: Record<string, unknown>; bytes: number } | null;
  /** What measurement counted (null without measurement). */
  goals: Goals | null;
  /** The consent state (null before start). */
  consent: ConsentState | null;
}

/** Options of {@link start}. */
export interface StartOptions {
  /** The rules: an object, JSON text, a URL, or the id of an inline JSON script. */
  rules: RulesDocument;
  /**
   * Milliseconds after which undecided slots show their default content (default 500);
   * a decision arriving later keeps the default for that page view. 0: nothing is
   * hidden and decisions apply whenever they arrive.
   */
  antiFlickerMs?: number;
  /**
   * Enrol automated browsers (navigator.webdriver) in experiments and count visitors
   * who never interact (default false). Script tag: `data-allow-automation`.
   */
  allowAutomation?: boolean;
  /**
   * Consent configuration. Without it, both purposes start not asked (which behaves as
   * denied), GPC is honoured, and `consent.grant()` and the footer links work, with empty
   * notice texts in the ledger. See docs/consent.md.
   */
  consent?: ConsentConfig;
}

/** Where Tailor stands on a page: {@link Tailor.status}. */
export interface Status {
  /**
   * "starting" (the .wasm or the rules are still loading), "ready" (the slots are
   * decided), "failed" (rules missing, unreachable or invalid, or the engine failed:
   * the slots keep their default content) or "stopped".
   */
  state: "starting" | "ready" | "failed" | "stopped";
  /** Why start-up failed (with `problems` for invalid rules), else null. */
  error: TailorError | null;
  /** Whether consent handling runs (withdrawal works in every state). */
  consent: boolean;
  /**
   * How many slots the first-decision module decided from compiled rules before the
   * full engine arrived (0 with plain rules, or when the engine came first).
   */
  firstDecided: number;
}

/** Why a `track()` call was not stored: {@link Tailor.on} `"dropped"`. */
export interface Dropped {
  /** The event name passed to `track()`. */
  name: string;
  /**
   * `no_consent`: personalization is not granted; `undeclared`: the rules declare no
   * such event; `no_rules`: the rules did not load; `no_consent_handling`: consent
   * handling is not running.
   */
  reason: "no_consent" | "undeclared" | "no_rules" | "no_consent_handling";
  /** The same, in words (also said once in the console). */
  message: string;
}

/** A queued command: `["method", ...args]` or `["consent.method", ...args]`. */
export type TailorCommand = [string, ...unknown[]];

/** The page API (also `window.tailor` with the script tag). */
export interface Tailor {
  /** Resolves (never rejects) with {@link Tailor.status} once the first decisions are applied or the defaults kept. */
  readonly ready: Promise<Status>;
  /** Runs a queued command `["method", ...args]` or `["consent.method", ...args]`. */
  push(command: TailorCommand): unknown;
  /** Subscribes to decisions, errors or dropped `track()` calls; returns an unsubscribe function. */
  on(event: "decision", cb: (decision: Decision) => void): () => void;
  on(event: "error", cb: (error: TailorError) => void): () => void;
  /** Once per reason and event name, when a `track()` call was not stored. */
  on(event: "dropped", cb: (dropped: Dropped) => void): () => void;
  /** The decision for a slot, or null before ready. */
  decide(slot: string): Decision | null;
  /** Why a slot shows what it shows, or null before ready. */
  explain(slot: string): (Explanation & { summary: string; late?: boolean }) | null;
  /**
   * Records an interaction (kept only under consent, only its `keep` properties):
   * whether it was stored; `undefined` before the rules and consent record are loaded
   * (held until then, stored only if consent was already given).
   */
  track(name: string, props?: Record<string, unknown>): boolean | undefined;
  /** The SDK version. */
  version(): string;
  /** Consent. */
  readonly consent: ConsentApi;
  /** Erases every byte Tailor holds on this device, the consent record included. */
  forget(): void;
  /**
   * What measurement counted on this device (null without measurement consent): goals
   * reached after seeing a variant, the credit per attribution model and channel, and
   * the visits kept for attribution.
   */
  goals(): Goals | null;
  /** Every storage key Tailor holds, its purpose and size. */
  inventory(): Inventory;
  /**
   * Opens the live inspector (loaded on demand from beside the SDK; `?tailor-debug` in the
   * page's URL opens it too): every slot's decision and why, the candidates that lost,
   * consent, the last events; a forced variant or a fresh profile, for this page only.
   */
  inspect(): Promise<void>;
  /** Where Tailor stands on this page. */
  status(): Status;
  /**
   * Stops Tailor on this page: listeners, observers, timers and the slots' hiding style
   * are removed, pending writes are made, and start() may run again. What the slots
   * show stays, and so does stored data (use consent.revoke() or forget() to erase).
   */
  stop(): void;
  /** The same as stop(). */
  destroy(): void;
}

/**
 * Starts Tailor on the current page (browsers only); while one runs, returns it (with a
 * console warning). Does not set `window.tailor`: the script tag does.
 */
export function start(options: StartOptions): Tailor;

declare global {
  interface Window {
    /**
     * Set by the script tag (tailor.min.js). Before the script has run it is whatever the
     * page put there, usually the command queue (`window.tailor = window.tailor || []`);
     * once the script has started, the page API. Commands can be pushed onto either;
     * narrow with `Array.isArray` to use the API:
     * `const t = window.tailor; if (t && !Array.isArray(t)) t.status();`
     */
    tailor?: Tailor | TailorCommand[];
  }
}

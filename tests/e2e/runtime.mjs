// Helpers for the page-runtime tests (runtime-*.test.mjs): opening a test page and
// waiting for Tailor, reading the stored profile back, and counting the SDK's writes.
import assert from "node:assert/strict";
import { auditedPage } from "./browser.mjs";

export const PROFILE_KEY = "tailor:p:profile";

/** Waits until the script tag has started and its first decisions are made. */
export async function ready(page) {
  await page.waitForFunction(() => window.tailor && !Array.isArray(window.tailor));
  await page.evaluate(() => window.tailor.ready);
}

/**
 * Opens `path` (under the server's base) in a fresh audited context. `init`: extra
 * init scripts, one or a list (they run after the audit's); `clock`: options for
 * page.clock.install; `wait`: wait for Tailor's first decisions (default true).
 */
export async function open(env, path, { init, initArg, clock, context = {}, wait = true } = {}) {
  const audited = await auditedPage(env.browser, context);
  for (const script of [init ?? []].flat()) await audited.context.addInitScript(script, initArg);
  if (clock) await audited.page.clock.install(clock);
  await audited.page.goto(env.base + path);
  if (wait) await ready(audited.page);
  return audited;
}

/** Grants personalization through the page API. */
export function grant(page) {
  return page.evaluate(() => window.tailor.consent.grant("personalization"));
}

/**
 * Reads a stored profile (`tp1:<fnv1a32>:<json>`) into plain lists: `events` as
 * `{ name, time, props }` with absolute times, `rollups` as `{ day, span, name, count,
 * combos }` with absolute days, plus `visits`, `pageviews`, `impressions`, `assignments`.
 */
export function decodeProfile(text) {
  assert.match(text, /^tp1:[0-9a-f]{8}:\{/);
  const body = JSON.parse(text.slice(13));
  let t = 0;
  const events = body.e.map(([n, dt, props]) => ({ name: body.n[n], time: (t += dt), props: props ?? {} }));
  let day = 0;
  const rollups = body.r.map(([dd, span, n, count, combos]) => ({ day: (day += dd), span, name: body.n[n], count, combos: combos ?? [] }));
  const count = (name) => events.filter((e) => e.name === name).length + rollups.filter((r) => r.name === name).reduce((s, r) => s + r.count, 0);
  return { text, events, rollups, count, visits: body.vi, pageviews: body.pv, impressions: body.i, assignments: body.a };
}

/** The stored profile, decoded, or null. */
export async function storedProfile(page) {
  const text = await page.evaluate((k) => localStorage.getItem(k), PROFILE_KEY);
  return text === null ? null : decodeProfile(text);
}

/** Polls the stored profile until `predicate(profile)` holds; returns it. */
export async function waitForProfile(page, predicate, timeout = 5000) {
  const until = Date.now() + timeout;
  for (;;) {
    const p = await storedProfile(page);
    if (p && predicate(p)) return p;
    if (Date.now() > until) assert.fail(`the stored profile never matched: ${p ? JSON.stringify(p.events.slice(-20)) : "none"}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** How many calls the audit log holds so far (a mark for sdkCalls). */
export function auditMark(page) {
  return page.evaluate(() => window.__audit.length);
}

/** Storage calls (`api`, e.g. "Storage.setItem") the SDK made since `mark`: their keys. */
export async function sdkCalls(page, api, mark = 0) {
  const log = await page.evaluate((from) => window.__audit.slice(from).map((e) => ({ ...e })), mark);
  return log.filter((e) => e.api === api && /\/sdk\/|tailor/.test(e.stack)).map((e) => e.detail);
}

/** Console messages of one type starting with "Tailor:". */
export function tailorMessages(consoleMessages, type) {
  return consoleMessages.filter((m) => m.type === type && m.text.startsWith("Tailor:")).map((m) => m.text);
}

/** Text content of a slot, trimmed. */
export function slotText(page, slot) {
  return page.locator(`[data-tailor-slot="${slot}"]`).first().evaluate((el) => el.textContent.trim());
}

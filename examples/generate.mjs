#!/usr/bin/env node
/*
 * Deterministic generator of the bundled example dataset, examples/tickets.csv: short support-ticket
 * texts with one to four labels each, a long-tailed label distribution (three labels with fewer than ten
 * rows), label co-occurrence (refund with billing, password-reset with login, ...) and a share of
 * partially annotated rows (the `negatives` column lists labels known to be absent; with `partial` the
 * labels a row lists in neither column are unknown).
 *
 * Every label has its own phrases (the learnable signal); rows also carry shared filler, order numbers,
 * words that belong to other labels (distractors) and some label mentions replaced by vague text
 * (noise), so a small model learns the head labels quickly and the tail labels only with help.
 *
 *   node examples/generate.mjs [--rows 3000] [--seed 20231] [--out examples/tickets.csv]
 *
 * The committed examples/tickets.csv is exactly what this script writes with the defaults (a test
 * regenerates it and compares).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** mulberry32: a tiny 32-bit PRNG; the same seed gives the same file on every platform. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

// Each label: a sampling weight (ignored for fixed-count tail labels) and phrases, where {a}/{b} take
// the label's own words. Weights fall off roughly as a power law: the head labels appear in hundreds of
// rows, the tail in a handful.
const LABELS = [
  { name: 'billing', weight: 100, words: ['charge', 'charged', 'payment', 'card', 'statement', 'billing'],
    phrases: ['I was {a} twice this month', 'the {a} on my {b} looks wrong', 'my {a} failed at checkout', 'why is there an extra {a} on my {b}'] },
  { name: 'login', weight: 78, words: ['login', 'log in', 'sign in', 'signin', 'locked out', 'two-factor'],
    phrases: ['I cannot {a} since yesterday', 'the {a} page keeps spinning', 'every {a} attempt says invalid session', 'stuck at {a} with the {b} prompt'] },
  { name: 'bug-report', weight: 64, words: ['error', 'bug', 'broken', 'glitch', 'exception', 'stack trace'],
    phrases: ['there is a {a} when I save the form', 'I get an {a} with a {b}', 'this looks like a {a} in the editor', 'the button is {a} after the update'] },
  { name: 'feature-request', weight: 52, words: ['feature', 'suggestion', 'would love', 'roadmap', 'wishlist', 'could you add'],
    phrases: ['{a} a dark mode option', 'a {a} for bulk editing', 'is a {a} for tags on the {b}', 'we {a} to see keyboard shortcuts'] },
  { name: 'shipping', weight: 44, words: ['delivery', 'shipment', 'tracking', 'courier', 'parcel', 'shipped'],
    phrases: ['my {a} has not arrived', 'the {a} number shows no updates', 'the {a} left the {b} at the wrong address', 'when will my order be {a}'] },
  { name: 'refund', weight: 36, words: ['refund', 'money back', 'reimburse', 'chargeback', 'return'],
    phrases: ['I would like a {a} please', 'still waiting for my {a}', 'how long does a {a} take', 'please {a} the duplicate order'] },
  { name: 'account-settings', weight: 31, words: ['profile', 'settings', 'email address', 'username', 'preferences'],
    phrases: ['how do I change my {a}', 'my {a} do not save', 'update the {a} on my account', 'the {a} page resets my {b}'] },
  { name: 'performance', weight: 27, words: ['slow', 'lag', 'latency', 'timeout', 'freezes', 'takes forever'],
    phrases: ['the dashboard is very {a}', 'pages load {a} today', 'search {a} with large projects', 'constant {a} since the update'] },
  { name: 'mobile-app', weight: 24, words: ['iphone', 'android', 'mobile app', 'tablet', 'app store'],
    phrases: ['the {a} crashes on launch', 'on my {a} the menu is cut off', 'the {a} version does not sync', 'installed from the {b} yesterday'] },
  { name: 'integration-api', weight: 21, words: ['api', 'webhook', 'endpoint', 'zapier', 'rest call', 'token'],
    phrases: ['the {a} returns 500', 'our {a} stopped firing', 'which {a} lists invoices', 'the {a} rejects my {b}'] },
  { name: 'password-reset', weight: 18, words: ['password', 'reset link', 'forgot password', 'reset email'],
    phrases: ['the {a} never arrives', 'I clicked {a} and nothing happened', 'my {a} expired', 'need to reset my {a}'] },
  { name: 'notifications', weight: 15.5, words: ['notification', 'alerts', 'push', 'digest', 'reminder'],
    phrases: ['I get too many {a}', 'the daily {a} stopped', 'turn off {a} for comments', 'no {a} on my phone'] },
  { name: 'data-export', weight: 13, words: ['export', 'csv', 'download', 'backup', 'spreadsheet'],
    phrases: ['the {a} is missing columns', 'how can I {a} all records', 'the {a} file is empty', 'need a full {a} as {b}'] },
  { name: 'subscription-cancel', weight: 11, words: ['cancel', 'subscription', 'downgrade', 'unsubscribe', 'renewal'],
    phrases: ['I want to {a} my plan', 'please stop the {a}', 'how do I {a} before the {b}', 'the {a} button is missing'] },
  { name: 'ui-ux', weight: 9.5, words: ['layout', 'font', 'confusing', 'sidebar', 'contrast', 'design'],
    phrases: ['the new {a} is {b}', 'the {a} overlaps the text', 'I find the {a} hard to use', 'the {a} changed without notice'] },
  { name: 'security', weight: 8, words: ['suspicious', 'hacked', 'phishing', 'breach', 'unauthorized'],
    phrases: ['I got a {a} email', 'my account was {a}', 'there was {a} activity', 'report a possible {a}'] },
  { name: 'documentation', weight: 6.5, words: ['docs', 'documentation', 'guide', 'tutorial', 'help center'],
    phrases: ['the {a} is out of date', 'the {a} has a broken link', 'could the {a} explain this', 'the {a} contradicts the {b}'] },
  { name: 'invoice-tax', weight: 5.5, words: ['invoice', 'vat', 'tax id', 'receipt', 'company address'],
    phrases: ['the {a} lacks my {b}', 'please resend the {a}', 'wrong {a} on the {b}', 'need a {a} for accounting'] },
  { name: 'onboarding', weight: 4.2, words: ['onboarding', 'getting started', 'new user', 'trial', 'setup wizard'],
    phrases: ['the {a} skipped a step', 'as a {a} I am lost', 'the {a} checklist is stuck', 'help with {a}'] },
  { name: 'gdpr-privacy', weight: 3.2, words: ['gdpr', 'privacy', 'delete my data', 'personal data', 'consent'],
    phrases: ['request under {a}', 'please {a} permanently', 'what {a} do you store', 'withdraw my {a}'] },
  { name: 'sso-saml', weight: 2.3, words: ['sso', 'saml', 'okta', 'identity provider', 'azure ad'],
    phrases: ['{a} login fails for our team', 'configure {a} with {b}', 'the {a} assertion is rejected', '{a} users get logged out'] },
  { name: 'accessibility', fixed: 9, words: ['screen reader', 'accessibility', 'keyboard navigation', 'wcag'],
    phrases: ['the {a} skips the menu', 'is the site {a} compliant', '{a} cannot reach the dialog', 'issues with {a}'] },
  { name: 'localization', fixed: 7, words: ['translation', 'german', 'language', 'locale', 'date format'],
    phrases: ['the {a} is wrong', 'switch the {a} to {b}', 'missing {a} strings', 'the {a} shows english'] },
  { name: 'outage', fixed: 6, words: ['outage', 'down', 'status page', 'unreachable', '503'],
    phrases: ['the whole site is {a}', 'is there an {a} right now', 'the {a} says all good but it is {b}', 'service {a} for everyone'] },
];

// Pairs that travel together: when the first label is drawn, the second joins with this probability.
const COOCCUR = [
  ['refund', 'billing', 0.6],
  ['password-reset', 'login', 0.55],
  ['subscription-cancel', 'billing', 0.35],
  ['invoice-tax', 'billing', 0.5],
  ['mobile-app', 'bug-report', 0.3],
  ['performance', 'bug-report', 0.25],
  ['sso-saml', 'login', 0.5],
  ['security', 'login', 0.3],
  ['ui-ux', 'feature-request', 0.3],
  ['shipping', 'refund', 0.15],
];

const OPENERS = ['Hi team,', 'Hello,', 'Hey support,', 'Good morning,', '', '', 'Dear support,', 'Hi there,'];
const CLOSERS = ['Thanks in advance.', 'Please help asap.', 'Regards, Sam', 'Thank you!', '', '', 'Cheers', 'Any update would be great.', 'This is urgent for us.'];
const FILLER = [
  'order {n}', 'ticket {n}', 'we are on the pro plan', 'since last week', 'for the second time', 'on the web version',
  'our team of {s} people', 'I tried clearing the cache', 'my colleague has the same issue', 'using chrome',
  'it worked fine before', 'see the attached screenshot', 'account {n}', 'this morning', 'again',
];
const VAGUE = ['the thing I mentioned before', 'the same problem as last time', 'that issue', 'what we discussed on the phone'];

function render(r, label) {
  const phrase = r.pick(label.phrases);
  const a = r.pick(label.words);
  let b = r.pick(label.words);
  if (b === a) b = label.words[(label.words.indexOf(a) + 1) % label.words.length];
  return phrase.replace('{a}', a).replace('{b}', b);
}

function fill(r, s) {
  return s.replace('{n}', String(10000 + r.int(90000))).replace('{s}', String(2 + r.int(40)));
}

function csvField(s) {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function generate({ rows = 3000, seed = 20231 } = {}) {
  const r = rng(seed);
  const byName = new Map(LABELS.map((l) => [l.name, l]));
  const sampled = LABELS.filter((l) => !l.fixed);
  const totalWeight = sampled.reduce((s, l) => s + l.weight, 0);
  const drawLabel = () => {
    let u = r.next() * totalWeight;
    for (const l of sampled) {
      u -= l.weight;
      if (u < 0) return l.name;
    }
    return sampled[sampled.length - 1].name;
  };

  // 1. label sets
  const sets = [];
  for (let i = 0; i < rows; i++) {
    const u = r.next();
    const k = u < 0.42 ? 1 : u < 0.77 ? 2 : u < 0.94 ? 3 : 4;
    const set = new Set();
    let guard = 0;
    while (set.size < k && guard++ < 50) set.add(drawLabel());
    for (const [from, to, p] of COOCCUR) if (set.has(from) && !set.has(to) && r.chance(p)) set.add(to);
    sets.push(set);
  }
  // 2. fixed-count tail labels on distinct random rows (these rows stay fully annotated so the counts hold)
  const tailRows = new Set();
  for (const l of LABELS.filter((x) => x.fixed)) {
    let placed = 0;
    while (placed < l.fixed) {
      const i = r.int(rows);
      if (sets[i].has(l.name) || sets[i].size >= 4) continue;
      sets[i].add(l.name);
      tailRows.add(i);
      placed++;
    }
  }
  // 3. texts and partial annotation
  const lines = ['text,labels,negatives'];
  for (let i = 0; i < rows; i++) {
    const labels = LABELS.map((l) => l.name).filter((n) => sets[i].has(n)); // canonical order
    const parts = [];
    for (const name of labels) {
      // label noise: sometimes the label's mention is vague, sometimes said twice
      if (r.chance(0.06)) parts.push(r.pick(VAGUE));
      else parts.push(render(r, byName.get(name)));
      if (r.chance(0.25)) parts.push(render(r, byName.get(name)));
    }
    const nFill = r.int(3);
    for (let j = 0; j < nFill; j++) parts.push(fill(r, r.pick(FILLER)));
    // distractor: one word of a label the row does not have
    if (r.chance(0.15)) {
      const other = r.pick(LABELS.filter((l) => !sets[i].has(l.name) && !l.fixed));
      parts.push(`not sure if it is about ${r.pick(other.words)}`);
    }
    // shuffle the sentence order (Fisher-Yates)
    for (let j = parts.length - 1; j > 0; j--) {
      const k = r.int(j + 1);
      [parts[j], parts[k]] = [parts[k], parts[j]];
    }
    const opener = r.pick(OPENERS);
    const closer = r.pick(CLOSERS);
    let body = parts.map((p, j) => (j === 0 ? p[0].toUpperCase() + p.slice(1) : p)).join(r.chance(0.5) ? ', ' : '. ');
    const text = [opener, body + '.', closer].filter(Boolean).join(' ');

    let positives = labels;
    let negatives = [];
    // about 12% of rows: the annotator checked only some labels
    if (!tailRows.has(i) && r.chance(0.12)) {
      const checked = new Set([labels[0]]);
      const nChecked = 4 + r.int(6);
      while (checked.size < nChecked) checked.add(r.pick(sampled).name);
      positives = labels.filter((n) => checked.has(n));
      negatives = LABELS.map((l) => l.name).filter((n) => checked.has(n) && !sets[i].has(n));
    }
    lines.push([csvField(text), csvField(positives.join(',')), csvField(negatives.join(','))].join(','));
  }
  return lines.join('\n') + '\n';
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '3000' },
      seed: { type: 'string', default: '20231' },
      out: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'tickets.csv') },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log('usage: node examples/generate.mjs [--rows 3000] [--seed 20231] [--out examples/tickets.csv]');
    process.exit(0);
  }
  const rows = Number(values.rows);
  const seed = Number(values.seed);
  if (!Number.isInteger(rows) || rows < 100) throw new RangeError(`--rows must be an integer >= 100, got ${values.rows}`);
  if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got ${values.seed}`);
  writeFileSync(values.out, generate({ rows, seed }));
  console.log(`wrote ${values.out} (${rows} rows)`);
}

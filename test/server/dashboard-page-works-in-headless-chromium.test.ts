/**
 * The dashboard in a real headless Chromium (Debian's chromium, driven by playwright-core): the
 * page loads without console errors, shows every model, its numbers move under load, a placement
 * change appears in the timeline, a failed model shows its reason, a full queue is flagged, and
 * it fits a phone's screen. Skipped, saying why, where /usr/bin/chromium is missing (.ci/run
 * installs it). DASHBOARD_SCREENSHOTS=<dir> keeps the screenshots there (docs/ holds a run's).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import {
  BROKEN,
  CRASHY,
  SMALL_QUEUE,
  TEXT_ORIENTATION,
  load,
  serveDashboard,
  type DashboardServed,
} from './dashboard-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it where apt-get is available)`;

let s: DashboardServed;
let browser: Browser;
let shots: string;
const keep = process.env.DASHBOARD_SCREENSHOTS;

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  s = await serveDashboard();
  browser = await chromium.launch({ executablePath: CHROMIUM });
  shots = keep ? path.resolve(keep) : path.join(os.tmpdir(), `tenancy-dashboard-${process.pid}`);
  await mkdir(shots, { recursive: true });
});
after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
  if (!keep) await rm(shots, { recursive: true, force: true });
});

/** Opens the dashboard, collecting every console error, page error and failed request. */
async function open(viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The event stream is cut when the page closes; anything else failing is a problem.
    if (!r.url().endsWith('/dashboard/api/events')) problems.push(`request failed: ${r.url()}`);
  });
  const res = await page.goto(`${s.http}/dashboard`);
  assert.equal(res?.status(), 200);
  await page.waitForFunction(() => document.getElementById('link')?.textContent?.startsWith('live'), null, {
    timeout: 15_000,
  });
  return { page, problems };
}

const cell = (page: Page, model: string, column: string) =>
  page
    .locator(`tr[data-model="${model}"] td.${column}`)
    .textContent()
    .then((t) => (t ?? '').trim());

test('the page loads with no console errors, shows every model, a failed one with its reason, and moves under load', {
  skip,
}, async () => {
  const { page, problems } = await open({ width: 1280, height: 900 });
  try {
    for (const name of [TEXT_ORIENTATION, SMALL_QUEUE, CRASHY, BROKEN])
      assert.equal(await page.locator(`tr[data-model="${name}"]`).count(), 1, `a row for ${name}`);
    const reason = s.engine.index().find((r) => r.name === BROKEN)?.reason ?? '';
    assert.ok(reason.length > 10);
    assert.equal(await page.locator(`tr[data-model="${BROKEN}"] .reason`).textContent(), reason);
    assert.equal(await page.locator(`tr[data-model="${BROKEN}"] .badge`).first().textContent(), 'UNAVAILABLE');
    assert.match((await page.locator('#alerts').textContent()) ?? '', new RegExp(`${BROKEN} failed: `));
    // Every instance is drawn in its device's box.
    const instances = s.engine.loaded().reduce((n, m) => n + m.instances.length, 0);
    assert.equal(await page.locator('.device[data-device="cpu"] .instance').count(), instances);
    assert.ok((await page.locator('.uplot canvas').count()) >= 6, 'six live charts');

    const traffic = load(s.http, TEXT_ORIENTATION, 4);
    const full = load(s.http, SMALL_QUEUE, 12);
    const rates: number[] = [];
    try {
      for (let i = 0; i < 40 && new Set(rates.filter((r) => r > 0)).size < 3; i++) {
        await page.waitForTimeout(500);
        const r = Number(await cell(page, TEXT_ORIENTATION, 'rate'));
        if (rates.at(-1) !== r) rates.push(r);
      }
      assert.ok(new Set(rates.filter((r) => r > 0)).size >= 3, `inferences/s moved: ${rates.join(', ')}`);
      assert.match(await cell(page, TEXT_ORIENTATION, 'p50'), /^\d+\.\d\d$/);
      assert.match(await cell(page, TEXT_ORIENTATION, 'p99'), /^\d+\.\d\d$/);
      await page.waitForFunction(
        (m) => document.querySelector(`tr[data-model="${m}"] td.queue`)?.textContent?.includes('FULL'),
        SMALL_QUEUE,
        { timeout: 15_000 },
      );
      assert.match((await page.locator('#alerts').textContent()) ?? '', new RegExp(`${SMALL_QUEUE}: queue full`));
    } finally {
      await traffic.stop();
      await full.stop();
    }
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a placement change appears in the timeline with its reason', { skip }, async () => {
  const { page, problems } = await open({ width: 1100, height: 900 });
  const traffic = load(s.http, TEXT_ORIENTATION, 4);
  const full = load(s.http, SMALL_QUEUE, 12);
  try {
    const before = s.engine.model(TEXT_ORIENTATION).instances.length;
    const res = await fetch(`${s.http}/v2/placement`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        entries: [{ model: TEXT_ORIENTATION, device: 'cpu', instances: before + 1, threads: 1 }],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const item = page
      .locator('#timeline li[data-kind="placement"]', { hasText: `-> cpu: ${before + 1} x 1 thread` })
      .first();
    await item.waitFor({ timeout: 15_000 });
    assert.match((await item.textContent()) ?? '', new RegExp(`${TEXT_ORIENTATION}[\\s\\S]*why: PUT /v2/placement`));
    await page.waitForFunction(
      (n) => document.querySelectorAll('.device[data-device="cpu"] .instance').length === n,
      s.engine.loaded().reduce((n, m) => n + m.instances.length, 0),
    );
    // The picture of the docs: the failed model, the full queue, the change, under load.
    await page.waitForFunction(
      (m) => document.querySelector(`tr[data-model="${m}"] td.queue`)?.textContent?.includes('FULL'),
      SMALL_QUEUE,
      { timeout: 15_000 },
    );
    await screenshot(page, 'dashboard.png', true);
    assert.deepEqual(problems, []);
  } finally {
    await traffic.stop();
    await full.stop();
    await page.close();
  }
});

/** A screenshot, checked to be a PNG; kept small (a 256-colour palette) where it is kept. */
async function screenshot(page: Page, name: string, fullPage: boolean): Promise<void> {
  const raw = await page.screenshot({ fullPage });
  assert.deepEqual([...raw.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
  const png = keep ? await sharp(raw).png({ palette: true, colours: 64, compressionLevel: 9 }).toBuffer() : raw;
  await writeFile(path.join(shots, name), png);
}

test('on a phone-sized screen nothing runs off the side', { skip }, async () => {
  const { page, problems } = await open({ width: 390, height: 844 });
  try {
    const { scroll, inner } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
    }));
    assert.ok(scroll <= inner, `page ${scroll} px wide in a ${inner} px screen`);
    const box = await page.locator('#chart-throughput .uplot').boundingBox();
    assert.ok(box && box.width <= inner, 'the charts fit the screen');
    await screenshot(page, 'dashboard-phone.png', false);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

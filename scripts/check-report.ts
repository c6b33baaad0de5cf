#!/usr/bin/env -S node --import tsx
/**
 * Opens a report page in headless Chromium (Debian's `chromium`) and checks it as a person would see it:
 * the page renders without script errors, every chart has data and painted pixels, and nothing but the
 * page itself is requested (Chrome DevTools Protocol over --remote-debugging-pipe: every request the page
 * makes is seen). Optionally saves a full-page screenshot.
 *
 *   node --import tsx scripts/check-report.ts run.html [--screenshot docs/report.png] [--width 1200]
 *
 * Prints one JSON line ({charts, points, painted, requests, errors}) and exits 1 when a check fails.
 * test/report/chromium.test.ts runs it (skipped where chromium is not installed).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ?? null;

export interface PageCheck {
  ready: boolean;
  charts: { title: string; series: number; points: number }[];
  /** Painted (non-transparent) pixels per chart canvas. */
  painted: number[];
  /** Every URL the page requested (the page itself included). */
  requests: string[];
  errors: string[];
}

interface Cdp {
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>>;
  on(method: string, fn: (params: Record<string, unknown>) => void): void;
}

function cdpOverPipe(toChrome: Writable, fromChrome: Readable): Cdp {
  let id = 0;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, ((p: Record<string, unknown>) => void)[]>();
  let buf = '';
  fromChrome.setEncoding('utf8');
  fromChrome.on('data', (chunk: string) => {
    buf += chunk;
    for (let end = buf.indexOf('\0'); end >= 0; end = buf.indexOf('\0')) {
      const msg = JSON.parse(buf.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown> };
      buf = buf.slice(end + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const fn of listeners.get(msg.method) ?? []) fn(msg.params ?? {});
      }
    }
  });
  return {
    send(method, params = {}, sessionId) {
      const msgId = ++id;
      toChrome.write(JSON.stringify({ id: msgId, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
      return new Promise((resolve, reject) => pending.set(msgId, { resolve, reject }));
    },
    on(method, fn) {
      listeners.set(method, [...(listeners.get(method) ?? []), fn]);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function checkReport(page: string, o: { screenshot?: string; width?: number; timeoutMs?: number } = {}): Promise<PageCheck> {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'goten-chromium-'));
  // the flags keep Chromium from reaching out on its own (updates, sync, field trials): this machine has no network
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-extensions', '--disable-default-apps', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'];
  const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  try {
    const cdp = cdpOverPipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
    const requests: string[] = [];
    const errors: string[] = [];
    cdp.on('Network.requestWillBeSent', (p) => requests.push(String((p.request as { url?: string })?.url)));
    cdp.on('Runtime.exceptionThrown', (p) => errors.push(JSON.stringify((p.exceptionDetails as { text?: string })?.text ?? p)));
    cdp.on('Runtime.consoleAPICalled', (p) => {
      if (p.type === 'error') errors.push(`console.error: ${JSON.stringify(p.args)}`);
    });
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
    const target = targetInfos.find((t) => t.type === 'page') ?? (await cdp.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string });
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: true })) as { sessionId: string };
    const width = o.width ?? 1200;
    await cdp.send('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
    for (const d of ['Network', 'Page', 'Runtime']) await cdp.send(`${d}.enable`, {}, sessionId);
    const eval_ = async <T>(expr: string): Promise<T> =>
      ((await cdp.send('Runtime.evaluate', { expression: expr, returnByValue: true }, sessionId)) as { result: { value: T } }).result.value;
    await cdp.send('Page.navigate', { url: pathToFileURL(resolve(page)).href }, sessionId);
    let ready = false;
    for (let i = 0; i < 200 && !ready; i++) {
      await sleep(50);
      ready = (await eval_<string | undefined>('document.body && document.body.dataset.ready')) === '1';
    }
    const state = await eval_<{ charts: PageCheck['charts']; painted: number[]; error?: string }>(`(() => ({
      charts: (window.__report || { charts: [] }).charts,
      error: document.body.dataset.error,
      painted: [...document.querySelectorAll('.uplot canvas')].map((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      }),
    }))()`);
    if (state.error) errors.push(`page: ${state.error}`);
    if (o.screenshot) {
      const height = await eval_<number>('Math.ceil(document.documentElement.scrollHeight)');
      await cdp.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
      await sleep(100);
      const shot = (await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId)) as { data: string };
      writeFileSync(o.screenshot, Buffer.from(shot.data, 'base64'));
    }
    await cdp.send('Browser.close').catch(() => ({}));
    return { ready, charts: state.charts, painted: state.painted, requests, errors };
  } finally {
    clearTimeout(killer);
    // Browser.close lets Chromium exit by itself; the profile can only go once it has
    const exited = child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.race([exited, sleep(5000)]);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/** The failures of a check (empty: the page is fine). */
export function problems(c: PageCheck, page: string): string[] {
  const out: string[] = [];
  if (!c.ready) out.push('the page never finished drawing');
  if (c.charts.length === 0) out.push('no charts');
  for (const ch of c.charts) if (ch.points === 0) out.push(`chart '${ch.title}' has no data`);
  if (c.painted.length !== c.charts.length || c.painted.some((n) => n < 100)) out.push(`blank chart canvas (painted pixels ${c.painted.join(',')})`);
  const self = pathToFileURL(resolve(page)).href;
  const other = c.requests.filter((u) => u !== self);
  if (other.length > 0) out.push(`the page fetched ${other.join(', ')}`);
  out.push(...c.errors);
  return out;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const args = process.argv.slice(2);
  const page = args[0];
  if (!page) throw new Error('usage: check-report.ts page.html [--screenshot out.png] [--width px]');
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const c = await checkReport(page, { screenshot: at('--screenshot'), width: at('--width') ? Number(at('--width')) : undefined });
  const bad = problems(c, page);
  process.stdout.write(JSON.stringify({ charts: c.charts.length, points: c.charts.reduce((a, x) => a + x.points, 0), painted: c.painted, requests: c.requests, errors: c.errors }) + '\n');
  if (bad.length > 0) {
    process.stderr.write(`report check failed: ${bad.join('; ')}\n`);
    process.exitCode = 1;
  }
}

/**
 * One self-contained HTML page: uPlot (npm `uplot`, MIT) and its stylesheet inlined, the data embedded as
 * JSON, the page's own script (page-script.ts). A Content-Security-Policy of `default-src 'none'` with
 * only inline scripts and styles allowed means the browser fetches nothing, even if something tried.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RunLog } from './metrics.js';
import { PAGE_SCRIPT } from './page-script.js';

const require = createRequire(import.meta.url);
let uplot: { js: string; css: string } | null = null;

/** uPlot's browser build, read once from the installed package. */
function uplotAssets(): { js: string; css: string } {
  if (!uplot) {
    const dir = require.resolve('uplot').replace(/uPlot\.cjs\.js$/, '');
    uplot = { js: readFileSync(`${dir}uPlot.iife.min.js`, 'utf8'), css: readFileSync(`${dir}uPlot.min.css`, 'utf8') };
  }
  return uplot;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Text that can sit inside <script> without ending it. */
function scriptSafe(s: string): string {
  return s.replace(/<\/(script)/gi, '<\\/$1');
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1140px; padding: 16px 20px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-bottom: 8px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.chart { margin: 12px 0; } .error { color: #b00; white-space: pre-wrap; }
`;

export interface PageOptions {
  title: string;
}

function page(title: string, data: unknown): string {
  const { js, css } = uplotAssets();
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${css}</style><style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<div class="meta">generated ${escapeHtml(new Date().toISOString())} by goten-ts; charts: uPlot (inlined, nothing is fetched)</div>
<div id="main"></div>
<script type="application/json" id="report-data">${json}</script>
<script>${scriptSafe(js)}</script>
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body></html>
`;
}

/** The training report of one or more runs (several runs: overlaid curves). */
export function reportHtml(runs: readonly RunLog[], o: PageOptions): string {
  return page(o.title, { kind: 'train', runs });
}

/** The per-layer time bars of `goten bench step` results. */
export function benchHtml(results: readonly unknown[], o: PageOptions): string {
  return page(o.title, { kind: 'bench', bench: results });
}

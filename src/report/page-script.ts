/**
 * The report page's own script (runs in the browser, after uPlot): reads the embedded data, draws the
 * charts with uPlot and the tables with textContent (never innerHTML: labels and settings come from the
 * user). When done it sets body[data-ready], data-charts and data-points, and window.__report lists every
 * chart with its number of data points — what scripts/check-report.mjs reads in headless Chromium.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('report-data').textContent);
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
  var summary = { charts: [] };
  var main = document.getElementById('main');

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function section(title) {
    var s = el('section');
    s.appendChild(el('h2', title));
    main.appendChild(s);
    return s;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || (typeof v === 'number' && !isFinite(v))) return '–';
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v)) return String(v);
    return v.toPrecision(digits || 4);
  }
  function table(parent, head, rows) {
    var t = el('table');
    var tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', h)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c) { row.appendChild(el('td', fmt(c))); });
      t.appendChild(row);
    });
    parent.appendChild(t);
  }
  function width(parent) {
    return Math.max(480, Math.min(1100, (parent.clientWidth || 900) - 8));
  }

  /** A line chart; defs: [{label, color, dash, points: [[x, y], …], dots}] sharing the x axis. */
  function lineChart(parent, title, xLabel, yLabel, defs) {
    defs = defs.filter(function (d) { return d.points.length > 0; });
    if (defs.length === 0) return;
    var box = el('div', undefined, 'chart');
    parent.appendChild(box);
    var tables = defs.map(function (d) {
      var pts = d.points.slice().sort(function (a, b) { return a[0] - b[0]; });
      return [pts.map(function (p) { return p[0]; }), pts.map(function (p) { return p[1]; })];
    });
    var data = uPlot.join(tables);
    var opts = {
      title: title,
      width: width(parent),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: xLabel }, { label: yLabel, size: 64 }],
      series: [{ label: xLabel }].concat(defs.map(function (d) {
        return { label: d.label, stroke: d.color, dash: d.dash, width: 1.5, spanGaps: true, points: { show: !!d.dots, size: 6, fill: d.color } };
      })),
    };
    new uPlot(opts, data, box);
    var n = defs.reduce(function (a, d) { return a + d.points.length; }, 0);
    summary.charts.push({ title: title, series: defs.length, points: n });
  }

  /** Stacked bars (one per category), drawn by overpainting cumulative sums; the legend shows each part. */
  function stackedBars(parent, title, categories, yLabel, parts) {
    var box = el('div', undefined, 'chart');
    parent.appendChild(box);
    var xs = categories.map(function (_, i) { return i; });
    var cum = [];
    parts.forEach(function (p, k) {
      cum.push(p.values.map(function (v, i) { return v + (k > 0 ? cum[k - 1][i] : 0); }));
    });
    var order = parts.map(function (_, k) { return parts.length - 1 - k; });
    var bars = uPlot.paths.bars({ size: [0.7, 80] });
    var opts = {
      title: title,
      width: width(parent),
      height: 300,
      scales: { x: { time: false, range: [-0.6, categories.length - 0.4] } },
      axes: [
        { label: 'layer', values: function (u, ticks) { return ticks.map(function (t) { return Number.isInteger(t) ? (categories[t] || '') : ''; }); }, rotate: -30, size: 70 },
        { label: yLabel, size: 64 },
      ],
      series: [{ label: 'layer', value: function (u, v) { return v === null ? '' : (categories[v] || ''); } }].concat(order.map(function (k) {
        return {
          label: parts[k].label, fill: parts[k].color, stroke: parts[k].color, width: 0, paths: bars, points: { show: false },
          value: function (u, v, si, i) { return i === null || i === undefined ? '' : fmt(parts[k].values[i], 3); },
        };
      })),
    };
    new uPlot(opts, [xs].concat(order.map(function (k) { return cum[k]; })), box);
    summary.charts.push({ title: title, series: parts.length, points: categories.length * parts.length });
  }

  function trainReport() {
    var runs = DATA.runs;
    var many = runs.length > 1;
    function name(r, what) { return many ? r.run.label + ': ' + what : what; }
    function pts(list, key, scale) {
      return list.filter(function (r) { return typeof r[key] === 'number'; }).map(function (r) { return [r.x, r[key] * (scale || 1)]; });
    }
    var sSet = section('Settings');
    var keys = [];
    runs.forEach(function (r) { Object.keys(r.run.settings).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    table(sSet, ['setting'].concat(runs.map(function (r) { return r.run.label; })), [['started'].concat(runs.map(function (r) { return r.run.startedAt; }))].concat(keys.map(function (k) {
      return [k].concat(runs.map(function (r) { return r.run.settings[k]; }));
    })));

    var curves = section('Training curves');
    var lines = { loss: [], acc: [], lr: [], ips: [], ovf: [] };
    runs.forEach(function (r, i) {
      var c = COLORS[i % COLORS.length];
      lines.loss.push({ label: name(r, 'train loss (interval)'), color: c, points: pts(r.intervals, 'loss') });
      lines.loss.push({ label: name(r, 'train loss (epoch)'), color: c, dash: [6, 4], dots: true, points: pts(r.epochs, 'loss') });
      lines.loss.push({ label: name(r, 'test loss'), color: c, dash: [2, 3], dots: true, points: pts(r.epochs, 'testLoss') });
      lines.acc.push({ label: name(r, 'train accuracy (interval)'), color: c, points: pts(r.intervals, 'accuracy', 100) });
      lines.acc.push({ label: name(r, 'train accuracy (epoch)'), color: c, dash: [6, 4], dots: true, points: pts(r.epochs, 'trainAccuracy', 100) });
      lines.acc.push({ label: name(r, 'test accuracy'), color: c, dash: [2, 3], dots: true, points: pts(r.epochs, 'testAccuracy', 100) });
      lines.lr.push({ label: name(r, 'learning rate'), color: c, points: pts(r.intervals, 'lr') });
      lines.ips.push({ label: name(r, 'images/s'), color: c, points: pts(r.intervals, 'imagesPerSecond') });
      lines.ovf.push({ label: name(r, 'overflows per interval'), color: c, dots: true, points: pts(r.intervals, 'overflows') });
    });
    lineChart(curves, 'Loss', 'epoch', 'cross-entropy', lines.loss);
    lineChart(curves, 'Accuracy', 'epoch', '%', lines.acc);
    lineChart(curves, 'Learning rate', 'epoch', 'lr', lines.lr);
    lineChart(curves, 'Throughput', 'epoch', 'images / s', lines.ips);
    lineChart(curves, 'Overflows (products that would have wrapped mod P, recovered)', 'epoch', 'count', lines.ovf);

    var ep = section('Epochs');
    var rows = [];
    runs.forEach(function (r) {
      r.epochs.forEach(function (e) {
        rows.push([r.run.label, e.epoch, e.step, e.loss, 100 * e.trainAccuracy, 100 * e.testAccuracy, e.testLoss, e.imagesPerSecond, e.overflows, e.seconds, e.evalSeconds]);
      });
    });
    table(ep, ['run', 'epoch', 'step', 'loss', 'train %', 'test %', 'test loss', 'images/s', 'overflows', 'train s', 'eval s'], rows);

    var secureRuns = runs.filter(function (r) { return r.intervals.some(function (x) { return x.secure; }); });
    if (secureRuns.length === 0) return;
    var sec = section('Secure mode: traffic and time');
    var traffic = [];
    var time = [];
    secureRuns.forEach(function (r, i) {
      var c = COLORS[runs.indexOf(r) % COLORS.length];
      var withS = r.intervals.filter(function (x) { return x.secure; });
      var parties = withS[0].secure.workers.map(function (w) { return w.party; });
      parties.forEach(function (p, wi) {
        traffic.push({ label: name(r, p + ' MiB/step (sent + received)'), color: COLORS[(runs.indexOf(r) + wi + 1) % COLORS.length], dash: wi ? [4 * wi, 3] : undefined,
          points: withS.map(function (x) { var w = x.secure.workers[wi]; return [x.x, (w.sentBytes + w.receivedBytes) / x.steps / 1048576]; }) });
      });
      time.push({ label: name(r, 'wall ms/step'), color: c, points: withS.map(function (x) { return [x.x, x.secure.wallMs / x.steps]; }) });
      time.push({ label: name(r, 'enclave CPU ms/step'), color: c, dash: [6, 4], points: withS.map(function (x) { return [x.x, x.secure.enclaveCpuMs / x.steps]; }) });
      parties.forEach(function (p, wi) {
        var busy = withS.filter(function (x) { return typeof x.secure.workers[wi].busyMs === 'number'; });
        time.push({ label: name(r, p + ' busy ms/step'), color: COLORS[(runs.indexOf(r) + wi + 1) % COLORS.length], dash: [2, 3],
          points: busy.map(function (x) { return [x.x, x.secure.workers[wi].busyMs / x.steps]; }) });
      });
    });
    lineChart(sec, 'Traffic per step, enclave ↔ each worker', 'epoch', 'MiB / step', traffic);
    lineChart(sec, 'Time per step: enclave vs workers', 'epoch', 'ms / step', time);
    var totals = [];
    secureRuns.forEach(function (r) {
      var all = r.epochs.filter(function (e) { return e.secure; });
      if (all.length === 0) all = r.intervals.filter(function (x) { return x.secure; });
      var cpu = all.reduce(function (a, e) { return a + e.secure.enclaveCpuMs; }, 0);
      var wall = all.reduce(function (a, e) { return a + e.secure.wallMs; }, 0);
      all[0].secure.workers.forEach(function (w, wi) {
        var sum = function (k) { return all.reduce(function (a, e) { return a + (e.secure.workers[wi][k] || 0); }, 0); };
        totals.push([r.run.label, w.party, sum('sentBytes') / 1048576, sum('receivedBytes') / 1048576, sum('busyMs') / 1000, cpu / 1000, wall / 1000]);
      });
    });
    table(sec, ['run', 'worker', 'MiB sent to it', 'MiB received', 'worker busy s', 'enclave CPU s', 'wall s'], totals);
  }

  function benchReport() {
    var b = DATA.bench;
    var info = section('Benchmark');
    table(info, ['mode', 'model', 'batch', 'steps', 'wall ms/step', 'enclave CPU ms/step', 'linear CPU ms', 'non-linear CPU ms', 'MiB out/step', 'MiB in/step', 'overflows'],
      b.map(function (r) {
        var sum = function (k) { return r.bytes.reduce(function (a, x) { return a + x[k]; }, 0) / 1048576; };
        return [r.mode, r.model, r.batch, r.steps, r.wallMs, r.enclaveBusyMs, r.linear.cpuMs, r.nonLinear.cpuMs, r.bytes.length ? sum('sent') : null, r.bytes.length ? sum('received') : null, r.overflows];
      }));
    var layers = section('Per-layer time (enclave CPU ms per step)');
    var partColors = ['#1f77b4', '#aec7e8', '#d62728', '#ff9896'];
    b.forEach(function (r) {
      var rows = r.layers.filter(function (l) { return l.type !== 'flatten'; });
      var keys = [['fwdLinear', 'forward linear'], ['fwdNonLinear', 'forward non-linear'], ['bwdLinear', 'backward linear'], ['bwdNonLinear', 'backward non-linear']];
      stackedBars(layers, r.mode + ': ' + r.model + ', batch ' + r.batch, rows.map(function (l) { return l.layer; }), 'CPU ms / step',
        keys.map(function (k, i) { return { label: k[1], color: partColors[i], values: rows.map(function (l) { return l[k[0]].cpuMs; }) }; }));
    });
  }

  try {
    if (DATA.kind === 'bench') benchReport(); else trainReport();
    document.body.dataset.charts = String(summary.charts.length);
    document.body.dataset.points = String(summary.charts.reduce(function (a, c) { return a + c.points; }, 0));
  } catch (e) {
    document.body.dataset.error = String(e && e.message || e);
    main.appendChild(el('pre', 'report error: ' + String(e && e.stack || e), 'error'));
  }
  window.__report = summary;
  document.body.dataset.ready = '1';
})();
`;

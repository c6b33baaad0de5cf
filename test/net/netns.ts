/**
 * A throw-away multi-host network for tests: every party in its own Linux network namespace, one
 * veth pair per party into a "switch" namespace holding a bridge, addresses from a private test
 * range (10.213.0.0/24, nobody else's hosts), and each party's link optionally shaped (netem when
 * the kernel has it, else a tbf rate limit). Needs root and `ip` (iproute2); `unavailable()` says
 * why not before anything is created. Everything lives inside namespaces named after this process,
 * so `destroy()` (or a crash followed by the next run's clean-up of the same names) leaves nothing.
 */
import { spawnSync } from 'node:child_process';

export const SUBNET = '10.213.0';

export interface Shaping {
  /** The qdisc actually installed ('netem' or 'tbf'), or null when neither is available. */
  readonly qdisc: 'netem' | 'tbf' | null;
  readonly spec: string;
}

function run(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, err: (r.stderr || r.error?.message || '').trim() };
}

function must(cmd: string, args: string[]): void {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')}: ${r.err}`);
}

export class NetnsCluster {
  readonly prefix: string;
  readonly hosts = new Map<string, string>();

  constructor(readonly parties: readonly string[]) {
    this.prefix = `gt${process.pid % 100000}`;
  }

  /** Why namespaces cannot be used here (null: they can). Creates and deletes one probe namespace. */
  static unavailable(): string | null {
    if (process.platform !== 'linux') return 'network namespaces are Linux-only';
    if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
    const probe = `gtprobe${process.pid % 100000}`;
    const r = run('ip', ['netns', 'add', probe]);
    if (!r.ok) return `ip netns add failed: ${r.err || 'iproute2 missing?'}`;
    run('ip', ['netns', 'del', probe]);
    const v = run('ip', ['link', 'add', `${probe}a`, 'type', 'veth', 'peer', 'name', `${probe}b`]);
    if (!v.ok) return `veth pairs unavailable: ${v.err}`;
    run('ip', ['link', 'del', `${probe}a`]);
    return null;
  }

  ns(party: string): string {
    return `${this.prefix}-${party}`;
  }

  /** The party's side of its link, as seen from the switch namespace. */
  #port(party: string): string {
    return `${this.prefix}${party}s`;
  }

  /** Builds the switch and one host per party; returns what shaping was installed. */
  create(shape: { rate: string; delay: string }): Shaping {
    this.destroy(); // leftovers of a crashed run with the same pid
    const sw = this.ns('sw');
    must('ip', ['netns', 'add', sw]);
    must('ip', ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    must('ip', ['-n', sw, 'link', 'set', 'br0', 'up']);
    let shaping: Shaping = { qdisc: null, spec: 'none' };
    this.parties.forEach((party, i) => {
      const ns = this.ns(party);
      must('ip', ['netns', 'add', ns]);
      const inner = `${this.prefix}${party}h`;
      const outer = this.#port(party);
      must('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
      must('ip', ['link', 'set', inner, 'netns', ns]);
      must('ip', ['link', 'set', outer, 'netns', sw]);
      must('ip', ['-n', ns, 'link', 'set', inner, 'name', 'eth0']);
      const addr = `${SUBNET}.${10 + i}`;
      must('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      must('ip', ['-n', sw, 'link', 'set', outer, 'master', 'br0']);
      must('ip', ['-n', sw, 'link', 'set', outer, 'up']);
      this.hosts.set(party, addr);
      shaping = this.#shape(ns, shape);
    });
    return shaping;
  }

  /** netem (rate and delay) where the kernel has it, else tbf (rate only), else nothing. */
  #shape(ns: string, s: { rate: string; delay: string }): Shaping {
    const tc = (args: string[]) => run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...args]);
    if (tc(['netem', 'delay', s.delay, 'rate', s.rate]).ok) return { qdisc: 'netem', spec: `netem ${s.rate}, ${s.delay}` };
    if (tc(['tbf', 'rate', s.rate, 'burst', '256kb', 'latency', '50ms']).ok) return { qdisc: 'tbf', spec: `tbf ${s.rate} (no netem in this kernel: no added delay)` };
    return { qdisc: null, spec: 'none (neither netem nor tbf available)' };
  }

  /** Cuts (down) or restores (up) a party's link at the switch. */
  link(party: string, state: 'up' | 'down'): void {
    must('ip', ['-n', this.ns('sw'), 'link', 'set', this.#port(party), state]);
  }

  /** The command line that runs `argv` inside the party's namespace. */
  exec(party: string, argv: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.ns(party), ...argv]];
  }

  destroy(): void {
    for (const name of ['sw', ...this.parties].map((p) => this.ns(p))) run('ip', ['netns', 'del', name]);
  }
}

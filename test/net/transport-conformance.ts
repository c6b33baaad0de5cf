/**
 * The ONE conformance suite every Transport implementation runs:
 * runTransportConformance(name, factory). The factory builds a listener plus
 * ways to connect to it — a normal Connection and, where the transport carries
 * bytes, a raw byte client to inject split, batched and malformed frames.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FrameDecoder } from '../../src/net/decoder.js';
import { encodeFrame, FrameError, frameSize, type OutgoingMessage, type ReceivedMessage } from '../../src/net/frame.js';
import { MsgType } from '../../src/net/message-types.js';
import { BufferPool } from '../../src/net/pool.js';
import {
  ConnectionClosedError,
  PeerError,
  TimeoutError,
  UnexpectedMessageError,
  type Connection,
  type Listener,
} from '../../src/net/transport.js';

/** A client that writes raw bytes and records what it receives. */
export interface RawClient {
  write(bytes: Uint8Array): Promise<void>;
  end(): void;
  destroy(): void;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
}

export interface Harness {
  listener: Listener;
  connect(): Promise<Connection>;
  /** Absent for transports that pass messages, not bytes. */
  connectRaw?: () => Promise<RawClient>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  maxFrameBytes: number;
  pool: BufferPool;
}

export type HarnessFactory = (opts: HarnessOptions) => Promise<Harness>;

const MAX_FRAME = 24 * 1024 * 1024;

/** Encode a message to its exact wire bytes. */
export function wireBytes(msg: OutgoingMessage): Buffer {
  const f = encodeFrame(msg);
  return Buffer.concat([f.header, f.payload]);
}

/** Decode the frames of a byte string (ignoring a trailing partial frame). */
export function decodeAll(bytes: Uint8Array): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  const d = new FrameDecoder((m) => out.push(m), { maxFrameBytes: 1 << 30 });
  d.push(bytes);
  return out;
}

function ramp(n: number, seed: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((i * 2654435761 + seed) | 0) % 1048571;
  return a;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Expect the server-side connection to close with a FrameError of `code`, and the raw peer to get an Error frame. */
async function expectRejected(server: Connection, raw: RawClient, code: string): Promise<void> {
  const reason = await server.closed;
  assert.ok(reason instanceof FrameError, `expected FrameError, got ${reason}`);
  assert.equal(reason.code, code);
  await assert.rejects(server.recv(), (e: Error) => e instanceof FrameError && e.code === code);
  await raw.closed;
  const errs = decodeAll(raw.received()).filter((m) => m.type === MsgType.Error);
  assert.equal(errs.length, 1, 'the peer is told why');
  assert.equal((errs[0] as { value: { code: string } }).value.code, code);
}

export function runTransportConformance(name: string, factory: HarnessFactory): void {
  describe(`transport conformance: ${name}`, () => {
    let h: Harness;
    const pool = new BufferPool(256 * 1024 * 1024, 4);
    before(async () => {
      h = await factory({ maxFrameBytes: MAX_FRAME, pool });
    });
    after(async () => {
      await h.close();
    });

    async function pair(): Promise<[Connection, Connection]> {
      const c = await h.connect();
      const s = await h.listener.accept({ timeoutMs: 5000 });
      return [c, s];
    }

    it('round-trips Int32, Float32, Uint8 and JSON with meta fields, both directions', async () => {
      const [c, s] = await pair();
      const i32 = ramp(6, 1);
      const f32 = new Float32Array([1.5, -2.25, Math.PI, 0]);
      const u8 = new Uint8Array([0, 1, 254, 255]);
      await c.send({ type: MsgType.Shares, opId: 7, label: 'conv1.fwd', flags: 0xbeef, dtype: 'int32', dims: [2, 3], data: i32 });
      await c.send({ type: MsgType.Data, dtype: 'float32', dims: [2, 2], data: f32 });
      await c.send({ type: MsgType.Data, dtype: 'uint8', data: u8 });
      await c.send({ type: MsgType.Control, opId: 0xffffffff, dtype: 'json', value: { k: 'v', n: [1, 2], u: 'ü' } });
      const a = await s.expect(MsgType.Shares, { opId: 7, label: 'conv1.fwd' });
      assert.equal(a.dtype, 'int32');
      assert.deepEqual(a.dims, [2, 3]);
      assert.equal(a.flags, 0xbeef);
      assert.deepEqual(a.dtype === 'int32' && Array.from(a.data), Array.from(i32));
      if (a.dtype === 'int32') assert.equal(a.data.byteOffset % 8, 0);
      a.release();
      a.release(); // idempotent
      const b = await s.recv();
      assert.ok(b.dtype === 'float32' && b.data instanceof Float32Array);
      assert.deepEqual(Array.from(b.data), Array.from(f32));
      const u = await s.recv();
      assert.ok(u.dtype === 'uint8');
      assert.deepEqual([...u.data], [...u8]);
      assert.deepEqual(u.dims, [4]);
      const j = await s.recv();
      assert.equal(j.opId, 0xffffffff);
      assert.deepEqual(j.dtype === 'json' && j.value, { k: 'v', n: [1, 2], u: 'ü' });
      await s.send({ type: MsgType.Result, opId: 7, dtype: 'int32', data: i32 });
      const back = await c.expect(MsgType.Result, { opId: 7 });
      assert.deepEqual(back.dtype === 'int32' && Array.from(back.data), Array.from(i32));
      await c.close();
      assert.equal(await s.closed, null);
      await assert.rejects(s.recv(), ConnectionClosedError);
      await assert.rejects(c.send({ type: MsgType.Ping, dtype: 'json', value: null }), ConnectionClosedError);
    });

    it('handles empty tensors, scalars and empty JSON', async () => {
      const [c, s] = await pair();
      await c.send({ type: MsgType.Data, dtype: 'int32', dims: [0], data: new Int32Array(0) });
      await c.send({ type: MsgType.Data, dtype: 'float32', dims: [3, 0, 2], data: new Float32Array(0) });
      await c.send({ type: MsgType.Data, dtype: 'int32', dims: [], data: new Int32Array([42]) });
      await c.send({ type: MsgType.Data, dtype: 'json', value: null });
      await c.send({ type: MsgType.Data, dtype: 'json', value: '' });
      const m1 = await s.recv();
      assert.ok(m1.dtype === 'int32' && m1.data.length === 0 && m1.dims[0] === 0);
      const m2 = await s.recv();
      assert.ok(m2.dtype === 'float32' && m2.data.length === 0);
      assert.deepEqual(m2.dims, [3, 0, 2]);
      const m3 = await s.recv();
      assert.ok(m3.dtype === 'int32' && m3.data[0] === 42 && m3.dims.length === 0);
      assert.equal((await s.recv()).dtype === 'json' && null, null);
      const m5 = await s.recv();
      assert.equal(m5.dtype === 'json' && m5.value, '');
      await c.close();
    });

    it('moves a 16 MB Int32 tensor each way intact, reusing pooled buffers', async () => {
      const [c, s] = await pair();
      const n = 4 * 1024 * 1024;
      const big = ramp(n, 3);
      for (let round = 0; round < 2; round++) {
        const [, m] = await Promise.all([c.send({ type: MsgType.Shares, dtype: 'int32', dims: [1024, n / 1024], data: big }), s.recv()]);
        assert.ok(m.dtype === 'int32' && m.data.length === n);
        let bad = 0;
        for (let i = 0; i < n; i++) if (m.data[i] !== big[i]) bad++;
        assert.equal(bad, 0);
        const [, r] = await Promise.all([s.send({ type: MsgType.Result, dtype: 'int32', data: m.data }), c.recv()]);
        assert.ok(r.dtype === 'int32' && r.data[n - 1] === big[n - 1] && r.data[12345] === big[12345]);
        m.release();
        r.release();
      }
      await c.close();
    });

    it('delivers many frames in order', async () => {
      const [c, s] = await pair();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 300; i++) sends.push(c.send({ type: MsgType.Shares, opId: i, dtype: 'int32', data: new Int32Array([i, -i]) }));
      await Promise.all(sends);
      for (let i = 0; i < 300; i++) {
        const m = await s.recv();
        assert.ok(m.opId === i && m.dtype === 'int32' && m.data[1] === -i);
        m.release();
      }
      await c.close();
    });

    it('counts frame bytes per type and label, and send→receive rounds', async () => {
      const [c, s] = await pair();
      const req = (i: number): OutgoingMessage => ({ type: MsgType.OpRequest, opId: i, label: 'fc1.fwd', dtype: 'json', value: { i } });
      const shares = (i: number): OutgoingMessage => ({ type: MsgType.Shares, opId: i, label: 'fc1.fwd', dtype: 'int32', dims: [5, 2], data: ramp(10, i) });
      const res = (i: number): OutgoingMessage => ({ type: MsgType.Result, opId: i, label: 'fc1.fwd', dtype: 'int32', data: ramp(3, i) });
      const c0 = c.counters.snapshot();
      const s0 = s.counters.snapshot();
      let sent = 0;
      let back = 0;
      for (let i = 0; i < 3; i++) {
        await c.send(req(i));
        await c.send(shares(i));
        sent += frameSize(req(i)) + frameSize(shares(i));
        (await s.expect(MsgType.OpRequest)).release();
        (await s.expect(MsgType.Shares)).release();
        await s.send(res(i));
        back += frameSize(res(i));
        (await c.expect(MsgType.Result)).release();
      }
      const cs = c.counters.snapshot();
      const ss = s.counters.snapshot();
      assert.equal(cs.sent.bytes - c0.sent.bytes, sent);
      assert.equal(ss.received.bytes - s0.received.bytes, sent);
      assert.equal(ss.sent.bytes - s0.sent.bytes, back);
      assert.equal(cs.received.bytes - c0.received.bytes, back);
      assert.equal(cs.byLabel['fc1.fwd'].sent.bytes, sent);
      assert.equal(cs.byLabel['fc1.fwd'].sent.frames, 6);
      assert.equal(ss.byLabel['fc1.fwd'].received.bytes, sent);
      assert.equal(ss.byType.Shares.received.bytes, 3 * frameSize(shares(0)));
      assert.equal(cs.byType.Result.received.frames, 3);
      assert.equal(cs.byLabel['fc1.fwd'].rounds, 3, 'client: one round per request/response');
      assert.equal(ss.byLabel['fc1.fwd'].rounds, 2, 'server: turnarounds it saw');
      await c.close();
    });

    it('recv times out without closing; expect() on the wrong type closes the connection', async () => {
      const [c, s] = await pair();
      await assert.rejects(s.recv({ timeoutMs: 20 }), TimeoutError);
      assert.equal(s.isClosed, false);
      await c.send({ type: MsgType.Ping, dtype: 'json', value: 1 });
      await assert.rejects(s.expect(MsgType.Pong), UnexpectedMessageError);
      assert.ok((await s.closed) instanceof UnexpectedMessageError);
      await assert.rejects(c.recv({ timeoutMs: 5000 }), (e: Error) => e instanceof ConnectionClosedError || e instanceof PeerError);
    });

    it('refuses to send an oversized frame or mismatched dims', async () => {
      const [c] = await pair();
      await assert.rejects(c.send({ type: MsgType.Data, dtype: 'uint8', data: new Uint8Array(MAX_FRAME) }), /OVERSIZED/);
      await assert.rejects(c.send({ type: MsgType.Data, dtype: 'int32', dims: [2, 2], data: new Int32Array(3) }), /BAD_DIMS/);
      await assert.rejects(c.send({ type: 9999, dtype: 'json', value: 1 }), /UNKNOWN_TYPE/);
      assert.equal(c.isClosed, false);
      await c.close();
    });

    describe('raw bytes', () => {
      const frames = (): OutgoingMessage[] => [
        { type: MsgType.Shares, opId: 1, label: 'a', dtype: 'int32', dims: [3, 5], data: ramp(15, 9) },
        { type: MsgType.Control, dtype: 'json', value: { hello: 'world' } },
        { type: MsgType.Data, dtype: 'float32', data: new Float32Array([0.5, 2, -8]) },
        { type: MsgType.Data, dtype: 'int32', dims: [0], data: new Int32Array(0) },
      ];
      const check = (got: ReceivedMessage[], want: OutgoingMessage[]): void => {
        assert.equal(got.length, want.length);
        got.forEach((m, i) => {
          const w = want[i];
          assert.equal(m.type, w.type);
          if (w.dtype === 'json') assert.deepEqual(m.dtype === 'json' && m.value, w.value);
          else assert.deepEqual(Array.from((m as { data: ArrayLike<number> }).data), Array.from(w.data));
        });
      };
      const skip = (): boolean => !h.connectRaw;

      it('decodes frames split into byte-by-byte and random-sized pieces', async (t) => {
        if (skip()) return t.skip('message-passing transport');
        const raw = await h.connectRaw!();
        const s = await h.listener.accept({ timeoutMs: 5000 });
        const want = frames();
        const bytes = Buffer.concat(want.map(wireBytes));
        for (let i = 0; i < 200; i++) await raw.write(bytes.subarray(i, i + 1));
        let seed = 12345;
        for (let o = 200; o < bytes.length; ) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const k = 1 + (seed % 37);
          await raw.write(bytes.subarray(o, o + k));
          o += k;
        }
        const got: ReceivedMessage[] = [];
        for (let i = 0; i < want.length; i++) got.push(await s.recv({ timeoutMs: 5000 }));
        check(got, want);
        assert.equal(s.counters.received.bytes, bytes.length, 'counters equal the bytes on the wire');
        raw.end();
        assert.equal(await s.closed, null);
      });

      it('decodes many frames arriving in one chunk, and counts exactly the wire bytes both ways', async (t) => {
        if (skip()) return t.skip('message-passing transport');
        const raw = await h.connectRaw!();
        const s = await h.listener.accept({ timeoutMs: 5000 });
        const want = Array.from({ length: 40 }, () => frames()).flat();
        const bytes = Buffer.concat(want.map(wireBytes));
        await raw.write(bytes);
        const got: ReceivedMessage[] = [];
        for (let i = 0; i < want.length; i++) got.push(await s.recv({ timeoutMs: 5000 }));
        check(got, want);
        assert.equal(s.counters.received.bytes, bytes.length);
        assert.equal(s.counters.received.frames, want.length);
        for (const m of frames()) await s.send(m);
        await until(() => raw.received().length === s.counters.sent.bytes, 'server frames at the raw client');
        check(decodeAll(raw.received()).filter((m) => m.type !== MsgType.Hello), frames());
        raw.end();
        await s.closed;
      });

      const malformed: [string, string, () => Buffer][] = [
        ['an oversized length', 'OVERSIZED', () => {
          const b = wireBytes({ type: MsgType.Data, dtype: 'uint8', data: new Uint8Array(4) });
          b.writeUInt32LE(MAX_FRAME, 16); // claims a payload over the limit
          return b;
        }],
        ['a bad magic', 'BAD_MAGIC', () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
        ['an unknown message type', 'UNKNOWN_TYPE', () => {
          const b = wireBytes({ type: MsgType.Data, dtype: 'json', value: 1 });
          b.writeUInt16LE(4242, 4);
          return b;
        }],
        ['dims that do not match the payload length', 'BAD_DIMS', () => {
          const b = wireBytes({ type: MsgType.Data, dtype: 'int32', dims: [2, 2], data: new Int32Array(4) });
          b.writeUInt32LE(3, 24); // dims [2,3] but 16 bytes
          return b;
        }],
        ['an unknown dtype', 'BAD_DTYPE', () => {
          const b = wireBytes({ type: MsgType.Data, dtype: 'int32', data: new Int32Array(1) });
          b[8] = 9;
          return b;
        }],
        ['invalid JSON', 'BAD_JSON', () => {
          const b = wireBytes({ type: MsgType.Data, dtype: 'json', value: 'xx' });
          b[b.length - 1] = 0x7b;
          return b;
        }],
      ];
      for (const [what, code, make] of malformed) {
        it(`rejects ${what} (${code}): error, connection closed, listener keeps working`, async (t) => {
          if (skip()) return t.skip('message-passing transport');
          const raw = await h.connectRaw!();
          const s = await h.listener.accept({ timeoutMs: 5000 });
          const good = wireBytes({ type: MsgType.Ping, dtype: 'json', value: 'first' });
          await raw.write(Buffer.concat([good, make()]));
          const first = await s.recv();
          assert.equal(first.dtype === 'json' && first.value, 'first', 'frames before the bad one are delivered');
          await expectRejected(s, raw, code);
          const [c2, s2] = await pair();
          await c2.send({ type: MsgType.Ping, dtype: 'json', value: 'still alive' });
          assert.equal(((await s2.recv()) as { value: unknown }).value, 'still alive');
          await c2.close();
        });
      }

      it('reports a connection truncated mid-frame (TRUNCATED)', async (t) => {
        if (skip()) return t.skip('message-passing transport');
        const raw = await h.connectRaw!();
        const s = await h.listener.accept({ timeoutMs: 5000 });
        const b = wireBytes({ type: MsgType.Shares, dtype: 'int32', data: ramp(1000, 1) });
        await raw.write(b.subarray(0, 1234));
        raw.end();
        const reason = await s.closed;
        assert.ok(reason instanceof FrameError && reason.code === 'TRUNCATED', String(reason));
        await assert.rejects(s.recv(), /TRUNCATED/);
      });
    });
  });
}

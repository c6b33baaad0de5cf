import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrafficCounters, mergeSnapshots } from '../../src/net/counters.js';
import { FrameDecoder } from '../../src/net/decoder.js';
import { encodeFrame, FrameError, frameSize, type OutgoingMessage, type ReceivedMessage } from '../../src/net/frame.js';
import { MsgType, defineMessageType, messageTypeName } from '../../src/net/message-types.js';
import { BufferPool } from '../../src/net/pool.js';

const wire = (m: OutgoingMessage): Buffer => {
  const f = encodeFrame(m);
  return Buffer.concat([f.header, f.payload]);
};

function decoder(opts: { max?: number; pool?: BufferPool } = {}): { d: FrameDecoder; got: ReceivedMessage[] } {
  const got: ReceivedMessage[] = [];
  const d = new FrameDecoder((m) => got.push(m), { maxFrameBytes: opts.max ?? 1 << 20, pool: opts.pool ?? new BufferPool() });
  return { d, got };
}

const sample: OutgoingMessage[] = [
  { type: MsgType.Shares, opId: 9, label: 'l1.fwd', dtype: 'int32', dims: [2, 3], data: new Int32Array([1, -2, 3, -4, 5, -1048571]) },
  { type: MsgType.Control, dtype: 'json', value: { a: [1, 2] } },
  { type: MsgType.Data, dtype: 'uint8', data: new Uint8Array(0) },
  { type: MsgType.Data, flags: 3, dtype: 'float32', data: new Float32Array([1.25, -0]) },
];

describe('frame codec', () => {
  it('writes the documented header layout', () => {
    const b = wire({ type: MsgType.Shares, opId: 0x01020304, label: 'ab', flags: 0x0506, dtype: 'int32', dims: [2], data: new Int32Array([1, -1]) });
    assert.equal(
      b.toString('hex'),
      '47544e01' + '4100' + '0605' + '01' + '01' + '02' + '00' + '04030201' + '08000000' + '02000000' + '6162' + '01000000' + 'ffffffff',
    );
    assert.equal(frameSize({ type: MsgType.Shares, label: 'ab', dtype: 'int32', data: new Int32Array(2) }), b.length);
  });

  it('decodes a stream split at every possible point, byte by byte, and all at once', () => {
    const bytes = Buffer.concat(sample.map(wire));
    const check = (got: ReceivedMessage[]): void => {
      assert.equal(got.length, sample.length);
      assert.deepEqual(got[0].dims, [2, 3]);
      assert.equal(got[0].label, 'l1.fwd');
      assert.deepEqual(got[0].dtype === 'int32' && Array.from(got[0].data), [1, -2, 3, -4, 5, -1048571]);
      assert.deepEqual(got[1].dtype === 'json' && got[1].value, { a: [1, 2] });
      assert.equal(got[3].flags, 3);
    };
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { d, got } = decoder();
      d.push(bytes.subarray(0, cut));
      d.push(bytes.subarray(cut));
      d.end();
      check(got);
    }
    const { d, got } = decoder();
    for (const byte of bytes) d.push(Uint8Array.of(byte));
    check(got);
    assert.equal(d.bytesConsumed, bytes.length);
  });

  it('hands out 8-byte-aligned pooled buffers and reuses released ones', () => {
    const pool = new BufferPool();
    const { d, got } = decoder({ pool });
    const m = { type: MsgType.Data, dtype: 'float32', data: new Float32Array(1000) } as const;
    d.push(wire(m));
    const first = got[0] as ReceivedMessage & { data: Float32Array };
    assert.equal(first.data.byteOffset % 8, 0);
    const buf = first.data.buffer;
    first.release();
    d.push(wire(m));
    assert.equal((got[1] as { data: Float32Array }).data.buffer, buf, 'same memory after release');
    d.push(wire(m));
    assert.notEqual((got[2] as { data: Float32Array }).data.buffer, buf, 'not handed out twice while leased');
    assert.deepEqual(pool.stats().reuses, 1);
  });

  it('rejects an oversized length from the header alone, before buffering any payload', () => {
    const pool = new BufferPool();
    const { d } = decoder({ max: 1000, pool });
    const b = wire({ type: MsgType.Data, dtype: 'uint8', data: new Uint8Array(8) });
    b.writeUInt32LE(0xfffffff0, 16);
    assert.throws(() => d.push(b.subarray(0, 20)), (e: Error) => e instanceof FrameError && e.code === 'OVERSIZED');
    assert.equal(pool.stats().allocations, 0);
    assert.throws(() => d.push(Buffer.alloc(1)), /OVERSIZED/, 'dead after an error');
  });

  const bad: [string, (b: Buffer) => void][] = [
    ['BAD_MAGIC', (b) => (b[1] = 0x58)],
    ['BAD_VERSION', (b) => (b[3] = 2)],
    ['UNKNOWN_TYPE', (b) => b.writeUInt16LE(0x7ff0, 4)],
    ['BAD_DTYPE', (b) => (b[8] = 0)],
    ['BAD_DIMS', (b) => (b[9] = 9)],
    ['BAD_HEADER', (b) => (b[11] = 1)],
    ['BAD_LABEL', (b) => (b[24] = 0x0a)],
    ['BAD_DIMS', (b) => b.writeUInt32LE(0xffffffff, 20)],
  ];
  for (const [code, corrupt] of bad) {
    it(`reports ${code}`, () => {
      const b = wire({ type: MsgType.Data, label: 'x', dtype: 'int32', dims: [1], data: new Int32Array(1) });
      corrupt(b);
      const { d } = decoder();
      assert.throws(() => d.push(b), (e: Error) => e instanceof FrameError && e.code === code && e.message.includes(code));
    });
  }

  it('reports truncation at end of stream', () => {
    const { d } = decoder();
    d.push(wire(sample[0]).subarray(0, 40));
    assert.throws(() => d.end(), /TRUNCATED.*payload 6 of 24 bytes/);
    const { d: d2 } = decoder();
    d2.push(Buffer.from('GTN'));
    assert.throws(() => d2.end(), /TRUNCATED.*header 3 of 20/);
  });

  it('validates outgoing messages', () => {
    assert.throws(() => encodeFrame({ type: MsgType.Data, dtype: 'int32', dims: [3], data: new Int32Array(2) }), /BAD_DIMS/);
    assert.throws(() => encodeFrame({ type: MsgType.Data, label: 'é', dtype: 'json', value: 1 }), /BAD_LABEL/);
    assert.throws(() => encodeFrame({ type: MsgType.Data, label: 'x'.repeat(65), dtype: 'json', value: 1 }), /BAD_LABEL/);
    assert.throws(() => encodeFrame({ type: MsgType.Data, opId: -1, dtype: 'json', value: 1 }), /BAD_HEADER/);
    assert.throws(() => encodeFrame({ type: 60000, dtype: 'json', value: 1 }), /UNKNOWN_TYPE/);
    assert.throws(() => encodeFrame({ type: MsgType.Data, dtype: 'uint8', data: new Uint8Array(100) }, 50), /OVERSIZED/);
    const view = new Int32Array(new ArrayBuffer(64), 8, 4);
    view.set([1, 2, 3, 4]);
    assert.equal(encodeFrame({ type: MsgType.Data, dtype: 'int32', data: view }).payload.byteOffset, 8, 'payload not copied');
  });

  it('registers application message types', () => {
    const code = defineMessageType('TestCustom', 0x1234);
    assert.equal(messageTypeName(code), 'TestCustom');
    assert.equal(defineMessageType('TestCustom', 0x1234), code);
    assert.throws(() => defineMessageType('Other', 0x1234), /already registered/);
    assert.throws(() => defineMessageType('Low', 7), /0x0100/);
    const { d, got } = decoder();
    d.push(wire({ type: code, dtype: 'json', value: 1 }));
    assert.equal(got[0].type, code);
  });
});

describe('traffic counters', () => {
  it('counts rounds as send→receive turnarounds, overall and per label', () => {
    const c = new TrafficCounters('w0');
    c.countSent(MsgType.OpRequest, 'a', 10);
    c.countSent(MsgType.Shares, 'a', 100);
    c.countSent(MsgType.Shares, 'b', 50);
    c.countReceived(MsgType.Result, 'a', 30);
    c.countReceived(MsgType.Result, 'b', 20);
    c.countReceived(MsgType.Result, 'b', 20);
    c.countSent(MsgType.Shares, 'a', 5);
    c.countReceived(MsgType.Result, 'a', 7);
    const s = c.snapshot();
    assert.equal(s.rounds, 2);
    assert.equal(s.byLabel.a.rounds, 2);
    assert.equal(s.byLabel.b.rounds, 1);
    assert.deepEqual(s.sent, { frames: 4, bytes: 165 });
    assert.deepEqual(s.byType.Shares.sent, { frames: 3, bytes: 155 });
    assert.equal(s.byType.Result.received.bytes, 77);
    const m = mergeSnapshots([s, s], 'all');
    assert.equal(m.byLabel.a.sent.bytes, 230);
    assert.equal(m.rounds, 4);
    c.reset();
    assert.equal(c.snapshot().sent.bytes, 0);
  });
});

describe('FrameDecoder direct reads', () => {
  it('bytes written into directTarget() and reported with directFilled() complete frames exactly like push()', () => {
    const msgs = [200_000, 5, 150_001].map((n, i) => ({ type: MsgType.Shares, opId: i, dtype: 'int32' as const, data: Int32Array.from({ length: n }, (_, j) => j * 3 + i) }));
    const wire = Buffer.concat(msgs.flatMap((m) => { const f = encodeFrame(m); return [f.header, Buffer.from(f.payload)]; }));
    const got: { opId: number; data: Int32Array }[] = [];
    const d = new FrameDecoder((m) => got.push({ opId: m.opId, data: (m as { data: Int32Array }).data.slice() }));
    let off = 0;
    let direct = 0;
    while (off < wire.length) {
      const target = d.directTarget();
      if (target) {
        const n = Math.min(target.length, 50_000, wire.length - off); // a read fills part of what it is offered
        target.set(wire.subarray(off, off + n));
        d.directFilled(n);
        direct += n;
        off += n;
      } else {
        const n = Math.min(7_001, wire.length - off);
        d.push(wire.subarray(off, off + n));
        off += n;
      }
    }
    assert.ok(direct > 500_000, `most payload bytes went direct (${direct})`);
    assert.deepEqual(got.map((g) => g.opId), [0, 1, 2]);
    msgs.forEach((m, i) => assert.deepEqual(got[i].data, m.data));
    assert.throws(() => new FrameDecoder(() => {}).directFilled(1), /does not fit/);
  });
});

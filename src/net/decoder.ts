/**
 * Incremental frame decoder (wire format: src/net/frame.ts).
 *
 * Feed it the byte chunks of a stream in order with `push`; it calls `onFrame`
 * synchronously for every complete frame, however the stream was split: a frame
 * may arrive one byte per chunk, and one chunk may hold many frames. Payloads are
 * copied once, from the socket's chunk straight into a pooled, 8-byte-aligned
 * buffer (src/net/pool.ts) whose typed view is handed to the caller.
 *
 * Every check that can be made from the fixed 20-byte header (magic, version,
 * known type, dtype, ndim, reserved byte, total size ≤ maxFrameBytes) is made
 * before a single payload byte is buffered, so an oversized length costs nothing.
 * Dims must describe exactly payloadLength / elementSize elements.
 *
 * On malformed input `push` throws a FrameError and the decoder is dead from then
 * on (every later call throws the same error): the owner must close the
 * connection. `end()` throws FrameError('TRUNCATED') when the stream stops
 * mid-frame.
 */
import {
  DEFAULT_MAX_FRAME_BYTES,
  DTYPE_BY_CODE,
  ELEMENT_BYTES,
  FIXED_HEADER_BYTES,
  FORMAT_VERSION,
  FrameError,
  MAGIC0,
  MAGIC1,
  MAGIC2,
  MAX_LABEL_BYTES,
  MAX_NDIM,
  elementCount,
  type DType,
  type ReceivedMessage,
} from './frame.js';
import { isKnownMessageType } from './message-types.js';
import { defaultPool, type BufferPool, type PoolLease, type ReceivePool } from './pool.js';

export interface DecoderOptions {
  /** Largest accepted frame, header + payload (default 256 MiB). */
  maxFrameBytes?: number;
  /** Where payload buffers come from (default: the process-wide pool). */
  pool?: BufferPool;
}

const EMPTY = new ArrayBuffer(0);
/** Smallest missing payload that is read directly into its buffer (below it, a copy is cheaper than a syscall more). */
const DIRECT_MIN = 64 * 1024;
const NOOP = (): void => {};
const MAGIC = [MAGIC0, MAGIC1, MAGIC2];

export class FrameDecoder {
  private maxFrameBytes: number;
  private readonly pool: BufferPool;
  /** Where tensor payloads go instead of `pool`, when set (the enclave's budgeted pool; see setTensorPool). */
  private tensorPool: ReceivePool | null = null;
  private readonly hdr = Buffer.alloc(FIXED_HEADER_BYTES + 4 * MAX_NDIM + MAX_LABEL_BYTES);
  private hdrHave = 0;
  private hdrNeed = FIXED_HEADER_BYTES;
  private inPayload = false;
  private payloadLength = 0;
  private payloadHave = 0;
  private payloadBytes: Uint8Array = new Uint8Array(EMPTY);
  private lease: PoolLease | null = null;
  private failure: FrameError | null = null;
  /** Bytes consumed so far (all complete frames plus the partial one). */
  bytesConsumed = 0;

  constructor(
    private readonly onFrame: (msg: ReceivedMessage) => void,
    opts: DecoderOptions = {},
  ) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.pool = opts.pool ?? defaultPool;
  }

  /** Changes the frame-size limit for frames whose header has not been read yet. */
  setMaxFrameBytes(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${n}`);
    this.maxFrameBytes = n;
  }

  /**
   * Tensor (non-JSON) payloads of frames whose header is still to come are leased from `pool`; null
   * returns them to the decoder's own pool. JSON frames always use the own pool: they are small and
   * released as soon as they are parsed.
   */
  setTensorPool(pool: ReceivePool | null): void {
    this.tensorPool = pool;
  }

  /**
   * The stream is gone without a clean end (destroyed, or an error): returns the buffer of a frame
   * cut off mid-payload to its pool (a budgeted pool would otherwise count it as in use forever).
   */
  discard(): void {
    this.lease?.release();
    this.lease = null;
    this.payloadBytes = new Uint8Array(EMPTY);
    this.failure ??= new FrameError('TRUNCATED', 'the stream was discarded');
  }

  /** True while a frame has started but not completed. */
  get midFrame(): boolean {
    return this.hdrHave > 0 || this.inPayload;
  }

  /**
   * Where the stream's next bytes may be written directly (a reader that can, reads there instead of
   * handing a chunk to `push`): the rest of the current payload when at least `DIRECT_MIN` bytes of it
   * are missing, else null. Valid until the next push/directFilled.
   */
  directTarget(): Uint8Array | null {
    if (this.failure || !this.inPayload || this.payloadLength - this.payloadHave < DIRECT_MIN) return null;
    return this.payloadBytes.subarray(this.payloadHave);
  }

  /** n bytes were written into the last directTarget(). */
  directFilled(n: number): void {
    if (this.failure) throw this.failure;
    if (!this.inPayload || !Number.isInteger(n) || n < 0 || n > this.payloadLength - this.payloadHave) {
      this.fail(new FrameError('BAD_HEADER', `direct read of ${n} bytes does not fit the payload`));
    }
    this.payloadHave += n;
    this.bytesConsumed += n;
    if (this.payloadHave === this.payloadLength) {
      try {
        this.finishFrame();
      } catch (err) {
        this.fail(err);
      }
    }
  }

  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Signal end of stream; throws TRUNCATED if a frame is incomplete. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.midFrame) {
      const what = this.inPayload
        ? `payload ${this.payloadHave} of ${this.payloadLength} bytes`
        : `header ${this.hdrHave} of ${this.hdrNeed} bytes`;
      this.fail(new FrameError('TRUNCATED', `connection ended mid-frame (${what})`));
    }
  }

  private fail(err: unknown): never {
    this.lease?.release();
    this.lease = null;
    this.failure = err instanceof FrameError ? err : new FrameError('BAD_HEADER', String((err as Error)?.message ?? err));
    throw this.failure;
  }

  private consume(chunk: Uint8Array): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (!this.inPayload) {
        const take = Math.min(this.hdrNeed - this.hdrHave, len - off);
        const start = this.hdrHave;
        this.hdr.set(chunk.subarray(off, off + take), start);
        off += take;
        this.hdrHave += take;
        this.bytesConsumed += take;
        for (let i = start; i < this.hdrHave && i < 3; i++) {
          if (this.hdr[i] !== MAGIC[i]) throw new FrameError('BAD_MAGIC', `expected "GTN" at byte ${i}, got 0x${this.hdr[i].toString(16)}`);
        }
        if (this.hdrHave < this.hdrNeed) continue;
        if (this.hdrNeed === FIXED_HEADER_BYTES) {
          this.checkFixedHeader();
          if (this.hdrHave < this.hdrNeed) continue;
        }
        this.startPayload();
        if (this.payloadLength === 0) this.finishFrame();
      } else {
        const take = Math.min(this.payloadLength - this.payloadHave, len - off);
        this.payloadBytes.set(take === len && off === 0 ? chunk : chunk.subarray(off, off + take), this.payloadHave);
        off += take;
        this.payloadHave += take;
        this.bytesConsumed += take;
        if (this.payloadHave === this.payloadLength) this.finishFrame();
      }
    }
  }

  private checkFixedHeader(): void {
    const h = this.hdr;
    if (h[3] !== FORMAT_VERSION) throw new FrameError('BAD_VERSION', `unsupported format version ${h[3]} (this build speaks ${FORMAT_VERSION})`);
    const type = h.readUInt16LE(4);
    if (!isKnownMessageType(type)) throw new FrameError('UNKNOWN_TYPE', `unknown message type ${type}`);
    if (DTYPE_BY_CODE[h[8]] === undefined) throw new FrameError('BAD_DTYPE', `unknown dtype code ${h[8]}`);
    const ndim = h[9];
    const labelLen = h[10];
    if (ndim > MAX_NDIM) throw new FrameError('BAD_DIMS', `ndim ${ndim} > ${MAX_NDIM}`);
    if (labelLen > MAX_LABEL_BYTES) throw new FrameError('BAD_LABEL', `label length ${labelLen} > ${MAX_LABEL_BYTES}`);
    if (h[11] !== 0) throw new FrameError('BAD_HEADER', `reserved header byte is ${h[11]}, expected 0`);
    const headerBytes = FIXED_HEADER_BYTES + 4 * ndim + labelLen;
    const payloadLength = h.readUInt32LE(16);
    if (headerBytes + payloadLength > this.maxFrameBytes) {
      throw new FrameError('OVERSIZED', `frame of ${headerBytes + payloadLength} bytes exceeds the limit of ${this.maxFrameBytes}`);
    }
    this.hdrNeed = headerBytes;
    this.payloadLength = payloadLength;
  }

  private startPayload(): void {
    const h = this.hdr;
    const dtype = DTYPE_BY_CODE[h[8]] as DType;
    const ndim = h[9];
    const dims: number[] = [];
    for (let i = 0; i < ndim; i++) dims.push(h.readUInt32LE(FIXED_HEADER_BYTES + 4 * i));
    const labelStart = FIXED_HEADER_BYTES + 4 * ndim;
    for (let i = labelStart; i < this.hdrNeed; i++) {
      if (h[i] < 0x20 || h[i] > 0x7e) throw new FrameError('BAD_LABEL', 'label has non-printable bytes');
    }
    if (dtype === 'json') {
      if (ndim !== 0) throw new FrameError('BAD_DIMS', `JSON frame with ndim ${ndim}`);
    } else {
      const want = elementCount(dims, this.maxFrameBytes) * ELEMENT_BYTES[dtype];
      if (want !== this.payloadLength) {
        throw new FrameError('BAD_DIMS', `dims [${dims.join(',')}] of ${dtype} need ${want < 0 ? 'too many' : want} bytes, payload length is ${this.payloadLength}`);
      }
    }
    this.inPayload = true;
    this.payloadHave = 0;
    if (this.payloadLength > 0) {
      const pool = dtype === 'json' ? this.pool : (this.tensorPool ?? this.pool);
      this.lease = pool.acquire(this.payloadLength);
      this.payloadBytes = new Uint8Array(this.lease.buffer, 0, this.payloadLength);
    } else {
      this.lease = null;
      this.payloadBytes = new Uint8Array(EMPTY);
    }
  }

  private finishFrame(): void {
    const h = this.hdr;
    const dtype = DTYPE_BY_CODE[h[8]] as DType;
    const ndim = h[9];
    const dims: number[] = [];
    for (let i = 0; i < ndim; i++) dims.push(h.readUInt32LE(FIXED_HEADER_BYTES + 4 * i));
    const labelStart = FIXED_HEADER_BYTES + 4 * ndim;
    const meta = {
      type: h.readUInt16LE(4),
      flags: h.readUInt16LE(6),
      opId: h.readUInt32LE(12),
      label: h.toString('latin1', labelStart, this.hdrNeed),
      frameBytes: this.hdrNeed + this.payloadLength,
    };
    const lease = this.lease;
    const buffer = lease ? lease.buffer : EMPTY;
    const n = this.payloadLength;
    this.lease = null;
    this.inPayload = false;
    this.hdrHave = 0;
    this.hdrNeed = FIXED_HEADER_BYTES;
    this.payloadBytes = new Uint8Array(EMPTY);
    let msg: ReceivedMessage;
    if (dtype === 'json') {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(buffer, 0, n).toString('utf8'));
      } catch (err) {
        throw new FrameError('BAD_JSON', `JSON payload does not parse: ${(err as Error).message}`);
      } finally {
        lease?.release();
      }
      msg = { ...meta, dtype, dims: [], value, release: NOOP };
    } else {
      const release = lease ? lease.release : NOOP;
      if (dtype === 'int32') msg = { ...meta, dtype, dims, data: new Int32Array(buffer, 0, n >> 2), release };
      else if (dtype === 'float32') msg = { ...meta, dtype, dims, data: new Float32Array(buffer, 0, n >> 2), release };
      else msg = { ...meta, dtype, dims, data: new Uint8Array(buffer, 0, n), release }; // uint8 and int24 (packed bytes)
    }
    this.onFrame(msg);
  }
}

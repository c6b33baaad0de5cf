/**
 * Node attributes: building them (export) and reading them with checks (import). Reading reports the
 * node and attribute by name, so an unsupported model fails with an error a person can act on.
 */
import { ATTR, type AttributeProto, type NodeProto, type TensorProto } from './proto.js';

export function intAttr(name: string, i: number): AttributeProto {
  return { name, type: ATTR.INT, i, floats: [], ints: [] };
}

export function intsAttr(name: string, ints: readonly number[]): AttributeProto {
  return { name, type: ATTR.INTS, ints: [...ints], floats: [] };
}

export function floatAttr(name: string, f: number): AttributeProto {
  return { name, type: ATTR.FLOAT, f, floats: [], ints: [] };
}

/** "the Conv node '/conv1/Conv'" — how errors name a node. */
export function nodeLabel(n: NodeProto): string {
  return `the ${n.op_type} node${n.name ? ` '${n.name}'` : ''}`;
}

/** Typed attribute access for one node; `done()` refuses attributes nobody asked for. */
export class Attrs {
  readonly #byName = new Map<string, AttributeProto>();
  readonly #read = new Set<string>();

  constructor(readonly node: NodeProto) {
    for (const a of node.attribute) if (a.name) this.#byName.set(a.name, a);
  }

  #get(name: string, type: number): AttributeProto | undefined {
    const a = this.#byName.get(name);
    this.#read.add(name);
    if (a && a.type !== undefined && a.type !== type) throw this.error(name, `has attribute type ${a.type}, expected ${type}`);
    return a;
  }

  int(name: string, dflt: number): number {
    return this.#get(name, ATTR.INT)?.i ?? dflt;
  }

  float(name: string, dflt: number): number {
    return this.#get(name, ATTR.FLOAT)?.f ?? dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.#get(name, ATTR.INTS);
    return a ? [...a.ints] : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.#get(name, ATTR.FLOATS);
    return a ? [...a.floats] : undefined;
  }

  string(name: string, dflt: string): string {
    const a = this.#get(name, ATTR.STRING);
    return a?.s ? Buffer.from(a.s).toString('utf8') : dflt;
  }

  tensor(name: string): TensorProto | undefined {
    return this.#get(name, ATTR.TENSOR)?.t;
  }

  /** Throws when the node carries an attribute the converter did not read (it would change the meaning). */
  done(): void {
    for (const name of this.#byName.keys()) if (!this.#read.has(name)) throw this.error(name, 'is not supported');
  }

  error(attr: string, msg: string): Error {
    return new Error(`${nodeLabel(this.node)}: attribute '${attr}' ${msg}`);
  }
}

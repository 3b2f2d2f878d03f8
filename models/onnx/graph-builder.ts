// Accumulates nodes and initializers with generated names, so model scripts read as a sequence of
// operations rather than as protobuf bookkeeping.
import type { AttributeValue, OnnxGraph, OnnxNode, OnnxTensor, OnnxValue } from "./onnx-model.ts";

export class GraphBuilder {
  readonly #nodes: OnnxNode[] = [];
  readonly #initializers: OnnxTensor[] = [];
  readonly #inputs: OnnxValue[] = [];
  readonly #outputs: OnnxValue[] = [];
  #counter = 0;

  input(name: string, dims: readonly (number | string)[]): string {
    this.#inputs.push({ name, dims });
    return name;
  }

  output(name: string, dims: readonly (number | string)[]): void {
    this.#outputs.push({ name, dims });
  }

  floats(label: string, dims: readonly number[], data: Float32Array): string {
    const name = `${label}_${this.#counter++}`;
    this.#initializers.push({ name, dims, data });
    return name;
  }

  int64s(label: string, values: readonly number[]): string {
    const name = `${label}_${this.#counter++}`;
    this.#initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  scalar(label: string, value: number): string {
    return this.floats(label, [], Float32Array.of(value));
  }

  /** Adds a node and returns the name of its (first) output; `outputName` pins that name. */
  op(op: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>, outputName?: string): string {
    const out = outputName ?? `${op.toLowerCase()}_${this.#counter++}`;
    const node: OnnxNode =
      attributes === undefined
        ? { op, inputs, outputs: [out], name: `n${this.#nodes.length}_${op}` }
        : { op, inputs, outputs: [out], name: `n${this.#nodes.length}_${op}`, attributes };
    this.#nodes.push(node);
    return out;
  }

  build(name: string, docString?: string): OnnxGraph {
    const g = { name, nodes: this.#nodes, initializers: this.#initializers, inputs: this.#inputs, outputs: this.#outputs };
    return docString === undefined ? g : { ...g, docString };
  }
}

// Declarative description of an ONNX graph and its serialisation to ModelProto bytes. Only the
// parts of onnx.proto that palmline's hand-built models use are covered. Field numbers follow
// onnx/onnx.proto (IR version 8, opset 18).
import { ProtobufWriter } from "./protobuf-writer.ts";

export type AttributeValue =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "floats"; readonly value: readonly number[] }
  | { readonly kind: "string"; readonly value: string };

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** A graph input or output; a string dimension is symbolic (for example a batch size). */
export interface OnnxValue {
  readonly name: string;
  readonly dims: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
  readonly docString?: string;
}

const IR_VERSION = 8;
export const OPSET_VERSION = 18;
const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;
const ATTR = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export const intAttr = (value: number): AttributeValue => ({ kind: "int", value });
export const floatAttr = (value: number): AttributeValue => ({ kind: "float", value });
export const stringAttr = (value: string): AttributeValue => ({ kind: "string", value });
export const intsAttr = (value: readonly number[]): AttributeValue => ({ kind: "ints", value });

const writeAttribute = (w: ProtobufWriter, name: string, a: AttributeValue): void => {
  w.string(1, name);
  switch (a.kind) {
    case "float":
      w.float(2, a.value).int(20, ATTR.float);
      break;
    case "int":
      w.int(3, a.value).int(20, ATTR.int);
      break;
    case "string":
      w.string(4, a.value).int(20, ATTR.string);
      break;
    case "floats":
      w.packedFloats(7, a.value).int(20, ATTR.floats);
      break;
    case "ints":
      w.packedInts(8, a.value).int(20, ATTR.ints);
      break;
  }
};

const writeTensor = (w: ProtobufWriter, t: OnnxTensor): void => {
  w.packedInts(1, t.dims);
  w.int(2, t.data instanceof Float32Array ? TENSOR_FLOAT : TENSOR_INT64);
  w.string(8, t.name);
  // raw_data is little-endian; copy through a DataView so the bytes do not depend on the host.
  const raw = new Uint8Array(t.data.length * t.data.BYTES_PER_ELEMENT);
  const view = new DataView(raw.buffer);
  if (t.data instanceof Float32Array) t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else t.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  w.bytes(9, raw);
};

const writeValueInfo = (w: ProtobufWriter, v: OnnxValue): void => {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, TENSOR_FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
};

export const serializeModel = (graph: OnnxGraph, producer: { name: string; version: string }): Uint8Array => {
  const model = new ProtobufWriter();
  model.int(1, IR_VERSION);
  model.string(2, producer.name);
  model.string(3, producer.version);
  model.message(7, (g) => {
    for (const n of graph.nodes) {
      g.message(1, (node) => {
        for (const i of n.inputs) node.string(1, i);
        for (const o of n.outputs) node.string(2, o);
        node.string(3, n.name);
        node.string(4, n.op);
        for (const [name, a] of Object.entries(n.attributes ?? {})) node.message(5, (w) => writeAttribute(w, name, a));
      });
    }
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (w) => writeTensor(w, t));
    if (graph.docString !== undefined) g.string(10, graph.docString);
    for (const v of graph.inputs) g.message(11, (w) => writeValueInfo(w, v));
    for (const v of graph.outputs) g.message(12, (w) => writeValueInfo(w, v));
  });
  model.message(8, (op) => op.string(1, "").int(2, OPSET_VERSION));
  return model.finish();
};

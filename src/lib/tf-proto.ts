import protobuf from 'protobufjs';

/**
 * The subset of TensorFlow's protos a TF1-style SavedModel needs (export-formats.md §3.3), parsed
 * at run time with protobufjs. Field numbers are TensorFlow's, from tensorflow/core/framework/
 * {types,tensor_shape,tensor,attr_value,node_def,versions,graph}.proto,
 * tensorflow/core/protobuf/{meta_graph,saved_model,saver,tensor_bundle}.proto
 * (Copyright The TensorFlow Authors, Apache License 2.0). Fields recsys never writes are left out;
 * decoding a file that has them skips them.
 */
export const TF_MIN_PROTO = `
syntax = "proto3";
package tensorflow;

enum DataType {
  DT_INVALID = 0; DT_FLOAT = 1; DT_DOUBLE = 2; DT_INT32 = 3; DT_UINT8 = 4; DT_INT16 = 5; DT_INT8 = 6;
  DT_STRING = 7; DT_COMPLEX64 = 8; DT_INT64 = 9; DT_BOOL = 10; DT_BFLOAT16 = 14; DT_HALF = 19; DT_RESOURCE = 20;
}

message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10 [packed = true];
  repeated bool bool_val = 11 [packed = true];
}

message AttrValue {
  message ListValue {
    repeated bytes s = 2;
    repeated int64 i = 3 [packed = true];
    repeated float f = 4 [packed = true];
    repeated bool b = 5 [packed = true];
    repeated DataType type = 6 [packed = true];
    repeated TensorShapeProto shape = 7;
    repeated TensorProto tensor = 8;
  }
  oneof value {
    ListValue list = 1;
    bytes s = 2;
    int64 i = 3;
    float f = 4;
    bool b = 5;
    DataType type = 6;
    TensorShapeProto shape = 7;
    TensorProto tensor = 8;
    string placeholder = 9;
  }
}

message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  string device = 4;
  map<string, AttrValue> attr = 5;
}

message VersionDef { int32 producer = 1; int32 min_consumer = 2; repeated int32 bad_consumers = 3; }

message GraphDef { repeated NodeDef node = 1; VersionDef versions = 4; }

message TensorInfo {
  oneof encoding { string name = 1; }
  DataType dtype = 2;
  TensorShapeProto tensor_shape = 3;
}

message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}

message SaverDef {
  enum CheckpointFormatVersion { LEGACY = 0; V1 = 1; V2 = 2; }
  string filename_tensor_name = 1;
  string save_tensor_name = 2;
  string restore_op_name = 3;
  int32 max_to_keep = 4;
  bool sharded = 5;
  float keep_checkpoint_every_n_hours = 6;
  CheckpointFormatVersion version = 7;
}

message MetaGraphDef {
  message MetaInfoDef {
    string meta_graph_version = 1;
    repeated string tags = 4;
    string tensorflow_version = 5;
    string tensorflow_git_version = 6;
    bool stripped_default_attrs = 7;
  }
  MetaInfoDef meta_info_def = 1;
  GraphDef graph_def = 2;
  SaverDef saver_def = 3;
  map<string, SignatureDef> signature_def = 5;
}

message SavedModel { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }

message BundleHeaderProto {
  enum Endianness { LITTLE = 0; BIG = 1; }
  int32 num_shards = 1;
  Endianness endianness = 2;
  VersionDef version = 3;
}

message BundleEntryProto {
  DataType dtype = 1;
  TensorShapeProto shape = 2;
  int32 shard_id = 3;
  int64 offset = 4;
  int64 size = 5;
  fixed32 crc32c = 6;
}
`;

let root: protobuf.Root | undefined;

export function tfRoot(): protobuf.Root {
  root ??= protobuf.parse(TF_MIN_PROTO, { keepCase: false }).root;
  return root;
}

export const tfType = (name: string): protobuf.Type => tfRoot().lookupType(`tensorflow.${name}`);

export const DT = {
  DT_FLOAT: 1,
  DT_INT32: 3,
  DT_STRING: 7,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_RESOURCE: 20,
} as const;

export const DT_NAME: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k]));

/** Encode a message after checking it against the schema. */
export function encodeMessage(type: string, value: Record<string, unknown>): Uint8Array {
  const T = tfType(type);
  const err = T.verify(value);
  if (err) throw new Error(`tensorflow.${type}: ${err}`);
  return T.encode(T.fromObject(value)).finish();
}

/** Decode to a plain object: enums as names, int64 as numbers, bytes as Uint8Array. */
export function decodeMessage<T = Record<string, unknown>>(type: string, bytes: Uint8Array): T {
  const Ty = tfType(type);
  return Ty.toObject(Ty.decode(bytes), { enums: String, longs: Number, defaults: false, oneofs: false }) as T;
}

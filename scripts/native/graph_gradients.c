/*
 * graph_gradients.node: the one thing recsys's compiled training step needs from TensorFlow that
 * tfjs-node does not expose. Imports a GraphDef (the forward pass and the loss, written by recsys),
 * adds the backward pass with TF_AddGradients (TensorFlow's C++ gradient registry, inside
 * libtensorflow), and returns the whole graph as a GraphDef plus the name of each gradient tensor.
 * Built by scripts/setup-native.mjs next to the tfjs-node binding and linked against the same
 * libtensorflow, so no Python is needed at run time.
 *
 *   addGradients(graphDef: Uint8Array, y: string, xs: string[]) -> { graphDef: Buffer, grads: (string|null)[] }
 *   version() -> TF_Version()
 *
 * Tensor names are "op:index". A gradient that does not depend on y is null.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<tensorflow/c/c_api.h>)
#include <tensorflow/c/c_api.h>
#define HAVE_TF_HEADERS 1
#endif
#endif
#ifndef HAVE_TF_HEADERS
/*
 * Without the wheel's headers (a cache built before this addon existed): the declarations of the
 * few functions used, as tensorflow/c/c_api.h declares them (TensorFlow's stable C ABI, Copyright
 * The TensorFlow Authors, Apache License 2.0). A build with the headers checks them.
 */
typedef struct TF_Graph TF_Graph;
typedef struct TF_Operation TF_Operation;
typedef struct TF_Status TF_Status;
typedef struct TF_ImportGraphDefOptions TF_ImportGraphDefOptions;
typedef struct TF_Buffer {
  const void *data;
  size_t length;
  void (*data_deallocator)(void *data, size_t length);
} TF_Buffer;
typedef struct TF_Output {
  TF_Operation *oper;
  int index;
} TF_Output;
typedef enum TF_Code { TF_OK = 0 } TF_Code;
extern const char *TF_Version(void);
extern TF_Status *TF_NewStatus(void);
extern void TF_DeleteStatus(TF_Status *);
extern TF_Code TF_GetCode(const TF_Status *);
extern const char *TF_Message(const TF_Status *);
extern TF_Buffer *TF_NewBufferFromString(const void *proto, size_t proto_len);
extern TF_Buffer *TF_NewBuffer(void);
extern void TF_DeleteBuffer(TF_Buffer *);
extern TF_Graph *TF_NewGraph(void);
extern void TF_DeleteGraph(TF_Graph *);
extern TF_ImportGraphDefOptions *TF_NewImportGraphDefOptions(void);
extern void TF_DeleteImportGraphDefOptions(TF_ImportGraphDefOptions *);
extern void TF_GraphImportGraphDef(TF_Graph *, const TF_Buffer *, const TF_ImportGraphDefOptions *, TF_Status *);
extern TF_Operation *TF_GraphOperationByName(TF_Graph *, const char *);
extern const char *TF_OperationName(TF_Operation *);
extern void TF_AddGradients(TF_Graph *g, TF_Output *y, int ny, TF_Output *x, int nx, TF_Output *dx,
                            TF_Status *status, TF_Output *dy);
extern void TF_GraphToGraphDef(TF_Graph *, TF_Buffer *, TF_Status *);
#endif

#define NAME_MAX_LEN 1024

static napi_value fail(napi_env env, const char *what, const char *detail) {
  char msg[2 * NAME_MAX_LEN];
  snprintf(msg, sizeof msg, "graph_gradients: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* "op:index" (index 0 when absent) -> an output of the graph; 0 when there is no such op. */
static int resolve(TF_Graph *g, const char *name, TF_Output *out) {
  char op[NAME_MAX_LEN];
  strncpy(op, name, sizeof op - 1);
  op[sizeof op - 1] = 0;
  char *colon = strrchr(op, ':');
  int index = 0;
  if (colon) {
    index = atoi(colon + 1);
    *colon = 0;
  }
  out->oper = TF_GraphOperationByName(g, op);
  out->index = index;
  return out->oper != NULL;
}

static int string_arg(napi_env env, napi_value v, char *buf) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, v, buf, NAME_MAX_LEN, &len) == napi_ok && len < NAME_MAX_LEN - 1;
}

static napi_value AddGradients(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return fail(env, "addGradients(graphDef, y, xs) takes 3 arguments", NULL);
  void *bytes = NULL;
  size_t length = 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, NULL, NULL) != napi_ok || type != napi_uint8_array)
    return fail(env, "graphDef must be a Uint8Array", NULL);
  char yName[NAME_MAX_LEN];
  if (!string_arg(env, argv[1], yName)) return fail(env, "y must be a tensor name", NULL);
  uint32_t nx = 0;
  if (napi_get_array_length(env, argv[2], &nx) != napi_ok || nx == 0)
    return fail(env, "xs must be a non-empty array of tensor names", NULL);

  TF_Status *s = TF_NewStatus();
  TF_Graph *g = TF_NewGraph();
  TF_Buffer *def = TF_NewBufferFromString(bytes, length);
  TF_ImportGraphDefOptions *opts = TF_NewImportGraphDefOptions();
  TF_GraphImportGraphDef(g, def, opts, s);
  TF_DeleteImportGraphDefOptions(opts);
  TF_DeleteBuffer(def);
  TF_Output *xs = calloc(nx, sizeof(TF_Output));
  TF_Output *dy = calloc(nx, sizeof(TF_Output));
  napi_value result = NULL;
  char name[NAME_MAX_LEN];
  TF_Output y;
  if (TF_GetCode(s) != TF_OK) {
    fail(env, "importing the GraphDef failed", TF_Message(s));
    goto done;
  }
  if (!resolve(g, yName, &y)) {
    fail(env, "no op for y", yName);
    goto done;
  }
  for (uint32_t i = 0; i < nx; i++) {
    napi_value v;
    napi_get_element(env, argv[2], i, &v);
    if (!string_arg(env, v, name) || !resolve(g, name, &xs[i])) {
      fail(env, "no op for an entry of xs", name);
      goto done;
    }
  }
  TF_AddGradients(g, &y, 1, xs, (int)nx, NULL, s, dy);
  if (TF_GetCode(s) != TF_OK) {
    fail(env, "TF_AddGradients failed", TF_Message(s));
    goto done;
  }
  TF_Buffer *out = TF_NewBuffer();
  TF_GraphToGraphDef(g, out, s);
  if (TF_GetCode(s) != TF_OK) {
    TF_DeleteBuffer(out);
    fail(env, "TF_GraphToGraphDef failed", TF_Message(s));
    goto done;
  }
  napi_value graphDef, grads;
  napi_create_buffer_copy(env, out->length, out->data, NULL, &graphDef);
  TF_DeleteBuffer(out);
  napi_create_array_with_length(env, nx, &grads);
  for (uint32_t i = 0; i < nx; i++) {
    napi_value v;
    if (dy[i].oper == NULL) {
      napi_get_null(env, &v);
    } else {
      snprintf(name, sizeof name, "%s:%d", TF_OperationName(dy[i].oper), dy[i].index);
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
    }
    napi_set_element(env, grads, i, v);
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "graphDef", graphDef);
  napi_set_named_property(env, result, "grads", grads);
done:
  free(xs);
  free(dy);
  TF_DeleteGraph(g);
  TF_DeleteStatus(s);
  return result;
}

static napi_value Version(napi_env env, napi_callback_info info) {
  napi_value v;
  napi_create_string_utf8(env, TF_Version(), NAPI_AUTO_LENGTH, &v);
  return v;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "addGradients", NAPI_AUTO_LENGTH, AddGradients, NULL, &f);
  napi_set_named_property(env, exports, "addGradients", f);
  napi_create_function(env, "version", NAPI_AUTO_LENGTH, Version, NULL, &f);
  napi_set_named_property(env, exports, "version", f);
  return exports;
}

/*
 * Can TensorFlow's C API build the backward pass of recsys's BERT step without Python?
 * Imports the forward GraphDef (written by build_train_graph.py --forward-graphdef), then asks
 * TF_AddGradients for d loss / d (every ReadVariableOp output), i.e. the gradients with respect to each
 * parameter's value, using the C++ gradient registry compiled into libtensorflow. Prints the error
 * naming the first op without a C++ gradient, or how many gradient ops were added.
 *
 *   .venv/bin/python bench/compiled-step/build_train_graph.py /tmp/g --forward-graphdef /tmp/forward.pb
 *   cc -O1 -I<site-packages>/tensorflow/include bench/compiled-step/grad_probe.c -L<deps/lib> \
 *      -l:libtensorflow.so.2 -l:libtensorflow_framework.so.2 -Wl,-rpath,<deps/lib> -o /tmp/grad_probe
 *   /tmp/grad_probe /tmp/forward.pb
 * (<deps/lib>: the setup:native cache entry's deps/lib; the headers are the pip wheel's.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tensorflow/c/c_api.h>

int main(int argc, char **argv) {
  if (argc < 2) return fprintf(stderr, "usage: grad_probe forward.pb\n"), 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 2;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *bytes = malloc(n);
  if (fread(bytes, 1, n, f) != (size_t)n) return fprintf(stderr, "short read\n"), 2;
  fclose(f);
  TF_Buffer *def = TF_NewBufferFromString(bytes, n);
  TF_Graph *g = TF_NewGraph();
  TF_Status *s = TF_NewStatus();
  TF_ImportGraphDefOptions *opts = TF_NewImportGraphDefOptions();
  TF_GraphImportGraphDef(g, def, opts, s);
  if (TF_GetCode(s) != TF_OK) return fprintf(stderr, "import: %s\n", TF_Message(s)), 1;
  TF_Output xs[512];
  int nx = 0, before = 0;
  size_t pos = 0;
  TF_Operation *op;
  while ((op = TF_GraphNextOperation(g, &pos)) != NULL) {
    before++;
    // the reads the forward uses (a variable's own /Read/ReadVariableOp feeds nothing here)
    const char *name = TF_OperationName(op);
    size_t len = strlen(name), tail = strlen("/Read/ReadVariableOp");
    int own = len > tail && strcmp(name + len - tail, "/Read/ReadVariableOp") == 0;
    if (strcmp(TF_OperationOpType(op), "ReadVariableOp") == 0 && !own && nx < 512) xs[nx++] = (TF_Output){op, 0};
  }
  TF_Operation *loss = TF_GraphOperationByName(g, "loss_value");
  if (!loss) return fprintf(stderr, "no op named loss_value\n"), 1;
  TF_Output y = {loss, 0};
  TF_Output *dx = calloc(nx, sizeof(TF_Output));
  TF_AddGradients(g, &y, 1, xs, nx, NULL, s, dx);
  if (TF_GetCode(s) != TF_OK) return printf("TF_AddGradients failed: %s\n", TF_Message(s)), 1;
  int after = 0;
  pos = 0;
  while (TF_GraphNextOperation(g, &pos) != NULL) after++;
  printf("TF_AddGradients: %d parameter gradients, %d forward ops, %d ops added\n", nx, before, after - before);
  return 0;
}

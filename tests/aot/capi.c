/* The C API (tessel.h) from C: compile kernel sources at run time, get
 * located errors for bad ones, read PTX and the manifest of good ones, then
 * load and launch: "nodriver" expects TESSEL_NO_DRIVER, "fake" runs against
 * the recording stand-in for libcuda.
 *   capi GEMM_SOURCE (nodriver|fake) */
#include <tessel/tessel.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define EXPECT(cond)                                                          \
  do {                                                                        \
    if (!(cond)) {                                                            \
      printf("FAILED line %d: %s\n", __LINE__, #cond);                        \
      ++failures;                                                             \
    }                                                                         \
  } while (0)

static char *readFile(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)n + 1);
  if (fread(text, 1, (size_t)n, f) != (size_t)n)
    n = 0;
  text[n] = 0;
  fclose(f);
  return text;
}

static const char *kBroken =
    "import tessel.language as T\n"
    "def scale(N):\n"
    "    @T.prim_func\n"
    "    def main(X: T.Tensor((N,), \"float32\")):\n"
    "        with T.Kernel(1, threads=128) as bx:\n"
    "            X[0] = undefined_name * 2\n"
    "    return main\n";

int main(int argc, char **argv) {
  if (argc != 3) {
    printf("usage: capi GEMM_SOURCE (nodriver|fake)\n");
    return 2;
  }
  tessel_program *program = NULL;
  const char *defines[] = {"N=64"};
  tessel_compile_options options = {"scale", defines, 1, "sm_90a", "broken.py"};

  /* A bad source: a compile error located in it. */
  EXPECT(tessel_compile(kBroken, &options, &program) == TESSEL_COMPILE_ERROR);
  EXPECT(program != NULL);
  printf("%s", tessel_program_log(program));
  EXPECT(strstr(tessel_program_log(program), "broken.py:6:20: error:") != NULL);
  EXPECT(strstr(tessel_program_log(program), "undefined_name") != NULL);
  EXPECT(tessel_program_ptx(program) == NULL);
  tessel_program_destroy(program);

  /* Bad requests. */
  EXPECT(tessel_compile(NULL, &options, &program) == TESSEL_INVALID_ARGUMENT);
  EXPECT(program == NULL);
  const char *badDefines[] = {"N"};
  tessel_compile_options bad = {"scale", badDefines, 1, NULL, NULL};
  EXPECT(tessel_compile(kBroken, &bad, &program) == TESSEL_COMPILE_ERROR);
  EXPECT(strstr(tessel_program_log(program), "bad define 'N': expected NAME=VALUE") != NULL);
  tessel_program_destroy(program);
  tessel_compile_options badTarget = {"scale", defines, 1, "sm_75", NULL};
  EXPECT(tessel_compile(kBroken, &badTarget, &program) == TESSEL_COMPILE_ERROR);
  EXPECT(strstr(tessel_program_log(program), "unknown target 'sm_75'") != NULL);
  tessel_program_destroy(program);
  tessel_compile_options noEntry = {"nope", defines, 1, NULL, "broken.py"};
  EXPECT(tessel_compile(kBroken, &noEntry, &program) == TESSEL_COMPILE_ERROR);
  EXPECT(strstr(tessel_program_log(program), "nope") != NULL);
  tessel_program_destroy(program);

  /* A good one: the example GEMM. */
  char *gemm = readFile(argv[1]);
  EXPECT(gemm != NULL);
  const char *sizes[] = {"M=256", "N=256", "K=256"};
  tessel_compile_options good = {"matmul", sizes, 3, NULL, argv[1]};
  EXPECT(tessel_compile(gemm, &good, &program) == TESSEL_SUCCESS);
  EXPECT(strcmp(tessel_program_log(program), "") == 0);
  EXPECT(strstr(tessel_program_ptx(program), ".entry matmul") != NULL);
  EXPECT(strstr(tessel_program_manifest(program), "\"name\": \"matmul\"") != NULL);
  EXPECT(strcmp(tessel_program_kernel_name(program), "matmul") == 0);
  EXPECT(tessel_program_num_args(program) == 3);

  tessel_kernel *kernel = NULL;
  tessel_status status = tessel_program_load(program, NULL, &kernel);
  printf("load: %s\n", tessel_status_string(status));
  if (strcmp(argv[2], "nodriver") == 0) {
    EXPECT(status == TESSEL_NO_DRIVER && kernel == NULL);
  } else {
    EXPECT(status == TESSEL_SUCCESS && kernel != NULL);
    CUdeviceptr a = 0x10000, b = 0x20008, c = 0x30000;
    void *args[] = {&a, &b, &c};
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 2) == TESSEL_INVALID_ARGUMENT);
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "argument 'B' is not 16-byte aligned") != NULL);
    b = 0x20000;
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_SUCCESS);
    tessel_kernel_unload(kernel);
  }
  tessel_program_destroy(program);
  free(gemm);
  if (failures)
    return 1;
  printf("C API: compile errors, PTX, manifest, load and launch verified\n");
  return 0;
}

/* The C API (tessel.h) from C: compile kernel sources at run time, get
 * located errors for bad ones, read PTX and the manifest of good ones, then
 * load and launch: "nodriver" expects TESSEL_NO_DRIVER, "fake" runs against
 * the recording stand-in for libcuda, "emu" runs the GEMM on the emulator
 * (TESSEL_CUDA_DRIVER=emu) against a CPU product, and shows the errors a
 * broken launch and a broken kernel (CHECKS_PTX) get.
 *   capi GEMM_SOURCE (nodriver|fake|emu) [CHECKS_PTX] */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <tessel/runtime.h>
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

/* A kernel that says it works in place: its launch may alias X and Y. */
static const char *kInPlace =
    "import tessel.language as T\n"
    "def double(N):\n"
    "    @T.prim_func\n"
    "    def main(X: T.Tensor((N,), \"float32\"),\n"
    "             Y: T.Tensor((N,), \"float32\", in_place=True)):\n"
    "        with T.Kernel(1, threads=128) as bx:\n"
    "            for i in T.Parallel(N):\n"
    "                Y[i] = X[i] * 2.0\n"
    "    return main\n";

/* fp16 bits of small integers and back (the GEMM's inputs and outputs). */
static unsigned short halfOf(int v) {
  if (v == 0)
    return 0;
  unsigned short sign = v < 0 ? 0x8000 : 0;
  int a = v < 0 ? -v : v, e = 0;
  while ((a >> e) > 1)
    ++e;
  return (unsigned short)(sign | (unsigned short)((e + 15) << 10) |
                          (unsigned short)(((a << 10) >> e) & 0x3ff));
}
static double halfValue(unsigned short h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e ? (1.0 + m / 1024.0) * (double)(1 << e) / 32768.0 : m / 16777216.0;
  return (h & 0x8000) ? -v : v;
}

/* The GEMM on the emulator: A and B hold small integers, so the product is
 * exact; then the same launch with C one row short, and a kernel that
 * deadlocks, each reported with the emulator's located message. */
static void emulatorRun(tessel_kernel *kernel, const char *checksPtx) {
  enum { M = 256, N = 256, K = 256 };
  static unsigned short a[M * K], b[K * N], c[M * N];
  for (int i = 0; i < M * K; ++i)
    a[i] = halfOf(i % 7 - 3);
  for (int i = 0; i < K * N; ++i)
    b[i] = halfOf(i % 5 - 2);
  uint64_t da = 0, db = 0, dc = 0, small = 0;
  EXPECT(tessel_rt_mem_alloc(sizeof a, &da) == TESSEL_RT_SUCCESS);
  EXPECT(tessel_rt_mem_alloc(sizeof b, &db) == TESSEL_RT_SUCCESS);
  EXPECT(tessel_rt_mem_alloc(sizeof c, &dc) == TESSEL_RT_SUCCESS);
  EXPECT(tessel_rt_memcpy_to_device(da, a, sizeof a) == TESSEL_RT_SUCCESS);
  EXPECT(tessel_rt_memcpy_to_device(db, b, sizeof b) == TESSEL_RT_SUCCESS);
  CUdeviceptr pa = da, pb = db, pc = dc;
  void *args[] = {&pa, &pb, &pc};
  EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_SUCCESS);
  EXPECT(tessel_rt_memcpy_to_host(c, dc, sizeof c) == TESSEL_RT_SUCCESS);
  int wrong = 0;
  for (int i = 0; i < M && !wrong; ++i)
    for (int j = 0; j < N; ++j) {
      double sum = 0;
      for (int k = 0; k < K; ++k)
        sum += (double)((i * K + k) % 7 - 3) * (double)((k * N + j) % 5 - 2);
      if (halfValue(c[i * N + j]) != sum) {
        printf("C[%d][%d] = %g, expected %g\n", i, j, halfValue(c[i * N + j]), sum);
        wrong = 1;
        break;
      }
    }
  EXPECT(!wrong);
  printf("emulator: the GEMM's 256x256 result is exact\n");

  /* C one row short: the kernel's last row of stores falls past it. */
  EXPECT(tessel_rt_mem_alloc(sizeof c - N * 2, &small) == TESSEL_RT_SUCCESS);
  pc = small;
  EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_DRIVER_ERROR);
  printf("launch with a short C: %s\n", tessel_last_error());
  EXPECT(strstr(tessel_last_error(), "an illegal memory access was encountered") != NULL);
  EXPECT(strstr(tessel_last_error(), "bytes past the end of the 130560-byte allocation") != NULL);
  EXPECT(strstr(tessel_last_error(), "gemm.py:") != NULL);
  tessel_rt_mem_free(da);
  tessel_rt_mem_free(db);
  tessel_rt_mem_free(dc);
  tessel_rt_mem_free(small);

  /* Every check of tests/emulator/checks/checks.ptx, through the runtime's
   * C API: the launch fails and tessel_rt_last_error() holds the
   * emulator's located message. */
  char *ptx = readFile(checksPtx);
  EXPECT(ptx != NULL);
  uint64_t buffer = 0, source = 0;
  EXPECT(tessel_rt_mem_alloc(2048, &buffer) == TESSEL_RT_SUCCESS);
  EXPECT(tessel_rt_mem_alloc(128, &source) == TESSEL_RT_SUCCESS);
  static tessel_rt_tensor_map map;
  const int64_t shape[1] = {32};
  const uint32_t box[1] = {32};
  EXPECT(tessel_rt_tensor_map_encode(&map, TESSEL_RT_TMA_FLOAT32, 1, source, shape, NULL, box, 0) ==
         TESSEL_RT_SUCCESS);
  uint64_t tiny = 0;
  EXPECT(tessel_rt_mem_alloc(256, &tiny) == TESSEL_RT_SUCCESS);
  uint32_t offset = 0;
  void *smallArgs[] = {&tiny}, *outArgs[] = {&buffer}, *tmaArgs[] = {&offset, &map};
  const struct {
    const char *kernel;
    uint32_t threads;
    void **args;
    int racecheck;
    const char *expected;
  } checks[] = {
      {"deadlock", 64, NULL, 0, "`bar.sync \t1, 64;` (kernel.py:4) at barrier 1"},
      {"oob_global", 32, smallArgs, 0,
       "is outside every allocation (0 bytes past the end of the 256-byte allocation"},
      {"oob_shared", 32, NULL, 0, "(kernel.py:15): shared memory access of 4 bytes at 0x40 is "
                                  "outside the block's 64 bytes of shared memory"},
      {"wgmma_fence", 128, outArgs, 0,
       "(kernel.py:22): this wgmma.mma_async: it reads shared memory at 0x0 that thread 0 "
       "wrote through the generic proxy"},
      {"tma_overwrite", 32, tmaArgs, 0,
       "(kernel.py:32): this TMA load: it overwrites shared memory at 0x0 that thread 0 wrote "
       "through the generic proxy"},
      {"race", 64, NULL, 1, "(kernel.py:40): shared-memory race (write after write) at 0x0"},
      {"mbarrier_reinit", 1, NULL, 0,
       "(kernel.py:45): mbarrier.init re-initializes the mbarrier at shared address 0 while it "
       "is in use"},
      {"mbarrier_overarrive", 1, NULL, 0,
       "(kernel.py:50): more arrivals on the mbarrier at shared address 0 than its phase "
       "expects"},
      {"mbarrier_tx", 1, NULL, 0, "tx-count 32 (expected bytes that no copy will deliver)"},
      {"barrier_count", 128, NULL, 0,
       "(kernel.py:61): barrier 1 is reached with a thread count of 96 here but 64"},
      {"setmaxnreg_count", 128, NULL, 0,
       "(kernel.py:65): setmaxnreg's count 100 is not a multiple of 8 from 24 to 256"},
      {"unsupported", 32, NULL, 0,
       "(kernel.py:70): the emulator does not run this instruction (yet)"},
  };
  const uint32_t grid[3] = {1, 1, 1};
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; ++i) {
    tessel_rt_kernel *k = NULL;
    EXPECT(tessel_rt_kernel_create(ptx, strlen(ptx) + 1, checks[i].kernel, checks[i].threads, 0,
                                   &k) == TESSEL_RT_SUCCESS);
    if (checks[i].racecheck)
      setenv("TESSEL_EMU_RACECHECK", "1", 1);
    tessel_rt_status status = tessel_rt_launch(k, grid, checks[i].args, NULL);
    if (checks[i].racecheck)
      unsetenv("TESSEL_EMU_RACECHECK");
    int found = strstr(tessel_rt_last_error(), checks[i].expected) != NULL;
    printf("%s: %s\n", checks[i].kernel, found ? "reported" : tessel_rt_last_error());
    EXPECT(status == TESSEL_RT_DRIVER_ERROR && found);
    tessel_rt_kernel_destroy(k);
  }
  printf("deadlock through the C API:\n");
  {
    tessel_rt_kernel *k = NULL;
    EXPECT(tessel_rt_kernel_create(ptx, strlen(ptx) + 1, "deadlock", 64, 0, &k) ==
           TESSEL_RT_SUCCESS);
    EXPECT(tessel_rt_launch(k, grid, NULL, NULL) == TESSEL_RT_DRIVER_ERROR);
    printf("%s\n", tessel_rt_last_error());
    tessel_rt_kernel_destroy(k);
  }
  tessel_rt_mem_free(buffer);
  tessel_rt_mem_free(source);
  tessel_rt_mem_free(tiny);
  free(ptx);
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[2], "emu") == 0 && argc != 4)) {
    printf("usage: capi GEMM_SOURCE (nodriver|fake|emu) [CHECKS_PTX]\n");
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

  /* Bad requests: each fails with tessel_last_error() saying why (it was
   * empty for a NULL argument before). */
  EXPECT(tessel_compile(NULL, &options, &program) == TESSEL_INVALID_ARGUMENT);
  EXPECT(program == NULL);
  EXPECT(strstr(tessel_last_error(), "tessel_compile: source is NULL") != NULL);
  EXPECT(tessel_compile(kBroken, NULL, &program) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "options is NULL") != NULL);
  EXPECT(tessel_compile(kBroken, &options, NULL) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "out is NULL") != NULL);
  tessel_compile_options negative = {"scale", defines, -1, NULL, NULL};
  EXPECT(tessel_compile(kBroken, &negative, &program) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "num_defines") != NULL);
  tessel_compile_options nullEntry = {NULL, defines, 1, NULL, NULL};
  EXPECT(tessel_compile(kBroken, &nullEntry, &program) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "entry") != NULL);
  const char *nullDefine[] = {NULL};
  tessel_compile_options nullDefines = {"scale", nullDefine, 1, NULL, NULL};
  EXPECT(tessel_compile(kBroken, &nullDefines, &program) == TESSEL_COMPILE_ERROR);
  EXPECT(strstr(tessel_last_error(), "bad define ''") != NULL);
  tessel_program_destroy(program);
  /* Handles that are not live: destroyed, twice, garbage, NULL. Each is
   * refused before it is read (a use after free or a double free before). */
  EXPECT(tessel_compile(kBroken, &options, &program) == TESSEL_COMPILE_ERROR);
  tessel_program_destroy(program);
  tessel_program_destroy(program); /* a second destroy frees nothing */
  EXPECT(strstr(tessel_last_error(), "not a live program") != NULL);
  EXPECT(strcmp(tessel_program_log(program), "") == 0);
  EXPECT(tessel_program_ptx(program) == NULL);
  EXPECT(tessel_program_num_args(program) == -1);
  tessel_kernel *none = NULL;
  EXPECT(tessel_program_load(program, NULL, &none) == TESSEL_INVALID_ARGUMENT && none == NULL);
  EXPECT(strstr(tessel_last_error(), "not a live program") != NULL);
  EXPECT(tessel_program_load(NULL, NULL, &none) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "the program is NULL") != NULL);
  unsigned long long garbage[8];
  memset(garbage, 0xAB, sizeof garbage);
  EXPECT(tessel_kernel_launch((tessel_kernel *)garbage, NULL, NULL, 0) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "not a live kernel") != NULL);
  tessel_kernel_unload((tessel_kernel *)garbage); /* a no-op that says so */
  EXPECT(strstr(tessel_last_error(), "not a live kernel") != NULL);
  EXPECT(tessel_program_num_args((const tessel_program *)garbage) == -1);
  tessel_program_destroy((tessel_program *)garbage);
  EXPECT(tessel_kernel_launch(NULL, NULL, NULL, 0) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "the kernel is NULL") != NULL);
  program = NULL;
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
  } else if (strcmp(argv[2], "emu") == 0) {
    EXPECT(status == TESSEL_SUCCESS && kernel != NULL);
    if (kernel)
      emulatorRun(kernel, argv[3]);
    tessel_kernel_unload(kernel);
  } else {
    EXPECT(status == TESSEL_SUCCESS && kernel != NULL);
    CUdeviceptr a = 0x1000000, b = 0x2000008, c = 0x3000000;
    void *args[] = {&a, &b, &c};
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 2) == TESSEL_INVALID_ARGUMENT);
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "argument 'B' is not 16-byte aligned") != NULL);
    b = 0x2000000;
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_SUCCESS);
    /* A NULL element, NULL args: named errors (a SIGSEGV before; NULL args
     * said "'matmul' takes 3 arguments, got 3"). */
    void *holey[] = {&a, NULL, &c};
    EXPECT(tessel_kernel_launch(kernel, NULL, holey, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "args[1] ('B') of 'matmul' is NULL") != NULL);
    EXPECT(tessel_kernel_launch(kernel, NULL, NULL, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "takes 3 arguments, but args is NULL") != NULL);
    /* An output sharing memory with an input (an in-place GEMM: silently
     * wrong before) is refused, naming both. */
    void *aliased[] = {&a, &b, &a};
    EXPECT(tessel_kernel_launch(kernel, NULL, aliased, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "output 'C'") != NULL);
    EXPECT(strstr(tessel_last_error(), "argument 'A'") != NULL);
    CUdeviceptr inside = c + 4096; /* B starting inside C */
    void *overlapping[] = {&a, &inside, &c};
    EXPECT(tessel_kernel_launch(kernel, NULL, overlapping, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "share memory") != NULL);
    tessel_kernel_unload(kernel);
    /* ... unless the kernel declares the parameter in_place. */
    const char *n64[] = {"N=64"};
    tessel_compile_options inPlaceOptions = {"double", n64, 1, NULL, "in_place.py"};
    tessel_program *inPlace = NULL;
    EXPECT(tessel_compile(kInPlace, &inPlaceOptions, &inPlace) == TESSEL_SUCCESS);
    EXPECT(strstr(tessel_program_manifest(inPlace), "\"in_place\": true") != NULL);
    tessel_kernel *inPlaceKernel = NULL;
    EXPECT(tessel_program_load(inPlace, NULL, &inPlaceKernel) == TESSEL_SUCCESS);
    void *same[] = {&a, &a};
    EXPECT(tessel_kernel_launch(inPlaceKernel, NULL, same, 2) == TESSEL_SUCCESS);
    tessel_kernel_unload(inPlaceKernel);
    tessel_program_destroy(inPlace);
    /* After unload: launch and a second unload are refused, not run. */
    EXPECT(tessel_kernel_launch(kernel, NULL, args, 3) == TESSEL_INVALID_ARGUMENT);
    EXPECT(strstr(tessel_last_error(), "not a live kernel") != NULL);
    tessel_kernel_unload(kernel);
    EXPECT(strstr(tessel_last_error(), "not a live kernel") != NULL);
  }
  tessel_program_destroy(program);
  free(gemm);
  if (failures)
    return 1;
  printf("C API: compile errors, PTX, manifest, load and launch verified\n");
  return 0;
}

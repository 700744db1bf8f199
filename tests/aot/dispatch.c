/* tesselc --variant M=128 --variant M=256 --dispatch M: one header and one
 * object with both GEMM variants; the dispatcher runs the variant compiled
 * for the M it is given and refuses any other M by name. Run against the
 * fake driver ("fake") or none ("nodriver"). */
#include "dispatch/matmul.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;
#define EXPECT(cond)                                                          \
  do {                                                                        \
    if (!(cond)) {                                                            \
      printf("FAILED line %d: %s (%s)\n", __LINE__, #cond, tessel_last_error()); \
      ++failures;                                                             \
    }                                                                         \
  } while (0)

int main(int argc, char **argv) {
  int fake = argc > 1 && strcmp(argv[1], "fake") == 0;
  tessel_matmul_dispatch *kernel = NULL;
  tessel_status status = tessel_matmul_dispatch_load(0, &kernel);
  if (!fake) {
    EXPECT(status == TESSEL_NO_DRIVER && kernel == NULL);
    return failures ? 1 : 0;
  }
  EXPECT(status == TESSEL_SUCCESS);
  CUdeviceptr a = 0x1000000, b = 0x2000000, c = 0x3000000;
  EXPECT(tessel_matmul_dispatch_launch(kernel, 0, 256, a, b, c) == TESSEL_SUCCESS);
  EXPECT(tessel_matmul_dispatch_launch(kernel, 0, 128, a, b, c) == TESSEL_SUCCESS);
  EXPECT(tessel_matmul_dispatch_launch(kernel, 0, 200, a, b, c) == TESSEL_INVALID_ARGUMENT);
  EXPECT(strstr(tessel_last_error(), "no variant was compiled for M = 200 (compiled: 128, 256)"));
  EXPECT(tessel_matmul_dispatch_launch(kernel, 0, 256, a, b + 4, c) == TESSEL_INVALID_ARGUMENT);
  tessel_matmul_dispatch_unload(kernel);
  /* Each variant is callable on its own too. */
  tessel_matmul_M128_handle *small = NULL;
  EXPECT(tessel_matmul_M128_load(0, &small) == TESSEL_SUCCESS);
  EXPECT(tessel_matmul_M128_launch(small, 0, a, b, c) == TESSEL_SUCCESS);
  tessel_matmul_M128_unload(small);
  if (failures)
    return 1;
  printf("dispatch: variants by M verified\n");
  return 0;
}

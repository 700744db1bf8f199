/* Loads the GEMM tessel_add_kernel compiled; on a machine without a GPU the
 * answer is TESSEL_NO_DRIVER (or TESSEL_NO_DEVICE), printed, and a clean exit. */
#include <matmul.h>

#include <stdio.h>

int main(void) {
  tessel_matmul_handle *kernel = NULL;
  tessel_status status = tessel_matmul_load(0, &kernel);
  printf("tessel_matmul_load: %s\n", tessel_status_string(status));
  if (status == TESSEL_SUCCESS) {
    tessel_matmul_unload(kernel);
    return 0;
  }
  return status == TESSEL_NO_DRIVER || status == TESSEL_NO_DEVICE ? 0 : 1;
}

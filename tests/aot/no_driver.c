/* A C program linking a tesselc-generated launcher (matmul.h, matmul.o) and
 * libtessel_runtime, run where there is no CUDA driver: it starts, gets
 * TESSEL_NO_DRIVER from load with the runtime's explanation, and the
 * launcher refuses a NULL handle, all without exiting the process. */
#include "matmul.h"

#include <stdio.h>
#include <string.h>

int main(void) {
  tessel_matmul_handle *kernel = (tessel_matmul_handle *)0x1;
  tessel_status status = tessel_matmul_load(0, &kernel);
  printf("load: %s (%s)\n", tessel_status_string(status), tessel_last_error());
  if (status != TESSEL_NO_DRIVER || kernel != NULL)
    return 1;
  status = tessel_matmul_launch(NULL, 0, 0x1000, 0x2000, 0x3000);
  printf("launch without a handle: %s (%s)\n", tessel_status_string(status),
         tessel_last_error());
  if (status != TESSEL_INVALID_ARGUMENT || !strstr(tessel_last_error(), "NULL"))
    return 1;
  tessel_matmul_unload(NULL);
  printf("grid %d x %d, %d threads, %d shared bytes\n", TESSEL_MATMUL_GRID_X,
         TESSEL_MATMUL_GRID_Y, TESSEL_MATMUL_THREADS, TESSEL_MATMUL_SHARED_BYTES);
  return 0;
}

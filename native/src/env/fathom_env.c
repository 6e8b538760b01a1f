/*
 * libfathom_env: loaded by the Java loader *before* libgomp and OpenBLAS, so
 * that their start-up code reads these defaults. It exists only for this.
 *
 * Fathom shares cores with the service that embeds it, so idle worker threads
 * must sleep instead of spinning: GNU OpenMP spins ~300k iterations after each
 * parallel region by default and OpenBLAS yields for ~2^28 cycles. A value the
 * user already set in the environment always wins (overwrite = 0).
 */
#include <stdlib.h>

#if defined(__GNUC__)
__attribute__((constructor))
#endif
static void fathom_env_defaults(void) {
#if !defined(_WIN32)
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0); /* 2^4 cycles: sleep almost at once */
#endif
}

/* A symbol so the library is a valid link target on every platform. */
int fathom_env_loaded(void) { return 1; }

/* Status codes returned by every function of the Cleave C ABI: the cpu kernels
 * (cleave_cpu.h, cleave_modular.h, cleave_spectral.h, cleave_circuits.h) and the CUDA library
 * (cleave_cuda.h, its stub and its emulation). 0 is success; on any other value the calling
 * thread's last_error() holds "op: what was wrong (source file:line)".
 *
 * Cleave's own codes are negative, so they never collide with the CUDA runtime's error codes
 * (cudaError_t, all positive): a CUDA function that fails in the CUDA runtime (a device query, a
 * launch, a copy) returns the runtime's code as it is, which the probe reads (100: no device,
 * 222: PTX too new).
 *
 * Java mirrors this list in dev.cleave.nativ.NativeStatus (NativeStatusTest fails when the two
 * differ) and turns each code into a typed exception:
 *   CLEAVE_INVALID_ARGUMENT -> NativeArgumentException (an InvalidInputException: CLI exit 2)
 *   CLEAVE_NUMERIC_FAILURE  -> NativeNumericException (an ArithmeticException: training wraps it
 *                              in TrainingDivergedException, CLI exit 3)
 *   CLEAVE_NOT_CONVERGED    -> NativeNotConvergedException (CLI exit 4)
 *   CLEAVE_INTERNAL_ERROR, CLEAVE_DEVICE_ERROR and any positive value (a CUDA runtime error)
 *                           -> NativeException (exit 1). */
#ifndef CLEAVE_STATUS_H
#define CLEAVE_STATUS_H

typedef enum cleave_status {
  CLEAVE_OK = 0,
  /* An argument or the data it points to is invalid: a null pointer, a size out of range, a
   * label outside [0, classes), a negative graph weight. The message says which and why. */
  CLEAVE_INVALID_ARGUMENT = -1,
  /* The inputs were well-formed but the numbers went bad: a non-finite logit, loss or sum of
   * squared weights (the network diverged). */
  CLEAVE_NUMERIC_FAILURE = -2,
  /* An iterative method stopped before it met its tolerance. */
  CLEAVE_NOT_CONVERGED = -3,
  /* Host memory ran out, or a library call (LAPACK) failed. */
  CLEAVE_INTERNAL_ERROR = -4,
  /* A device failure that has no CUDA runtime code: device memory ran out, or the library is the
   * stub built without CUDA. (A failure in the CUDA runtime returns the runtime's positive code.) */
  CLEAVE_DEVICE_ERROR = -5
} cleave_status;

#endif

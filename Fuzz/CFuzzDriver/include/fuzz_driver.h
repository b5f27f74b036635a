#ifndef FLUXCHAT_FUZZ_DRIVER_H
#define FLUXCHAT_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer on `one_input` with the process's arguments; returns 2 in a build without
/// libFuzzer (Fuzz/run defines FUZZING and links it).
int fuzz_run_driver(int argc, char **argv, int (*one_input)(const uint8_t *data, size_t size));

#endif

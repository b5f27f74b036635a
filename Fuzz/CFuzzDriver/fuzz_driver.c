#include "fuzz_driver.h"

#ifdef FUZZING
// libFuzzer's entry for programs that keep their own main (SwiftPM names the executable's main).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));

int fuzz_run_driver(int argc, char **argv, int (*one_input)(const uint8_t *data, size_t size)) {
    return LLVMFuzzerRunDriver(&argc, &argv, one_input);
}
#else
int fuzz_run_driver(int argc, char **argv, int (*one_input)(const uint8_t *data, size_t size)) {
    (void)argc; (void)argv; (void)one_input;
    return 2;
}
#endif

// Processor identification shared by the files of this module (not part of its public header).
#ifndef BLASCORE_PROCESSOR_H
#define BLASCORE_PROCESSOR_H

// Instruction-set levels that OpenBLAS's x86-64 kernel families are built for.
enum { ISA_BASE = 0, ISA_AVX = 1, ISA_AVX2 = 2, ISA_AVX512 = 3 };

// The highest level both the processor and the OS (saved register state) enable.
int bc_processor_isa_level(void);
// 1 when AVX-512 BF16 is usable (OpenBLAS's Cooperlake family targets it).
int bc_processor_has_avx512_bf16(void);

#endif

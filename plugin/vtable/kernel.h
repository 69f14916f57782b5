/*
 * kernel.h: the C kernel of the vtable library's route. For a tree PgDog
 * passes again whose plan is a router.BigintKernel (WHERE id = $1 on a
 * bigint id table), it proves the tree unchanged with the tree memo's own
 * compares and computes the shard from the binary parameter, without
 * entering Go. Anything else (another tree, a text or NULL parameter, a
 * reloaded config, another shard count) it leaves to Go.
 *
 * Each program lives in a fixed slot guarded by a sequence count (odd while
 * Go rewrites it): the kernel checks the count after loading each word of
 * the program and before using it, so a program being replaced is never
 * acted on, and slots are never freed, so no reader can touch freed memory.
 */
#ifndef VECSHARD_KERNEL_H
#define VECSHARD_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "vecshard_pgdog_vtable.h"

enum {
    VS_KERNEL_SLOTS = 512,   /* programs, by the tree's address; a power of two */
    VS_KERNEL_WORDS = 256,   /* word compares per program at most */
    VS_KERNEL_NARROW = 32,   /* 4-byte compares per program at most */
};

/* One compare of a tree memo proof (pgtree.ProofWord, ProofNarrow). */
typedef struct vs_kernel_word {
    uint64_t addr, want, mask;
} vs_kernel_word;

typedef struct vs_kernel_narrow {
    uint64_t addr, want;
} vs_kernel_narrow;

/* vs_kernel_route answers the route call from a program, or returns false
 * (and leaves *out alone) when it has none for it. */
bool vs_kernel_route(uint64_t shards, bool write_override, const void *stmts,
                     const PdRawParameters *params, PdRoute *out);

/* vs_kernel_set_gen makes gen the only generation programs answer for
 * (0: none). Go bumps it whenever the config changes or stops. */
void vs_kernel_set_gen(uint64_t gen);

/* vs_kernel_gen is the generation programs answer for now. */
uint64_t vs_kernel_gen(void);

/* vs_kernel_install writes a program into the slot of root (replacing what
 * it held) and returns true, or false when it does not fit or the slots
 * cannot be allocated. Callers serialise installs. */
bool vs_kernel_install(uint64_t root, uint64_t gen, uint64_t shards, uint32_t param, bool write,
                       const vs_kernel_word *words, uint32_t nwords,
                       const vs_kernel_narrow *narrow, uint32_t nnarrow);

/* vs_kernel_shard is the kernel's arithmetic alone, for the tests that
 * hold it to idkey's: jump(fmix64(v), shards). */
int64_t vs_kernel_shard(int64_t v, uint64_t shards);

#endif

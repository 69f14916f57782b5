/*
 * kernel.c: see kernel.h. The arithmetic restates FORMATS.md's bigint id
 * key (MurmurHash3's fmix64 of the two's-complement bits) and jump
 * consistent hashing (Lamping and Veach), bit for bit as idkey and go-jump
 * compute them; TestKernelArithmetic holds the two to each other.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

typedef struct vs_kernel_slot {
    uint64_t seq; /* odd while Go writes the slot */
    uint64_t root, gen, shards;
    uint32_t param, write, nwords, nnarrow;
    vs_kernel_word words[VS_KERNEL_WORDS];
    vs_kernel_narrow narrow[VS_KERNEL_NARROW];
} vs_kernel_slot;

static vs_kernel_slot *slots; /* VS_KERNEL_SLOTS of them, allocated at the first install, never freed */
static uint64_t current_gen;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* unchanged reports whether the slot still holds the program whose
 * sequence count was seq when the reader started: every load before it
 * then read that program. */
static inline bool unchanged(const vs_kernel_slot *s, uint64_t seq)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return LOAD(&s->seq) == seq;
}

/* word_holds compares one word of the host's tree. The address need not
 * be 8-byte aligned (a struct whose size is 4 mod 8 ends in a word that
 * starts 4 bytes before its end). */
static inline bool word_holds(uint64_t addr, uint64_t want, uint64_t mask)
{
    uint64_t host;
    memcpy(&host, (const void *)(uintptr_t)addr, 8);
    return ((host ^ want) & mask) == 0;
}

static inline unsigned home(uint64_t root)
{
    return (unsigned)((root * 0x9e3779b97f4a7c15ULL) >> 55) & (VS_KERNEL_SLOTS - 1);
}

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline int64_t jump(uint64_t key, int64_t n)
{
    int64_t b = -1, j = 0;
    while (j < n) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return b;
}

int64_t vs_kernel_shard(int64_t v, uint64_t shards)
{
    return jump(fmix64((uint64_t)v), (int64_t)shards);
}

bool vs_kernel_route(uint64_t shards, bool write_override, const void *stmts,
                     const PdRawParameters *rp, PdRoute *out)
{
    vs_kernel_slot *all = __atomic_load_n(&slots, __ATOMIC_ACQUIRE);
    uint64_t gen = __atomic_load_n(&current_gen, __ATOMIC_ACQUIRE);
    if (all == NULL || gen == 0 || stmts == NULL)
        return false;
    const vs_kernel_slot *s = &all[home((uint64_t)(uintptr_t)stmts)];
    uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (seq & 1)
        return false;
    uint64_t root = LOAD(&s->root), sgen = LOAD(&s->gen), sshards = LOAD(&s->shards);
    uint32_t param = LOAD(&s->param), write = LOAD(&s->write);
    uint32_t nwords = LOAD(&s->nwords), nnarrow = LOAD(&s->nnarrow);
    if (!unchanged(s, seq) || root != (uint64_t)(uintptr_t)stmts || sgen != gen || sshards != shards ||
        nwords > VS_KERNEL_WORDS || nnarrow > VS_KERNEL_NARROW)
        return false;

    /* The key: parameter param, bound, binary (Bind's rules for the
     * format codes), not NULL, an int2, int4 or int8. */
    if (rp->params == NULL || param >= rp->params_len || rp->format_codes == NULL || rp->format_codes_len == 0)
        return false;
    int32_t code = rp->format_codes_len == 1 ? rp->format_codes[0]
                   : param < rp->format_codes_len ? rp->format_codes[param] : 0;
    if (code != 1)
        return false;
    PdParameter p = rp->params[param];
    if (p.data == NULL || p.len == SIZE_MAX)
        return false;
    int64_t v;
    switch (p.len) {
    case 2:
        v = (int16_t)(((uint16_t)p.data[0] << 8) | p.data[1]);
        break;
    case 4: {
        uint32_t u;
        memcpy(&u, p.data, 4);
        v = (int32_t)__builtin_bswap32(u);
        break;
    }
    case 8: {
        uint64_t u;
        memcpy(&u, p.data, 8);
        v = (int64_t)__builtin_bswap64(u);
        break;
    }
    default:
        return false;
    }

    /* The proof, in its order: a word's address is only read once the
     * words before it held, and a word of the program only acted on once
     * the sequence count says it is the program read (checked once per
     * four words: they are loaded first, then checked, then compared). */
    uint32_t i = 0;
    for (; i + 4 <= nwords; i += 4) {
        const vs_kernel_word *w = &s->words[i];
        uint64_t a0 = LOAD(&w[0].addr), v0 = LOAD(&w[0].want), m0 = LOAD(&w[0].mask);
        uint64_t a1 = LOAD(&w[1].addr), v1 = LOAD(&w[1].want), m1 = LOAD(&w[1].mask);
        uint64_t a2 = LOAD(&w[2].addr), v2 = LOAD(&w[2].want), m2 = LOAD(&w[2].mask);
        uint64_t a3 = LOAD(&w[3].addr), v3 = LOAD(&w[3].want), m3 = LOAD(&w[3].mask);
        if (!unchanged(s, seq))
            return false;
        if (!word_holds(a0, v0, m0) || !word_holds(a1, v1, m1) || !word_holds(a2, v2, m2) ||
            !word_holds(a3, v3, m3))
            return false;
    }
    for (; i < nwords; i++) {
        const vs_kernel_word *w = &s->words[i];
        uint64_t a = LOAD(&w->addr), v = LOAD(&w->want), m = LOAD(&w->mask);
        if (!unchanged(s, seq) || !word_holds(a, v, m))
            return false;
    }
    for (uint32_t i = 0; i < nnarrow; i++) {
        const vs_kernel_narrow *w = &s->narrow[i];
        uint64_t addr = LOAD(&w->addr), want = LOAD(&w->want);
        if (!unchanged(s, seq))
            return false;
        uint32_t host;
        memcpy(&host, (const void *)(uintptr_t)addr, 4);
        if (host != (uint32_t)want)
            return false;
    }
    out->shard = jump(fmix64((uint64_t)v), (int64_t)shards);
    out->read_write = (write || write_override) ? 0 : 1;
    return true;
}

void vs_kernel_set_gen(uint64_t gen)
{
    __atomic_store_n(&current_gen, gen, __ATOMIC_SEQ_CST);
}

uint64_t vs_kernel_gen(void)
{
    return __atomic_load_n(&current_gen, __ATOMIC_SEQ_CST);
}

bool vs_kernel_install(uint64_t root, uint64_t gen, uint64_t shards, uint32_t param, bool write,
                       const vs_kernel_word *words, uint32_t nwords,
                       const vs_kernel_narrow *narrow, uint32_t nnarrow)
{
    if (nwords > VS_KERNEL_WORDS || nnarrow > VS_KERNEL_NARROW || shards == 0 || shards > INT32_MAX)
        return false;
    vs_kernel_slot *all = __atomic_load_n(&slots, __ATOMIC_ACQUIRE);
    if (all == NULL) {
        all = calloc(VS_KERNEL_SLOTS, sizeof *all);
        if (all == NULL)
            return false;
        __atomic_store_n(&slots, all, __ATOMIC_RELEASE);
    }
    vs_kernel_slot *s = &all[home(root)];
    uint64_t seq = LOAD(&s->seq);
    __atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE); /* odd before any word changes */
    STORE(&s->root, root);
    STORE(&s->gen, gen);
    STORE(&s->shards, shards);
    STORE(&s->param, param);
    STORE(&s->write, write ? 1u : 0u);
    STORE(&s->nwords, nwords);
    STORE(&s->nnarrow, nnarrow);
    for (uint32_t i = 0; i < nwords; i++) {
        STORE(&s->words[i].addr, words[i].addr);
        STORE(&s->words[i].want, words[i].want & words[i].mask);
        STORE(&s->words[i].mask, words[i].mask);
    }
    for (uint32_t i = 0; i < nnarrow; i++) {
        STORE(&s->narrow[i].addr, narrow[i].addr);
        STORE(&s->narrow[i].want, narrow[i].want);
    }
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
    return true;
}

/*
 * stub_plugin.c: a PgDog vtable plugin (pgdog-plugin 0.4 ABI) in C, for
 * testing pgdog-host without the real (Go) plugin.
 *
 * Build: gcc -O2 -Wall -Werror -shared -fPIC -pthread -o libstub.so stub_plugin.c
 * Compile-time knobs:
 *   -DSTUB_API='"0.4.0"'        pgdog_plugin_api_version() (default "0.4.0")
 *   -DSTUB_RUSTC='"rustc ..."'  rustc_version(); default: read the host's
 *                               version from /proc/self/exe's .comment
 *                               section ("rustc version X" -> "rustc X"),
 *                               the way a non-Rust plugin has to
 *   -DSTUB_NO_VTABLE            do not export PGDOG_PLUGIN_VTABLE
 *   -DSTUB_CONFIG_FALSE         config() returns false
 *   -DSTUB_KEEP_CONFIG          keep the Config pointers (wrong) and show in
 *                               fini what they point to by then
 *   -DSTUB_THREAD               init() starts a thread of the plugin's own
 *   -DSTUB_ECHO                 route() answers with the Route its first
 *                               two parameters give as decimal text (shard,
 *                               read_write), for the hosts' serve mapping;
 *                               with fewer parameters, as without the knob
 *   -DSTUB_FOREIGN_STACK        route() does its work on a stack of its own
 *                               (as Go code does), to exercise the host's
 *                               foreign-stack detection
 *
 * route() answer (deterministic from the inputs):
 *   shard = tag of the first RawStmt's stmt (0 when the list is empty)
 *         + 1000 * (list length - 1, or 0)
 *         + 10^6 * params_len + 10^8 * format_codes_len
 *         + 10^9 * (number of NULL params, <= 9)
 *         + 10^10 * ((sum of all param bytes + sum of format codes) % 100000)
 *         + 10^15 * (shards % 1000)
 *   read_write = 1 | write_override<<1 | in_transaction<<2
 *              | has_replicas<<3 | has_primary<<4
 *   shard -3 (blocked), read_write 2, when an input breaks the ABI's rules
 *   or differs from what PgDog passes (NULL list, wrong tags, NULL data
 *   with len > 0, an empty value with data not NULL, ...).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

/* The ABI's types: the project's header (layouts asserted there). */
#include "vecshard_pgdog_vtable.h"
typedef PdPluginVtable PdVtable;
typedef struct { int32_t type; int32_t *stmt; int32_t stmt_location; int32_t stmt_len; } PdRawStmt;

_Static_assert(sizeof(PdRawStmt) == 24 && offsetof(PdRawStmt, stmt_len) == 20, "RawStmt");

#ifndef STUB_API
#define STUB_API "0.4.0"
#endif

static PdStr mk(const char *s) { PdStr r = { (const uint8_t *)s, strlen(s) }; return r; }

static PdStr api_version(void) { return mk(STUB_API); }

static char rustc_buf[256];

__attribute__((unused)) static void read_comment_rustc(void)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f)
        return;
    Elf64_Ehdr eh;
    if (fread(&eh, sizeof eh, 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_shnum == 0 || eh.e_shnum > 4096 || eh.e_shstrndx >= eh.e_shnum)
        goto out;
    Elf64_Shdr *sh = calloc(eh.e_shnum, sizeof *sh);
    if (fseek(f, (long)eh.e_shoff, SEEK_SET) || fread(sh, sizeof *sh, eh.e_shnum, f) != eh.e_shnum)
        goto out_sh;
    Elf64_Shdr *ss = &sh[eh.e_shstrndx];
    char *names = malloc(ss->sh_size + 1);
    if (fseek(f, (long)ss->sh_offset, SEEK_SET) || fread(names, 1, ss->sh_size, f) != ss->sh_size)
        goto out_names;
    names[ss->sh_size] = 0;
    for (int i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_name >= ss->sh_size || strcmp(names + sh[i].sh_name, ".comment") != 0 ||
            sh[i].sh_type != SHT_PROGBITS)
            continue;
        char *c = malloc(sh[i].sh_size + 1);
        if (fseek(f, (long)sh[i].sh_offset, SEEK_SET) == 0 &&
            fread(c, 1, sh[i].sh_size, f) == sh[i].sh_size) {
            c[sh[i].sh_size] = 0;
            for (size_t o = 0; o < sh[i].sh_size; o += strlen(c + o) + 1) {
                static const char pre[] = "rustc version ";
                if (strncmp(c + o, pre, sizeof pre - 1) == 0) {
                    snprintf(rustc_buf, sizeof rustc_buf, "rustc %s", c + o + sizeof pre - 1);
                    break;
                }
            }
        }
        free(c);
        break;
    }
out_names:
    free(names);
out_sh:
    free(sh);
out:
    fclose(f);
}

static PdStr rustc_version(void)
{
#ifdef STUB_RUSTC
    return mk(STUB_RUSTC);
#else
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_comment_rustc);
    return mk(rustc_buf);
#endif
}

static PdStr plugin_version(void) { return mk("stub-1.0"); }

static void print_str(const char *what, PdStr s)
{
    fprintf(stderr, "%s=", what);
    if (s.len)
        fwrite(s.data, 1, s.len, stderr);
}

static char *copy_str(PdStr s)
{
    char *p = malloc(s.len + 1);
    if (s.len)
        memcpy(p, s.data, s.len);
    p[s.len] = 0;
    return p;
}

static char *my_level, *my_config;
#ifdef STUB_KEEP_CONFIG
static PdStr kept_level;
#endif

static void logging_init(PdConfig c)
{
    fprintf(stderr, "stub: logging_init ");
    print_str("log_level", c.log_level);
    fprintf(stderr, " log_json=%d ", (int)c.log_json);
    print_str("plugin_config", c.plugin_config);
    fprintf(stderr, " plugin_config_data_null=%d\n", c.plugin_config.data == NULL);
    my_level = copy_str(c.log_level);
#ifdef STUB_KEEP_CONFIG
    kept_level = c.log_level;
#endif
}

#ifdef STUB_THREAD
static pthread_t own_thread;
static volatile int own_stop;
static void *own_main(void *a)
{
    (void)a;
    struct timespec ts = { 0, 200000 };
    while (!own_stop)
        nanosleep(&ts, NULL);
    return NULL;
}
#endif

static unsigned long route_calls;

static void init(void)
{
    fprintf(stderr, "stub: init\n");
#ifdef STUB_THREAD
    pthread_create(&own_thread, NULL, own_main, NULL);
#endif
}

static void fini(void)
{
#ifdef STUB_THREAD
    own_stop = 1;
    pthread_join(own_thread, NULL);
#endif
    fprintf(stderr, "stub: fini routes=%lu level=%s config=%s\n",
            __atomic_load_n(&route_calls, __ATOMIC_RELAXED), my_level ? my_level : "",
            my_config ? my_config : "");
#ifdef STUB_KEEP_CONFIG
    fprintf(stderr, "stub: kept log_level pointer now reads:");
    for (size_t i = 0; i < kept_level.len; i++)
        fprintf(stderr, " %02x", kept_level.data[i]);
    fprintf(stderr, "\n");
#endif
}

static bool config(PdConfig c)
{
    fprintf(stderr, "stub: config ");
    print_str("plugin_config", c.plugin_config);
    fprintf(stderr, "\n");
    my_config = copy_str(c.plugin_config);
#ifdef STUB_CONFIG_FALSE
    return false;
#else
    return true;
#endif
}

static const PdRoute BAD = { -3, 2 };

static PdRoute compute(uint64_t shards, bool has_replicas, bool has_primary, bool in_tx,
                       bool write_override, const PdList *l, PdRawParameters p)
{
    if (!l || l->type != 1 || l->length < 0)
        return BAD;
    int64_t tag = 0, extra = 0;
    if (l->length > 0) {
        if (!l->elements)
            return BAD;
        const PdRawStmt *rs = l->elements[0];
        if (!rs || rs->type != 136 || !rs->stmt)
            return BAD;
        for (int i = 1; i < l->length; i++) {
            const PdRawStmt *o = l->elements[i];
            if (!o || o->type != 136)
                return BAD;
        }
        tag = rs->stmt[0];
        extra = l->length - 1;
    }
    if ((p.params_len && !p.params) || (p.format_codes_len && !p.format_codes))
        return BAD;
    int64_t nulls = 0, sum = 0;
    for (size_t i = 0; i < p.params_len; i++) {
        const PdParameter *q = &p.params[i];
        if (q->len == SIZE_MAX) {
            if (q->data)
                return BAD;
            nulls++;
            continue;
        }
        if (q->len && !q->data)
            return BAD;
        if (q->len == 0 && q->data) /* PgDog: Parameter::from(Some(&[])) has data NULL */
            return BAD;
        for (size_t k = 0; k < q->len; k++)
            sum += q->data[k];
    }
    for (size_t i = 0; i < p.format_codes_len; i++)
        sum += (uint32_t)p.format_codes[i];
    PdRoute r;
    r.shard = tag + 1000 * extra + 1000000LL * (int64_t)(p.params_len % 100) +
              100000000LL * (int64_t)(p.format_codes_len % 10) + 1000000000LL * (nulls % 10) +
              10000000000LL * (sum % 100000) + 1000000000000000LL * (int64_t)(shards % 1000);
    r.read_write = (uint8_t)(1 | write_override << 1 | in_tx << 2 | has_replicas << 3 |
                             has_primary << 4);
    return r;
}

#ifdef STUB_FOREIGN_STACK
#define FSTACK (256 * 1024)
static __thread ucontext_t fs_caller, fs_callee;
static __thread char *fs_stack;
static __thread struct {
    uint64_t shards; bool a, b, c, d; const PdList *l; PdRawParameters p; PdRoute out;
} fs_job;

static void fs_run(void)
{
    fs_job.out = compute(fs_job.shards, fs_job.a, fs_job.b, fs_job.c, fs_job.d, fs_job.l, fs_job.p);
    /* stay a while on this stack so that signals land here */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t1);
    while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 20000);
}
#endif

static PdRoute route(uint64_t shards, bool has_replicas, bool has_primary, bool in_tx,
                     bool write_override, const PdList *l, PdRawParameters p)
{
    __atomic_add_fetch(&route_calls, 1, __ATOMIC_RELAXED);
#ifdef STUB_ECHO
    if (p.params_len >= 2 && p.params[0].len < 32 && p.params[1].len < 32 && p.params[0].data &&
        p.params[1].data) {
        char a[32], b[32];
        memcpy(a, p.params[0].data, p.params[0].len);
        a[p.params[0].len] = 0;
        memcpy(b, p.params[1].data, p.params[1].len);
        b[p.params[1].len] = 0;
        PdRoute e = { strtoll(a, NULL, 10), (uint8_t)strtol(b, NULL, 10) };
        return e;
    }
#endif
#ifdef STUB_FOREIGN_STACK
    if (!fs_stack)
        fs_stack = malloc(FSTACK);
    fs_job.shards = shards; fs_job.a = has_replicas; fs_job.b = has_primary;
    fs_job.c = in_tx; fs_job.d = write_override; fs_job.l = l; fs_job.p = p;
    getcontext(&fs_callee);
    fs_callee.uc_stack.ss_sp = fs_stack;
    fs_callee.uc_stack.ss_size = FSTACK;
    fs_callee.uc_link = &fs_caller;
    makecontext(&fs_callee, fs_run, 0);
    swapcontext(&fs_caller, &fs_callee);
    return fs_job.out;
#else
    return compute(shards, has_replicas, has_primary, in_tx, write_override, l, p);
#endif
}

#ifdef STUB_NO_VTABLE
#define VTABLE_NAME PGDOG_PLUGIN_VTABLE_MISSING
#else
#define VTABLE_NAME PGDOG_PLUGIN_VTABLE
#endif

__attribute__((visibility("default"))) const PdVtable VTABLE_NAME = {
    api_version, rustc_version, plugin_version, init, fini, config, route, logging_init,
};

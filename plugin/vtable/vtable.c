/*
 * vtable.c: the PGDOG_PLUGIN_VTABLE that today's PgDog (pgdog-plugin 0.4)
 * looks up, and the signal-flag repair. The entries are thin C wrappers:
 * PgDog passes structs by value, the Go exports take pointers.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "vecshard_pgdog_vtable.h"
#include "kernel.h"
#include "_cgo_export.h"

/* The pgdog-plugin crate version whose ABI this is. PgDog parses it as
 * full semver and requires major.minor to equal its own (0.4). */
static const char api_version[] = "0.4.0";

static PdStr vs_api_version(void)
{
    PdStr s = {(const uint8_t *)api_version, sizeof api_version - 1};
    return s;
}

static PdStr vs_rustc_version(void)
{
    struct vecshardRustcVersion_return r = vecshardRustcVersion();
    PdStr s = {(const uint8_t *)r.r0, (size_t)r.r1};
    return s;
}

static PdStr vs_plugin_version(void)
{
    struct vecshardPluginVersion_return r = vecshardPluginVersion();
    PdStr s = {(const uint8_t *)r.r0, (size_t)r.r1};
    return s;
}

static void vs_init(void) { vecshardInit(); }
static void vs_fini(void) { vecshardFini(); }
static bool vs_config(PdConfig c) { return vecshardConfig(&c) != 0; }
static void vs_logging_init(PdConfig c) { vecshardLoggingInit(&c); }

static PdRoute vs_route(uint64_t shards, bool has_replicas, bool has_primary,
                        bool in_transaction, bool write_override,
                        const PdList *stmts, PdRawParameters params)
{
    (void)has_replicas;
    (void)has_primary;
    (void)in_transaction;
    PdRoute out;
    if (vs_kernel_route(shards, write_override, stmts, &params, &out))
        return out;
    struct vecshardRoute_return r = vecshardRoute(shards, write_override ? 1 : 0, (void *)stmts, &params);
    out.shard = r.r0;
    out.read_write = r.r1;
    return out;
}

__attribute__((visibility("default")))
const PdPluginVtable PGDOG_PLUGIN_VTABLE = {
    .pgdog_plugin_api_version = vs_api_version,
    .rustc_version = vs_rustc_version,
    .plugin_version = vs_plugin_version,
    .init = vs_init,
    .fini = vs_fini,
    .config = vs_config,
    .route = vs_route,
    .logging_init = vs_logging_init,
};

/*
 * vecshard_onstack_signals adds SA_ONSTACK to every installed signal
 * handler that lacks it and returns how many it changed. A handler without
 * it runs on whatever stack the thread is on; when that thread is running
 * Go code, that is a small goroutine stack the handler can overflow into
 * other memory. PgDog installs its SIGTERM, SIGHUP and SIGINT handlers
 * (tokio, signal-hook-registry: SA_RESTART|SA_SIGINFO) after loading
 * plugins, so this runs at load and again from a watcher. SA_ONSTACK only
 * changes anything on a thread with an alternate signal stack (Go threads,
 * Rust's threads): there the handler runs on that stack instead.
 *
 * That stack is small: Rust's std gives each thread it spawns SIGSTKSZ
 * (8 KiB), and Go adopts it on threads that call into Go. A kernel signal
 * frame with the AVX-512 state is about 3 KiB, so a storm of SIGHUP, SIGINT
 * and SIGTERM nesting their handlers (or Go's SIGURG preempting one) could
 * run off its end: the test host died of SIGSEGV that way about one run in
 * five. So every asynchronous signal is also blocked while such a handler
 * runs: at most one handler frame lies on the alternate stack, and the
 * blocked signals are delivered as soon as it returns. Synchronous signals
 * (a fault in the handler itself) stay deliverable.
 */
int vecshard_onstack_signals(void)
{
    int changed = 0;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sigaction(sig, NULL, &sa) != 0)
            continue;
        if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_ONSTACK))
            continue;
        sa.sa_flags |= SA_ONSTACK;
        for (int other = 1; other < NSIG; other++) {
            switch (other) {
            case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS:
            case SIGKILL: case SIGSTOP:
                continue;
            }
            sigaddset(&sa.sa_mask, other);
        }
        if (sigaction(sig, &sa, NULL) == 0)
            changed++;
    }
    return changed;
}

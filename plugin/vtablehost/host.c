/*
 * pgdog-host (C twin): loads a PgDog vtable plugin (pgdog-plugin 0.4 ABI) the
 * way today's PgDog does and calls it. Behaves exactly like host.rs (the Rust
 * build); see the usage text (printed by --help) for modes, case-file
 * format, output and exit codes.
 *
 * Build (plugin/vtablehost/build.sh does this):
 *   gcc -O2 -Wall -Werror -pthread \
 *       -DVH_RUSTC_VERSION_TAIL='"1.95.0 (59807616e 2026-04-14)"' \
 *       -o build/pgdog-host-c plugin/vtablehost/host.c pgparse.o libpg_query.a -ldl
 * VH_RUSTC_VERSION_TAIL is `rustc --version` without the leading "rustc ":
 * the host compares the plugin's rustc_version() with "rustc " TAIL and
 * writes "rustc version " TAIL into its own .comment section, where rustc
 * puts it in every binary it links (a non-Rust plugin reads PgDog's rustc
 * version from there).
 *
 * The ABI structs come from the project's header (plugin/include, layouts
 * asserted there): docs/ABI.md section 2 and PostgreSQL 18's List.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef VH_RUSTC_VERSION_TAIL
#error "define VH_RUSTC_VERSION_TAIL to `rustc --version` without the leading \"rustc \""
#endif

#define HOST_RUSTC_VERSION "rustc " VH_RUSTC_VERSION_TAIL
#define HOST_API_VERSION "0.4.0"

/* Same bytes as rustc's: "rustc version <tail>\0" in .comment. The .ident
 * directive is how gcc itself writes its line there; an explicit
 * .pushsection .comment,"MS",@progbits,1 works too but makes gas warn. */
__asm__(".ident \"rustc version " VH_RUSTC_VERSION_TAIL "\"");

/* ---- ABI ---------------------------------------------------------------- */

/* The ABI's types: the project's header (layouts asserted there). */
#include "vecshard_pgdog_vtable.h"
typedef PdPluginVtable PdVtable;


/* pgparse.c */
void *vh_parse(const char *sql, char **err, void **ctx);
void vh_free(void *ctx);
void vh_free_error(char *err);
int vh_layout_check(void);
const char *vh_nocall_reason(const void *stmts);
int vh_regex_parser_match(const char *sql);

/* ---- exit codes ------------------------------------------------------------ */
enum {
    EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_DLOPEN = 3, EX_VTABLE = 4,
    EX_API = 5, EX_RUSTC = 6, EX_CONFIG = 7, EX_CASES = 8, EX_INTERNAL = 9
};

/* ---- logging ------------------------------------------------------------- */

static void logmsg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void logmsg(const char *level, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "pgdog-host: %s: ", level);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void put_str(FILE *f, PdStr s)
{
    if (s.len)
        fwrite(s.data, 1, s.len, f);
}

/* ---- options --------------------------------------------------------------- */

static const char USAGE[] =
"usage: pgdog-host [options] MODE [CASEFILE]\n"
"Loads a PgDog plugin through the pgdog-plugin 0.4 vtable ABI the way PgDog\n"
"does (dlopen, PGDOG_PLUGIN_VTABLE, api version 0.4 by full semver, rustc\n"
"version byte for byte, logging_init, init, config) and calls it when and as\n"
"PgDog v0.1.54 would (default settings: query_parser auto, pooler_mode\n"
"transaction, two_pc off).\n"
"modes:\n"
"  check              load, print the versions, fini; exit 0 when loaded\n"
"  route CASEFILE     route every case once, print <id>\\t<shard>\\t<read_write>\n"
"                     (the plugin's raw Route; shard -3 adds\n"
"                     \\t42601 query is blocked by plugin \"NAME\"\\t<detail>,\n"
"                     the detail being the SQL with \\t \\n \\r \\\\ escaped),\n"
"                     <id>\\tNOCALL\\t<reason> or <id>\\tPARSE_ERROR\\t<message>;\n"
"                     with --threads N --repeat R, then route all called\n"
"                     cases R times from each of N threads and compare\n"
"  load CASEFILE      N threads (default 2) route the cases for D seconds\n"
"                     (default 3); prints calls per second\n"
"  signals CASEFILE   N routing threads (default 4) for D seconds (default 3)\n"
"                     while a storm thread sends SIGHUP (process- and\n"
"                     thread-directed) and now and then SIGINT/SIGTERM\n"
"  serve              (pgdog-host only; pgdog-host-c exits 2) load the plugin\n"
"                     once, then read case lines on stdin; for each one write\n"
"                     one line to stdout and flush; blank and '#' lines get\n"
"                     none. The answer is what PgDog acts on, after its own\n"
"                     overrides (one shard: shard 0):\n"
"                       <id>\\t<shard>\\t<rw>   shard: an integer >= 0, ALL or\n"
"                                          UNKNOWN; rw: read, write, unknown\n"
"                       <id>\\tBLOCKED\\t<rw>\\t42601 query is blocked by plugin \"NAME\"\n"
"                                          (the client's error; its detail is\n"
"                                          the SQL text as sent)\n"
"                       <id>\\tNOCALL\\t<reason>   PgDog would not call the plugin\n"
"                       <id>\\tPARSE_ERROR\\t<message>   the SQL does not parse\n"
"                       <id>\\tBAD_CASE\\t<message>   (id - when empty)\n"
"                     at the end of stdin: fini, exit 0. No signal handlers\n"
"                     are installed: SIGTERM/SIGINT end it.\n"
"options:\n"
"  --plugin NAME      plugin name as in [[plugins]] name (default vecshard):\n"
"                     a bare name loads lib<NAME>.so from the library path,\n"
"                     a name with an extension is a path\n"
"  --config PATH      [[plugins]] config, passed as Config.plugin_config\n"
"  --log-level LEVEL  Config.log_level (default info)\n"
"  --log-json         Config.log_json = true\n"
"  --threads N        threads (route: 0 = no concurrent pass; load 2; signals 4)\n"
"  --repeat R         route: passes per thread (default 1)\n"
"  --seconds D        load/signals duration (default 3)\n"
"  --storm-interval-us U  signals: pause between storm rounds (default 0)\n"
"  --abort-on-foreign-stack  abort at once when a handler runs on a stack\n"
"                     that is not its thread's own\n"
"case line: TAB-separated, '#' lines skipped:\n"
"  <id> <shards> <flags> <sql hex> <format codes|-> [<param>...]\n"
"  flags: letters, or - for none:\n"
"    w  write_override      t  in_transaction\n"
"    message kind (one):  b Bind (default; the case's parameters)\n"
"       q simple Query (no parameters)   d Parse or Describe without Bind\n"
"    cluster shape:  P the cluster has a primary   R it has replicas\n"
"       (PgDog fills has_replicas = P, has_primary = R: swapped)\n"
"    or raw arguments (not with P R):  r has_replicas   p has_primary\n"
"       (the shape is then P = r, R = p)\n"
"  param: hex bytes, ~ for NULL (len SIZE_MAX, data NULL), empty for ''\n"
"  (len 0, data NULL)\n"
"PgDog does not call the plugin (NOCALL) for: d; a one-shard cluster without\n"
"  a primary or without replicas (unless the text starts with SET RESET BEGIN\n"
"  COMMIT ROLLBACK LISTEN UNLISTEN NOTIFY, which makes PgDog parse); an empty\n"
"  query; a first statement that is SET/RESET, SELECT set_config(...), SHOW,\n"
"  DEALLOCATE, LISTEN, NOTIFY, UNLISTEN, DISCARD, BEGIN, START TRANSACTION,\n"
"  COMMIT/END, ROLLBACK/ABORT; several statements that mix SET with others.\n"
"exit codes: 0 ok, 1 check failed (mismatch, foreign stack), 2 usage,\n"
"  3 dlopen failed, 4 no vtable, 5 api version, 6 rustc version,\n"
"  7 config returned false, 8 bad case file, 9 internal error\n";

static struct {
    const char *plugin, *config, *log_level;
    bool log_json, abort_foreign;
    long threads; bool threads_set;
    long repeat;
    double seconds;
    long storm_us;
    const char *mode, *casefile;
} opt = { "vecshard", "", "info", false, false, 0, false, 1, 3.0, 0, NULL, NULL };

static void usage_exit(const char *msg)
{
    if (msg)
        fprintf(stderr, "pgdog-host: %s\n", msg);
    fputs(USAGE, stderr);
    exit(EX_USAGE);
}

static long parse_long(const char *name, const char *v, long min)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min) {
        fprintf(stderr, "pgdog-host: bad value for %s: %s\n", name, v);
        usage_exit(NULL);
    }
    return x;
}

static void parse_args(int argc, char **argv)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strncmp(a, "--", 2) == 0) {
            char name[64];
            const char *val = NULL;
            char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            if (nl >= sizeof name)
                usage_exit("unknown option");
            memcpy(name, a, nl);
            name[nl] = 0;
            if (eq)
                val = eq + 1;
            if (strcmp(name, "--log-json") == 0 || strcmp(name, "--abort-on-foreign-stack") == 0) {
                if (val)
                    usage_exit("option takes no value");
                if (name[2] == 'l')
                    opt.log_json = true;
                else
                    opt.abort_foreign = true;
                continue;
            }
            if (!val) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "pgdog-host: %s needs a value\n", name);
                    usage_exit(NULL);
                }
                val = argv[++i];
            }
            if (strcmp(name, "--plugin") == 0) opt.plugin = val;
            else if (strcmp(name, "--config") == 0) opt.config = val;
            else if (strcmp(name, "--log-level") == 0) opt.log_level = val;
            else if (strcmp(name, "--threads") == 0) { opt.threads = parse_long(name, val, 0); opt.threads_set = true; }
            else if (strcmp(name, "--repeat") == 0) opt.repeat = parse_long(name, val, 1);
            else if (strcmp(name, "--storm-interval-us") == 0) opt.storm_us = parse_long(name, val, 0);
            else if (strcmp(name, "--seconds") == 0) {
                char *end;
                opt.seconds = strtod(val, &end);
                if (end == val || *end || !(opt.seconds > 0) || opt.seconds > 1e6) {
                    fprintf(stderr, "pgdog-host: bad value for %s: %s\n", name, val);
                    usage_exit(NULL);
                }
            } else {
                fprintf(stderr, "pgdog-host: unknown option %s\n", name);
                usage_exit(NULL);
            }
            continue;
        }
        if (npos == 0) opt.mode = a;
        else if (npos == 1) opt.casefile = a;
        else usage_exit("too many arguments");
        npos++;
    }
    if (!opt.mode)
        usage_exit("no mode given");
    bool need_cases = strcmp(opt.mode, "check") != 0 && strcmp(opt.mode, "serve") != 0;
    if (strcmp(opt.mode, "check") && strcmp(opt.mode, "route") && strcmp(opt.mode, "load") &&
        strcmp(opt.mode, "signals") && strcmp(opt.mode, "serve"))
        usage_exit("unknown mode");
    if (strcmp(opt.mode, "serve") == 0)
        usage_exit("serve: only the Rust host (pgdog-host) has it");
    if (need_cases && !opt.casefile)
        usage_exit("this mode needs a CASEFILE");
    if (!need_cases && opt.casefile)
        usage_exit("check and serve take no CASEFILE");
    if (!opt.threads_set)
        opt.threads = strcmp(opt.mode, "load") == 0 ? 2 : strcmp(opt.mode, "signals") == 0 ? 4 : 0;
    if ((strcmp(opt.mode, "load") == 0 || strcmp(opt.mode, "signals") == 0) && opt.threads < 1)
        usage_exit("--threads must be at least 1 for this mode");
    if (opt.threads > 512)
        usage_exit("--threads: at most 512");
}

/* ---- semver (the semver crate's Version::parse grammar) ------------------ */

static bool ident_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* numeric component: digits, no leading zero, fits u64 */
static bool sv_num(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s >= end || *s < '0' || *s > '9')
        return false;
    if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
        return false;
    while (s < end && *s >= '0' && *s <= '9') {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

/* dot-separated non-empty identifiers up to end or stop char; numeric
 * identifiers may not have leading zeros when pre is set */
static bool sv_idents(const char **p, const char *end, char stop, bool pre)
{
    const char *s = *p;
    for (;;) {
        const char *b = s;
        bool numeric = true;
        while (s < end && *s != '.' && *s != stop) {
            if (!ident_char(*s))
                return false;
            if (*s < '0' || *s > '9')
                numeric = false;
            s++;
        }
        if (s == b)
            return false;
        if (pre && numeric && *b == '0' && s - b > 1)
            return false;
        if (s < end && *s == '.') {
            s++;
            continue;
        }
        break;
    }
    *p = s;
    return true;
}

static bool semver_parse(const uint8_t *d, size_t n, uint64_t *major, uint64_t *minor)
{
    const char *p = (const char *)d, *end = p + n;
    uint64_t patch;
    if (!d && n)
        return false;
    if (!p)
        return false;
    if (!sv_num(&p, end, major) || p >= end || *p++ != '.')
        return false;
    if (!sv_num(&p, end, minor) || p >= end || *p++ != '.')
        return false;
    if (!sv_num(&p, end, &patch))
        return false;
    if (p < end && *p == '-') {
        p++;
        if (!sv_idents(&p, end, '+', true))
            return false;
    }
    if (p < end && *p == '+') {
        p++;
        if (!sv_idents(&p, end, 0, false))
            return false;
    }
    return p == end;
}

/* ---- thread registry and signal handler ---------------------------------- */

#define MAX_THREADS 1024
struct thr { _Atomic long tid; uintptr_t lo, hi; };
static struct thr thr_tab[MAX_THREADS];
static _Atomic int thr_n;

static atomic_ulong c_delivered, c_native, c_altstack, c_foreign, c_other;
static atomic_ulong c_hup, c_int, c_term;
static int pipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t abort_on_foreign;

static long gettid_sys(void) { return syscall(SYS_gettid); }

static int register_thread(void)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return -1;
    pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_destroy(&a);
    int i = atomic_fetch_add(&thr_n, 1);
    if (i >= MAX_THREADS)
        return -1;
    thr_tab[i].lo = (uintptr_t)addr;
    thr_tab[i].hi = (uintptr_t)addr + size;
    atomic_store_explicit(&thr_tab[i].tid, gettid_sys(), memory_order_release);
    return i;
}

static void unregister_thread(int i)
{
    if (i >= 0 && i < MAX_THREADS)
        atomic_store_explicit(&thr_tab[i].tid, 0, memory_order_release);
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)info;
    (void)uctx;
    int saved = errno;
    volatile char here = 0;
    uintptr_t sp = (uintptr_t)&here;
    atomic_fetch_add(&c_delivered, 1);
    if (sig == SIGHUP) atomic_fetch_add(&c_hup, 1);
    else if (sig == SIGINT) atomic_fetch_add(&c_int, 1);
    else if (sig == SIGTERM) atomic_fetch_add(&c_term, 1);
    if (pipe_fds[1] >= 0) {
        char b = (char)sig;
        ssize_t w = write(pipe_fds[1], &b, 1);
        (void)w;
    }
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK)) {
        atomic_fetch_add(&c_altstack, 1);
    } else {
        long tid = gettid_sys();
        int n = atomic_load(&thr_n);
        if (n > MAX_THREADS)
            n = MAX_THREADS;
        int found = -1;
        for (int i = 0; i < n; i++)
            if (atomic_load_explicit(&thr_tab[i].tid, memory_order_acquire) == tid) {
                found = i;
                break;
            }
        if (found < 0) {
            atomic_fetch_add(&c_other, 1);
        } else if (sp >= thr_tab[found].lo && sp < thr_tab[found].hi) {
            atomic_fetch_add(&c_native, 1);
        } else {
            atomic_fetch_add(&c_foreign, 1);
            if (abort_on_foreign) {
                static const char m[] = "pgdog-host: signal handler ran on a foreign stack, aborting\n";
                ssize_t w = write(2, m, sizeof m - 1);
                (void)w;
                abort();
            }
        }
    }
    errno = saved;
}

static atomic_ulong pipe_bytes;
static atomic_int drain_stop;

static void *drainer(void *arg)
{
    (void)arg;
    int me = register_thread();
    while (!atomic_load(&drain_stop)) {
        struct pollfd pf = { pipe_fds[0], POLLIN, 0 };
        int r = poll(&pf, 1, 50);
        if (r > 0) {
            char buf[256];
            ssize_t n;
            while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
                atomic_fetch_add(&pipe_bytes, (unsigned long)n);
        }
    }
    unregister_thread(me);
    return NULL;
}

static pthread_t drain_thread;

static void install_handlers(void)
{
    static const int sigs[] = { SIGTERM, SIGHUP, SIGINT };
    static const char *names[] = { "SIGTERM", "SIGHUP", "SIGINT" };
    abort_on_foreign = opt.abort_foreign;
    if (pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        logmsg("ERROR", "pipe2: %s", strerror(errno));
        exit(EX_INTERNAL);
    }
    if (pthread_create(&drain_thread, NULL, drainer, NULL) != 0) {
        logmsg("ERROR", "pthread_create failed");
        exit(EX_INTERNAL);
    }
    for (int i = 0; i < 3; i++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | SA_SIGINFO; /* signal-hook-registry: no SA_ONSTACK */
        if (sigaction(sigs[i], &sa, NULL) != 0 || sigaction(sigs[i], NULL, &old) != 0) {
            logmsg("ERROR", "sigaction: %s", strerror(errno));
            exit(EX_INTERNAL);
        }
        logmsg("INFO", "installed %s handler flags=0x%x (SA_ONSTACK %s)", names[i],
               (unsigned)old.sa_flags, (old.sa_flags & SA_ONSTACK) ? "set" : "not set");
    }
}

static void stop_drainer(void)
{
    atomic_store(&drain_stop, 1);
    pthread_join(drain_thread, NULL);
    char buf[256];
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0)
        atomic_fetch_add(&pipe_bytes, (unsigned long)n);
}

static void print_signal_counts(FILE *f, unsigned long routes, unsigned long mismatches,
                                unsigned long sent_proc, unsigned long sent_thr)
{
    fprintf(f,
            "signals: delivered=%lu foreign_stack=%lu other_thread=%lu routes=%lu "
            "native=%lu altstack=%lu sighup=%lu sigint=%lu sigterm=%lu pipe_bytes=%lu "
            "sent_process=%lu sent_thread=%lu mismatches=%lu\n",
            atomic_load(&c_delivered), atomic_load(&c_foreign), atomic_load(&c_other), routes,
            atomic_load(&c_native), atomic_load(&c_altstack), atomic_load(&c_hup),
            atomic_load(&c_int), atomic_load(&c_term), atomic_load(&pipe_bytes), sent_proc,
            sent_thr, mismatches);
    fflush(f);
}

/* ---- plugin loading ------------------------------------------------------ */

static const PdVtable *vt;
static PdStr got_api, got_rustc, got_pv;
static char *lib_path;

static bool has_extension(const char *name)
{
    /* std::path::Path::extension(): the last component, not "." or "..";
     * a dot after its first byte */
    size_t n = strlen(name);
    while (n > 1 && name[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && name[b - 1] != '/')
        b--;
    size_t cl = n - b;
    const char *c = name + b;
    if (cl == 0 || (cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.'))
        return false;
    for (size_t i = cl; i > 1; i--)
        if (c[i - 1] == '.')
            return true;
    return false;
}

static PdStr check_str(PdStr s, const char *what)
{
    if (!s.data && s.len) {
        logmsg("ERROR", "plugin \"%s\": %s() returned a PdStr with NULL data and len %zu",
               opt.plugin, what, s.len);
        exit(EX_INTERNAL);
    }
    return s;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *dup_bytes(const char *s, size_t *len)
{
    *len = strlen(s);
    if (*len == 0)
        return NULL; /* PgDog's PdStr::from(""): data NULL, len 0 */
    uint8_t *p = malloc(*len);
    if (!p)
        abort();
    memcpy(p, s, *len);
    return p;
}

static void load_plugin(void)
{
    double t0 = now_sec();
    const char *name = opt.plugin;
    if (has_extension(name)) {
        lib_path = strdup(name);
    } else {
        lib_path = malloc(strlen(name) + 7);
        sprintf(lib_path, "lib%s.so", name);
    }
    void *h = dlopen(lib_path, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        logmsg("ERROR", "plugin \"%s\" failed to load: %s", name, e ? e : "?");
        exit(EX_DLOPEN);
    }
    dlerror();
    const PdVtable *v = dlsym(h, "PGDOG_PLUGIN_VTABLE");
    if (!v) {
        logmsg("WARN", "skipping plugin \"%s\" because its vtable could not be loaded", name);
        exit(EX_VTABLE);
    }
    const char *nullf = !v->pgdog_plugin_api_version ? "pgdog_plugin_api_version"
                        : !v->rustc_version ? "rustc_version"
                        : !v->plugin_version ? "plugin_version"
                        : !v->init ? "init" : !v->fini ? "fini" : !v->config ? "config"
                        : !v->route ? "route" : !v->logging_init ? "logging_init" : NULL;
    if (nullf) {
        logmsg("WARN", "skipping plugin \"%s\" because its vtable could not be loaded "
               "(NULL function pointer %s)", name, nullf);
        exit(EX_VTABLE);
    }
    got_api = check_str(v->pgdog_plugin_api_version(), "pgdog_plugin_api_version");
    uint64_t ma, mi, hma, hmi;
    bool ok_a = semver_parse(got_api.data, got_api.len, &ma, &mi);
    bool ok_h = semver_parse((const uint8_t *)HOST_API_VERSION, strlen(HOST_API_VERSION), &hma, &hmi);
    if (!ok_a || !ok_h) {
        fprintf(stderr, "pgdog-host: WARN: failed to parse plugin API version(s) ('");
        put_str(stderr, got_api);
        fprintf(stderr, "' or '%s'), skipping plugin\n", HOST_API_VERSION);
    }
    if (!ok_a || !ok_h || ma != hma || mi != hmi) {
        fprintf(stderr, "pgdog-host: WARN: skipping plugin \"%s\" because it was compiled with "
                "different plugin API version (", name);
        put_str(stderr, got_api);
        fprintf(stderr, ")\n");
        exit(EX_API);
    }
    got_rustc = check_str(v->rustc_version(), "rustc_version");
    if (got_rustc.len != strlen(HOST_RUSTC_VERSION) ||
        (got_rustc.len && memcmp(got_rustc.data, HOST_RUSTC_VERSION, got_rustc.len) != 0)) {
        fprintf(stderr, "pgdog-host: WARN: skipping plugin \"%s\" because it was compiled with "
                "different compiler version (", name);
        put_str(stderr, got_rustc);
        fprintf(stderr, ")\n");
        exit(EX_RUSTC);
    }

    size_t ll, cl;
    uint8_t *lvl = dup_bytes(opt.log_level, &ll);
    uint8_t *cfgp = dup_bytes(opt.config, &cl);
    PdConfig cfg = { { lvl, ll }, opt.log_json, { cfgp, cl } };
    v->logging_init(cfg);
    v->init();
    logmsg("INFO", "plugin \"%s\" initialized", name);
    bool ok = v->config(cfg);
    /* PgDog frees the Config strings after loading; make a plugin that kept
     * the pointers see garbage. */
    if (lvl) { memset(lvl, 0xdd, ll); free(lvl); }
    if (cfgp) { memset(cfgp, 0xdd, cl); free(cfgp); }
    if (!ok) {
        logmsg("WARN", "plugin %s failed to load its configuration, skipping", name);
        exit(EX_CONFIG);
    }
    got_pv = check_str(v->plugin_version(), "plugin_version");
    fprintf(stderr, "pgdog-host: INFO: loaded \"%s\" plugin (v", name);
    put_str(stderr, got_pv);
    fprintf(stderr, ") [%.4fms]\n", (now_sec() - t0) * 1000.0);
    vt = v;
}

static void print_versions(FILE *f, const char *prefix)
{
    fprintf(f, "%splugin=%s path=%s api_version=", prefix, opt.plugin, lib_path);
    put_str(f, got_api);
    fputs(" rustc_version=", f);
    put_str(f, got_rustc);
    fputs(" plugin_version=", f);
    put_str(f, got_pv);
    fputc('\n', f);
    fflush(f);
}

/* ---- cases --------------------------------------------------------------- */

typedef struct {
    char *id;
    uint64_t shards;
    bool w, t, r, p; /* r, p: has_replicas, has_primary as passed to route */
    char kind;       /* 'q' simple Query, 'b' Bind, 'd' Parse/Describe without Bind */
    char *sql;
    int32_t *codes; size_t ncodes;
    PdParameter *params; size_t nparams;
    const PdList *list;
    char *parse_error;
    const char *nocall; /* why PgDog would not call the plugin, or NULL */
    void *ctx;
    PdRoute want;
} Case;

static Case *cases;
static size_t ncases;
static const PdList static_empty_list = { 1 /* T_List */, 0, 0, (void **)0x8 };

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void case_error(size_t line, const char *msg)
{
    logmsg("ERROR", "%s:%zu: %s", opt.casefile, line, msg);
    exit(EX_CASES);
}

static uint8_t *unhex(const char *s, size_t n, size_t *out, size_t line)
{
    if (n % 2)
        case_error(line, "odd number of hex digits");
    uint8_t *b = malloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
        if (h < 0 || l < 0)
            case_error(line, "bad hex digit");
        b[i] = (uint8_t)(h * 16 + l);
    }
    b[n / 2] = 0;
    *out = n / 2;
    return b;
}

static void read_cases(void)
{
    FILE *f = fopen(opt.casefile, "rb");
    if (!f) {
        logmsg("ERROR", "%s: %s", opt.casefile, strerror(errno));
        exit(EX_CASES);
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, cases_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        if (len > 0 && line[len - 1] == '\r') line[--len] = 0;
        if (len == 0 || line[0] == '#')
            continue;
        if (memchr(line, 0, (size_t)len))
            case_error(lineno, "NUL byte in line");
        /* split on TAB */
        size_t nf = 1;
        for (ssize_t i = 0; i < len; i++)
            if (line[i] == '\t') nf++;
        char **fld = malloc(nf * sizeof *fld);
        size_t *fl = malloc(nf * sizeof *fl);
        {
            size_t k = 0;
            char *s = line;
            for (;;) {
                char *tab = strchr(s, '\t');
                fld[k] = s;
                fl[k] = tab ? (size_t)(tab - s) : strlen(s);
                k++;
                if (!tab) break;
                *tab = 0;
                s = tab + 1;
            }
        }
        if (nf < 5)
            case_error(lineno, "need at least 5 TAB-separated fields");
        Case c;
        memset(&c, 0, sizeof c);
        if (fl[0] == 0)
            case_error(lineno, "empty id");
        c.id = strdup(fld[0]);
        {
            char *end;
            if (fl[1] == 0 || fld[1][0] < '0' || fld[1][0] > '9')
                case_error(lineno, "bad shards");
            errno = 0;
            unsigned long long v = strtoull(fld[1], &end, 10);
            if (errno || *end)
                case_error(lineno, "bad shards");
            c.shards = v;
        }
        if (strcmp(fld[2], "-") != 0) {
            bool up = false, ur = false;
            if (fl[2] == 0)
                case_error(lineno, "empty flags (use -)");
            for (const char *q = fld[2]; *q; q++) {
                switch (*q) {
                case 'w': c.w = true; break;
                case 't': c.t = true; break;
                case 'r': c.r = true; break;
                case 'p': c.p = true; break;
                case 'P': up = true; break;
                case 'R': ur = true; break;
                case 'q': case 'b': case 'd':
                    if (c.kind && c.kind != *q)
                        case_error(lineno, "more than one message kind (q b d)");
                    c.kind = *q;
                    break;
                default: case_error(lineno, "unknown flag letter (w t q b d P R r p)");
                }
            }
            if ((up || ur) && (c.r || c.p))
                case_error(lineno, "flags: cluster shape P R and raw arguments r p do not mix");
            if (up || ur) {
                /* PgDog: has_replicas = !read_only (a primary), has_primary = !write_only (replicas) */
                c.r = up;
                c.p = ur;
            }
        }
        if (!c.kind)
            c.kind = 'b';
        size_t sqllen;
        c.sql = (char *)unhex(fld[3], fl[3], &sqllen, lineno);
        if (strlen(c.sql) != sqllen)
            case_error(lineno, "NUL byte in SQL");
        if (strcmp(fld[4], "-") != 0) {
            if (fl[4] == 0)
                case_error(lineno, "empty format codes (use -)");
            size_t n = 1;
            for (const char *q = fld[4]; *q; q++)
                if (*q == ',') n++;
            c.codes = malloc(n * sizeof *c.codes);
            c.ncodes = n;
            const char *q = fld[4];
            for (size_t k = 0; k < n; k++) {
                const char *e = strchr(q, ',');
                size_t l = e ? (size_t)(e - q) : strlen(q);
                char tmp[32];
                if (l == 0 || l >= sizeof tmp)
                    case_error(lineno, "bad format code");
                memcpy(tmp, q, l);
                tmp[l] = 0;
                const char *t = tmp[0] == '-' ? tmp + 1 : tmp;
                if (!*t)
                    case_error(lineno, "bad format code");
                for (const char *d = t; *d; d++)
                    if (*d < '0' || *d > '9')
                        case_error(lineno, "bad format code");
                errno = 0;
                long long v = strtoll(tmp, NULL, 10);
                if (errno || v < INT32_MIN || v > INT32_MAX)
                    case_error(lineno, "format code out of range");
                c.codes[k] = (int32_t)v;
                q = e ? e + 1 : q + l;
            }
        }
        c.nparams = nf - 5;
        if (c.nparams) {
            c.params = malloc(c.nparams * sizeof *c.params);
            for (size_t k = 0; k < c.nparams; k++) {
                const char *s = fld[5 + k];
                size_t l = fl[5 + k];
                if (l == 1 && s[0] == '~') {
                    c.params[k].len = SIZE_MAX;
                    c.params[k].data = NULL;
                } else if (l == 0) {
                    /* PgDog: Parameter::from(Some(&[])), data = first byte: NULL */
                    c.params[k].len = 0;
                    c.params[k].data = NULL;
                } else {
                    size_t bl;
                    c.params[k].data = unhex(s, l, &bl, lineno);
                    c.params[k].len = bl;
                }
            }
        }
        if (c.kind == 'q' && (c.nparams || c.ncodes))
            case_error(lineno, "a simple Query (q) has no parameters or format codes");
        free(fld);
        free(fl);
        if (ncases == cases_cap) {
            cases_cap = cases_cap ? cases_cap * 2 : 16;
            cases = realloc(cases, cases_cap * sizeof *cases);
        }
        cases[ncases++] = c;
    }
    free(line);
    fclose(f);
}

/* Parses the case's SQL and decides, as PgDog v0.1.54 with its default
 * settings would, whether the plugin is called (host.rs prepare_case). */
static void prepare_case(Case *c)
{
    bool one_shard_no_router = c->shards == 1 && (!c->r || !c->p);
    if (one_shard_no_router && !vh_regex_parser_match(c->sql)) {
        c->nocall = !c->r ? "PgDog does not parse for a one-shard cluster without a primary"
                          : "PgDog does not parse for a one-shard cluster without replicas";
        return;
    }
    char *err = NULL;
    const PdList *l = vh_parse(c->sql, &err, &c->ctx);
    if (err) {
        c->parse_error = err;
        for (char *q = c->parse_error; *q; q++)
            if (*q == '\t' || *q == '\n' || *q == '\r') *q = ' ';
        return;
    }
    c->list = l ? l : &static_empty_list;
    if (c->kind == 'd') {
        c->nocall = "PgDog does not call plugins for a Parse or Describe without Bind";
        return;
    }
    c->nocall = vh_nocall_reason(c->list);
}

static void parse_cases(void)
{
    int bad = vh_layout_check();
    if (bad) {
        logmsg("ERROR", "libpg_query headers do not have the PG18 layout (0x%x)", bad);
        exit(EX_INTERNAL);
    }
    for (size_t i = 0; i < ncases; i++)
        prepare_case(&cases[i]);
}

static PdRoute route_case(const Case *c)
{
    PdRawParameters rp = {
        c->nparams ? c->params : NULL, c->nparams,
        c->ncodes ? c->codes : NULL, c->ncodes
    };
    return vt->route(c->shards, c->r, c->p, c->t, c->w, c->list, rp);
}

static bool same_route(PdRoute a, PdRoute b)
{
    return a.shard == b.shard && a.read_write == b.read_write;
}

static void baseline(bool print)
{
    for (size_t i = 0; i < ncases; i++) {
        Case *c = &cases[i];
        if (c->parse_error) {
            if (print) printf("%s\tPARSE_ERROR\t%s\n", c->id, c->parse_error);
            continue;
        }
        if (c->nocall) {
            if (print) printf("%s\tNOCALL\t%s\n", c->id, c->nocall);
            continue;
        }
        c->want = route_case(c);
        if (!print)
            continue;
        printf("%s\t%" PRId64 "\t%u", c->id, c->want.shard, (unsigned)c->want.read_write);
        if (c->want.shard == -3) {
            /* what the client sees: 42601, the message, the SQL as detail */
            printf("\t42601 query is blocked by plugin \"%s\"\t", opt.plugin);
            for (const char *q = c->sql; *q; q++) {
                switch (*q) {
                case '\t': fputs("\\t", stdout); break;
                case '\n': fputs("\\n", stdout); break;
                case '\r': fputs("\\r", stdout); break;
                case '\\': fputs("\\\\", stdout); break;
                default: putchar(*q);
                }
            }
        }
        putchar('\n');
    }
    fflush(stdout);
}

static size_t routable(void)
{
    size_t n = 0;
    for (size_t i = 0; i < ncases; i++)
        if (!cases[i].parse_error && !cases[i].nocall) n++;
    return n;
}

/* ---- worker threads ----------------------------------------------------- */

typedef struct {
    int idx;
    pthread_t th;
    _Atomic long tid;
    atomic_int inside;
    unsigned long routes, mismatches;
    double elapsed;
} Worker;

static atomic_int stop_flag;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *cur_mode;

static void report_mismatch(Worker *w, long rep, const Case *c, PdRoute got)
{
    if (w->mismatches > 20)
        return;
    pthread_mutex_lock(&out_mu);
    fprintf(stderr, "MISMATCH\tthread=%d\trep=%ld\t%s\tgot=%" PRId64 ",%u\twant=%" PRId64 ",%u\n",
            w->idx, rep, c->id, got.shard, (unsigned)got.read_write, c->want.shard,
            (unsigned)c->want.read_write);
    pthread_mutex_unlock(&out_mu);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    int me = register_thread();
    atomic_store(&w->tid, gettid_sys());
    double t0 = now_sec();
    if (strcmp(cur_mode, "route") == 0) {
        for (long rep = 0; rep < opt.repeat; rep++)
            for (size_t i = 0; i < ncases; i++) {
                const Case *c = &cases[i];
                if (c->parse_error || c->nocall) continue;
                PdRoute r = route_case(c);
                w->routes++;
                if (!same_route(r, c->want)) { w->mismatches++; report_mismatch(w, rep, c, r); }
            }
    } else {
        bool load = strcmp(cur_mode, "load") == 0;
        double deadline = t0 + opt.seconds;
        unsigned long k = 0;
        long rep = 0;
        while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
            for (size_t i = 0; i < ncases; i++) {
                const Case *c = &cases[i];
                if (c->parse_error || c->nocall) continue;
                atomic_store_explicit(&w->inside, 1, memory_order_relaxed);
                PdRoute r = route_case(c);
                atomic_store_explicit(&w->inside, 0, memory_order_relaxed);
                w->routes++;
                if (!same_route(r, c->want)) { w->mismatches++; report_mismatch(w, rep, c, r); }
                if (load && (++k & 63) == 0 && now_sec() >= deadline)
                    atomic_store(&stop_flag, 1);
            }
            rep++;
            if (load && now_sec() >= deadline)
                atomic_store(&stop_flag, 1);
        }
    }
    w->elapsed = now_sec() - t0;
    unregister_thread(me);
    return NULL;
}

static Worker *start_workers(long n)
{
    Worker *ws = calloc((size_t)n, sizeof *ws);
    for (long i = 0; i < n; i++) {
        ws[i].idx = (int)i;
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
            logmsg("ERROR", "pthread_create failed");
            exit(EX_INTERNAL);
        }
    }
    return ws;
}

static void join_workers(Worker *ws, long n, unsigned long *routes, unsigned long *mism)
{
    *routes = *mism = 0;
    for (long i = 0; i < n; i++) {
        pthread_join(ws[i].th, NULL);
        *routes += ws[i].routes;
        *mism += ws[i].mismatches;
    }
}

/* ---- storm ------------------------------------------------------------------ */

static Worker *storm_ws;
static unsigned long sent_proc, sent_thr;

static void *storm_main(void *arg)
{
    (void)arg;
    int me = register_thread();
    pid_t pid = getpid();
    /* PgDog installs its handlers at startup, before it serves; signals come
     * while it serves. vecshard adds SA_ONSTACK to new handlers within 10 ms,
     * so the storm starts 100 ms after the handlers are installed. */
    struct timespec settle = { 0, 100 * 1000000L };
    nanosleep(&settle, NULL);
    double deadline = now_sec() + opt.seconds;
    struct timespec pause = { 0, opt.storm_us * 1000L };
    unsigned long i = 0;
    while (now_sec() < deadline) {
        kill(pid, SIGHUP);
        sent_proc++;
        Worker *w = &storm_ws[i % (unsigned long)opt.threads];
        long tid = atomic_load(&w->tid);
        if (tid) {
            for (int spin = 0; spin < 2000 && !atomic_load_explicit(&w->inside, memory_order_relaxed); spin++)
                ;
            if (atomic_load_explicit(&w->inside, memory_order_relaxed)) {
                syscall(SYS_tgkill, pid, tid, SIGHUP);
                sent_thr++;
            }
        }
        if (i % 200 == 100) { kill(pid, SIGINT); sent_proc++; }
        if (i % 200 == 199) { kill(pid, SIGTERM); sent_proc++; }
        i++;
        if (opt.storm_us)
            nanosleep(&pause, NULL);
    }
    unregister_thread(me);
    return NULL;
}

/* ---- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int me = register_thread();
    parse_args(argc, argv);
    cur_mode = opt.mode;
    bool check = strcmp(opt.mode, "check") == 0;
    if (!check) {
        read_cases();
        parse_cases();
    }
    load_plugin();
    print_versions(stderr, "pgdog-host: INFO: versions: ");
    if (check) {
        print_versions(stdout, "check: ");
        vt->fini();
        return EX_OK;
    }
    install_handlers();
    int rc = EX_OK;
    unsigned long routes = 0, mism = 0;
    if (strcmp(opt.mode, "route") == 0) {
        baseline(true);
        routes = routable();
        if (opt.threads > 0) {
            unsigned long r2, m2;
            Worker *ws = start_workers(opt.threads);
            join_workers(ws, opt.threads, &r2, &m2);
            fprintf(stderr, "route: threads=%ld repeat=%ld routes=%lu mismatches=%lu\n",
                    opt.threads, opt.repeat, r2, m2);
            routes += r2;
            mism = m2;
            free(ws);
        }
    } else if (strcmp(opt.mode, "load") == 0) {
        baseline(false);
        if (!routable()) { logmsg("ERROR", "no routable case"); return EX_CASES; }
        double t0 = now_sec();
        Worker *ws = start_workers(opt.threads);
        join_workers(ws, opt.threads, &routes, &mism);
        double el = now_sec() - t0;
        for (long i = 0; i < opt.threads; i++)
            printf("load: thread=%ld calls=%lu calls_per_sec=%.0f\n", i, ws[i].routes,
                   ws[i].elapsed > 0 ? (double)ws[i].routes / ws[i].elapsed : 0.0);
        printf("load: threads=%ld seconds=%.1f calls=%lu calls_per_sec=%.0f mismatches=%lu\n",
               opt.threads, el, routes, el > 0 ? (double)routes / el : 0.0, mism);
        fflush(stdout);
        free(ws);
    } else { /* signals */
        baseline(false);
        if (!routable()) { logmsg("ERROR", "no routable case"); return EX_CASES; }
        storm_ws = start_workers(opt.threads);
        pthread_t st;
        if (pthread_create(&st, NULL, storm_main, NULL) != 0) {
            logmsg("ERROR", "pthread_create failed");
            return EX_INTERNAL;
        }
        pthread_join(st, NULL);
        atomic_store(&stop_flag, 1);
        join_workers(storm_ws, opt.threads, &routes, &mism);
        free(storm_ws);
    }
    struct timespec settle = { 0, 50 * 1000000L };
    nanosleep(&settle, NULL);
    vt->fini();
    stop_drainer();
    bool sig = strcmp(opt.mode, "signals") == 0;
    print_signal_counts(sig ? stdout : stderr, routes, mism, sent_proc, sent_thr);
    if (mism || atomic_load(&c_foreign))
        rc = EX_FAIL;
    for (size_t i = 0; i < ncases; i++)
        vh_free(cases[i].ctx);
    unregister_thread(me);
    return rc;
}

/*
 * vecshard-host: loads a PgDog C-ABI plugin the way PgDog (January 2025)
 * does and drives it from a script, from many threads, or in a load loop.
 *
 * Build (the Makefile's rules):
 *   go build -buildmode=c-shared -o build/libvecshard_c2025.so ./plugin/c2025
 *   gcc -O2 -Wall -Wextra -pthread -o build/vecshard-host plugin/hosttest/host.c -ldl
 * (plain C99: -std=c99 -pedantic compiles it too; the header is found by
 * its path relative to this file, so no -I is needed).
 *
 * Usage:
 *   GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 \
 *   VECSHARD_CONFIG=vecshard.toml vecshard-host [options] LIBRARY SCRIPT
 * The plugin reads its config from VECSHARD_CONFIG. The tunable is needed by
 * any process that dlopens libvecshard.so, PgDog included: the library's TLS
 * (mostly pg_query's parser state) must go in glibc's static TLS surplus,
 * whose default is too small ("cannot allocate memory in static TLS block").
 *
 * Script format: one statement per line, four TAB-separated fields
 *   shards <TAB> query <TAB> params <TAB> expect
 * Blank lines and lines starting with '#' are skipped.
 *   query   the SQL text, taken literally (no TAB or newline in it). A query of
 *           the form "@copydata <data>" sends a COPY_INPUT message instead,
 *           with "\n", "\t" and "\\" escapes in <data>.
 *   params  "-" for none, else items separated by '|':
 *             t:<text>   text format, bytes taken literally ('|' cannot appear)
 *             tx:<hex>   text format, bytes given in hex
 *             x:<hex>    binary format, bytes given in hex
 *             null       SQL NULL (len 0, data NULL; format text)
 *             xnull      SQL NULL with format binary
 *   expect  "shard=N read|write", "all read|write", "none", "error CODE",
 *           "error" (any code), or "*" (anything).
 *
 * Modes:
 *   (default)       run the script once, print "ok"/"MISMATCH" per statement,
 *                   then a summary with the count per shard; exit 1 on any
 *                   mismatch.
 *   --threads N --repeat M
 *                   after the single-threaded pass, N threads run the whole
 *                   script M times each; every decision must equal the
 *                   single-threaded one.
 *   --load --threads 1,2 --seconds S [--line K]
 *                   calls statement K (default 1) in a loop: calls/s, ns/call,
 *                   p50 and p99 latency per thread count.
 *   --touch FILE --every-ms MS [--touch-bad]
 *                   while threads run, rewrite FILE (write a temporary file,
 *                   rename it over FILE) every MS ms; with --touch-bad every
 *                   other rewrite is an invalid TOML file. FILE is restored
 *                   at the end. With --touch-min K the threads keep running
 *                   whole passes of the script until K rewrites are done.
 *   --quiet         print mismatches and the summary only.
 *   --show-query    print each statement (its first 70 bytes) with its decision.
 *   --no-init / --no-fini   skip pgdog_init / pgdog_fini (for tests).
 *   --leak-test     leak 64 malloc'd bytes on purpose, to prove that a
 *                   valgrind run (and its suppressions) would catch a leak.
 *
 * Ownership follows the ABI: the host frees Route.order_by when
 * num_order_by > 0, a COPY's table_name and columns, a COPY_ROWS' rows and
 * header, all with free(3); it never frees ERROR strings.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../include/vecshard_pgdog.h"

typedef void (*init_fn)(void);
typedef Output (*route_fn)(Input);
typedef void (*fini_fn)(void);

static route_fn plugin_route;

/* ---------- the script ---------- */

typedef struct Stmt {
    int lineno;
    int shards;
    char *query;         /* NUL-terminated */
    int copydata;        /* 1: send query bytes as COPY_INPUT */
    int copylen;
    int nparams;
    Parameter *params;
    char *expect;
    Output baseline;     /* the single-threaded answer */
} Stmt;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "vecshard-host: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("%s", "out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = xmalloc(strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* hexdecode decodes n hex digits of s into a new buffer; -1 on bad input. */
static int hexdecode(const char *s, size_t n, char **out)
{
    if (n % 2 != 0)
        return -1;
    char *buf = xmalloc(n / 2);
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) {
            free(buf);
            return -1;
        }
        buf[i / 2] = (char)(hi << 4 | lo);
    }
    *out = buf;
    return (int)(n / 2);
}

/* parse_param fills p from one params item of length n. */
static int parse_param(const char *s, size_t n, Parameter *p)
{
    char *data = NULL;
    int len;
    memset(p, 0, sizeof *p);
    if (n == 4 && memcmp(s, "null", 4) == 0)
        return 0;
    if (n == 5 && memcmp(s, "xnull", 5) == 0) {
        p->format = 1;
        return 0;
    }
    if (n >= 2 && memcmp(s, "t:", 2) == 0) {
        len = (int)(n - 2);
        data = xmalloc((size_t)len);
        memcpy(data, s + 2, (size_t)len);
        p->format = 0;
    } else if (n >= 3 && memcmp(s, "tx:", 3) == 0) {
        if ((len = hexdecode(s + 3, n - 3, &data)) < 0)
            return -1;
        p->format = 0;
    } else if (n >= 2 && memcmp(s, "x:", 2) == 0) {
        if ((len = hexdecode(s + 2, n - 2, &data)) < 0)
            return -1;
        p->format = 1;
    } else {
        return -1;
    }
    if (len == 0) { /* an empty value is indistinguishable from NULL */
        free(data);
        data = NULL;
    }
    p->len = len;
    p->data = data;
    return 0;
}

static void unescape(char *s, int *len)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    *len = (int)(w - s);
}

/* parse_line parses one script line into st; returns 0, or -1 with a reason. */
static int parse_line(char *line, Stmt *st, const char **why)
{
    char *field[4];
    int nf = 0;
    char *s = line;
    for (;;) {
        field[nf++] = s;
        char *tab = strchr(s, '\t');
        if (tab == NULL || nf == 4)
            break;
        *tab = '\0';
        s = tab + 1;
    }
    if (nf != 4) {
        *why = "want 4 TAB-separated fields: shards, query, params, expect";
        return -1;
    }
    char *end;
    long shards = strtol(field[0], &end, 10);
    if (*field[0] == '\0' || *end != '\0' || shards < -1000000 || shards > 1000000) {
        *why = "shards is not an integer";
        return -1;
    }
    st->shards = (int)shards;
    if (strncmp(field[1], "@copydata ", 10) == 0) {
        st->copydata = 1;
        st->query = xstrdup(field[1] + 10);
        unescape(st->query, &st->copylen);
    } else {
        st->query = xstrdup(field[1]);
    }
    st->nparams = 0;
    st->params = NULL;
    if (strcmp(field[2], "-") != 0) {
        int n = 1;
        for (char *c = field[2]; *c; c++)
            n += *c == '|';
        st->params = xmalloc(sizeof(Parameter) * (size_t)n);
        char *item = field[2];
        for (;;) {
            char *bar = strchr(item, '|');
            size_t len = bar ? (size_t)(bar - item) : strlen(item);
            if (parse_param(item, len, &st->params[st->nparams]) != 0) {
                *why = "bad parameter (want t:<text>, tx:<hex>, x:<hex>, null or xnull)";
                return -1;
            }
            st->nparams++;
            if (bar == NULL)
                break;
            item = bar + 1;
        }
    }
    /* expect: trim trailing white space */
    size_t el = strlen(field[3]);
    while (el > 0 && (field[3][el - 1] == ' ' || field[3][el - 1] == '\r'))
        field[3][--el] = '\0';
    st->expect = xstrdup(field[3]);
    return 0;
}

static Stmt *read_script(const char *path, int *count)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("cannot open script %s", path);
    Stmt *v = NULL;
    int n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            Stmt *nv = realloc(v, sizeof(Stmt) * (size_t)cap);
            if (nv == NULL)
                die("%s", "out of memory");
            v = nv;
        }
        memset(&v[n], 0, sizeof v[n]);
        v[n].lineno = lineno;
        const char *why = NULL;
        if (parse_line(line, &v[n], &why) != 0) {
            fprintf(stderr, "vecshard-host: %s:%d: %s\n", path, lineno, why);
            exit(2);
        }
        n++;
    }
    free(line);
    fclose(f);
    *count = n;
    return v;
}

static void free_script(Stmt *v, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < v[i].nparams; j++)
            free((void *)v[i].params[j].data);
        free(v[i].params);
        free(v[i].query);
        free(v[i].expect);
    }
    free(v);
}

/* ---------- the host side of a call ---------- */

/* A Config per shard count, as PgDog builds it: each shard's primary and one
 * replica. Built once, before any thread starts, and read-only after. */
#define MAX_CONFIGS 16
static struct {
    int shards;
    Config config;
} configs[MAX_CONFIGS];
static int nconfigs;
static char cluster_name[] = "vecshard";

static Config *config_for(int shards)
{
    for (int i = 0; i < nconfigs; i++)
        if (configs[i].shards == shards)
            return &configs[i].config;
    if (nconfigs == MAX_CONFIGS)
        die("%s", "too many distinct shard counts in the script");
    int ndb = shards > 0 ? 2 * shards : 0;
    DatabaseConfig *dbs = xmalloc(sizeof(DatabaseConfig) * (size_t)(ndb ? ndb : 1));
    for (int s = 0; s < shards; s++) {
        for (int r = 0; r < 2; r++) {
            char host[64];
            snprintf(host, sizeof host, "shard%d-%s.db.internal", s, r ? "replica" : "primary");
            DatabaseConfig *d = &dbs[2 * s + r];
            d->shard = s;
            d->role = r ? REPLICA : PRIMARY;
            d->host = xstrdup(host);
            d->port = 5432 + r;
        }
    }
    Config *c = &configs[nconfigs].config;
    configs[nconfigs].shards = shards;
    c->num_databases = ndb;
    c->databases = dbs;
    c->name = cluster_name;
    c->shards = shards;
    nconfigs++;
    return c;
}

static void free_configs(void)
{
    for (int i = 0; i < nconfigs; i++) {
        for (int j = 0; j < configs[i].config.num_databases; j++)
            free(configs[i].config.databases[j].host);
        free(configs[i].config.databases);
    }
    nconfigs = 0;
}

static Input make_input(const Stmt *st)
{
    Input in;
    memset(&in, 0, sizeof in);
    in.config = *config_for(st->shards);
    if (st->copydata) {
        in.input_type = COPY_INPUT;
        in.input.copy.len = st->copylen;
        in.input.copy.data = st->query;
        in.input.copy.delimiter = ',';
        in.input.copy.has_headers = 0;
        in.input.copy.sharding_column = 0;
    } else {
        in.input_type = ROUTING_INPUT;
        in.input.query.len = (int)strlen(st->query);
        in.input.query.query = st->query;
        in.input.query.num_parameters = st->nparams;
        in.input.query.parameters = st->params;
    }
    return in;
}

/* release frees what the ABI says the host frees. */
static void release(Output *out)
{
    switch (out->decision) {
    case FORWARD:
        if (out->output.route.num_order_by > 0)
            free(out->output.route.order_by);
        break;
    case COPY:
        free(out->output.copy.table_name);
        for (int i = 0; i < out->output.copy.num_columns; i++)
            free(out->output.copy.columns[i]);
        free(out->output.copy.columns);
        break;
    case COPY_ROWS:
        free(out->output.copy_rows.rows);
        free(out->output.copy_rows.header);
        break;
    default:
        break;
    }
}

static Output call(const Stmt *st)
{
    return plugin_route(make_input(st));
}

static const char *str_or(const char *s) { return s ? s : "(null)"; }

/* format writes the decision as the script's expect syntax. */
static void format(const Output *o, char *buf, size_t n)
{
    const char *aff;
    switch (o->decision) {
    case FORWARD:
        aff = o->output.route.affinity == READ ? "read" : o->output.route.affinity == WRITE ? "write" : "unknown";
        if (o->output.route.shard >= 0)
            snprintf(buf, n, "shard=%d %s", o->output.route.shard, aff);
        else if (o->output.route.shard == ALL)
            snprintf(buf, n, "all %s", aff);
        else
            snprintf(buf, n, "forward shard=%d %s", o->output.route.shard, aff);
        break;
    case NO_DECISION:
        snprintf(buf, n, "none");
        break;
    case ERROR:
        snprintf(buf, n, "error %s", str_or(o->output.error.code));
        break;
    default:
        snprintf(buf, n, "decision=%d", (int)o->decision);
        break;
    }
}

static int streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* same reports whether two answers are the same decision. */
static int same(const Output *a, const Output *b)
{
    if (a->decision != b->decision)
        return 0;
    switch (a->decision) {
    case FORWARD:
        return a->output.route.shard == b->output.route.shard &&
               a->output.route.affinity == b->output.route.affinity &&
               a->output.route.num_order_by == b->output.route.num_order_by;
    case ERROR:
        return streq(a->output.error.severity, b->output.error.severity) &&
               streq(a->output.error.code, b->output.error.code) &&
               streq(a->output.error.message, b->output.error.message) &&
               streq(a->output.error.detail, b->output.error.detail);
    default:
        return 1;
    }
}

/* violation names the way o breaks what vecshard promises a host, or is NULL:
 * a FORWARD carries no ORDER BY list, an ERROR has all four strings (PgDog
 * reads them with CStr::from_ptr, so NULL would crash it) with severity
 * "ERROR" and a 5-character SQLSTATE, and only FORWARD, ERROR and
 * NO_DECISION are ever returned. */
static const char *violation(const Output *o)
{
    switch (o->decision) {
    case FORWARD:
        if (o->output.route.num_order_by != 0 || o->output.route.order_by != NULL)
            return "FORWARD with an ORDER BY list";
        if (o->output.route.affinity != READ && o->output.route.affinity != WRITE)
            return "FORWARD without READ or WRITE";
        if (o->output.route.shard < ALL)
            return "FORWARD to an invalid shard";
        return NULL;
    case ERROR:
        if (!o->output.error.severity || !o->output.error.code || !o->output.error.message ||
            !o->output.error.detail)
            return "ERROR with a NULL string";
        if (strcmp(o->output.error.severity, "ERROR") != 0)
            return "ERROR with severity other than ERROR";
        if (strlen(o->output.error.code) != 5)
            return "ERROR whose code is not a SQLSTATE";
        if (o->output.error.message[0] == '\0')
            return "ERROR without a message";
        return NULL;
    case NO_DECISION:
        return NULL;
    default:
        return "a decision vecshard never returns";
    }
}

static int matches(const char *expect, const char *got)
{
    if (strcmp(expect, "*") == 0)
        return 1;
    if (strcmp(expect, "error") == 0)
        return strncmp(got, "error ", 6) == 0;
    return strcmp(expect, got) == 0;
}

/* ---------- counters ---------- */

#define MAX_SHARDS 64
typedef struct Counts {
    long calls, mismatches, errors, none, all, other;
    long shard[MAX_SHARDS];
} Counts;

static void count(Counts *c, const Output *o)
{
    c->calls++;
    if (o->decision == ERROR)
        c->errors++;
    else if (o->decision == NO_DECISION)
        c->none++;
    else if (o->decision == FORWARD && o->output.route.shard == ALL)
        c->all++;
    else if (o->decision == FORWARD && o->output.route.shard >= 0 && o->output.route.shard < MAX_SHARDS)
        c->shard[o->output.route.shard]++;
    else
        c->other++;
}

static void add(Counts *dst, const Counts *src)
{
    dst->calls += src->calls;
    dst->mismatches += src->mismatches;
    dst->errors += src->errors;
    dst->none += src->none;
    dst->all += src->all;
    dst->other += src->other;
    for (int i = 0; i < MAX_SHARDS; i++)
        dst->shard[i] += src->shard[i];
}

static void print_counts(const char *label, const Counts *c)
{
    printf("%s: calls=%ld mismatches=%ld errors=%ld none=%ld all=%ld", label, c->calls, c->mismatches,
           c->errors, c->none, c->all);
    for (int i = 0; i < MAX_SHARDS; i++)
        if (c->shard[i])
            printf(" shard%d=%ld", i, c->shard[i]);
    if (c->other)
        printf(" other=%ld", c->other);
    printf("\n");
}

/* ---------- modes ---------- */

static Stmt *script;
static int nstmts;
static int repeat = 1;
static volatile int stop_flag;
static int show_query;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* run_script is the single-threaded pass: it records the baselines. */
static int run_script(int quiet)
{
    Counts c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < nstmts; i++) {
        Stmt *st = &script[i];
        Output o = call(st);
        char got[96];
        format(&o, got, sizeof got);
        const char *bad = violation(&o);
        int ok = matches(st->expect, got) && bad == NULL;
        count(&c, &o);
        if (!ok)
            c.mismatches++;
        if (!ok || !quiet) {
            if (ok)
                printf("ok       L%-4d %s", st->lineno, got);
            else
                printf("MISMATCH L%-4d got %s, want %s%s%s", st->lineno, got, st->expect, bad ? ": " : "",
                       bad ? bad : "");
            if (show_query)
                printf("  <- %.70s%s", st->query, strlen(st->query) > 70 ? "..." : "");
            if (o.decision == ERROR) {
                /* The detail only when there is one: no empty trailing part. */
                const char *detail = o.output.error.detail;
                printf("  [%s %s: %s%s%s]", str_or(o.output.error.severity), str_or(o.output.error.code),
                       str_or(o.output.error.message), detail && *detail ? " | " : "", detail && *detail ? detail : "");
            }
            printf("\n");
        }
        /* ERROR strings live forever, so the baseline may keep them; what
         * release frees it must not. */
        st->baseline = o;
        release(&o);
        if (o.decision != ERROR && o.decision != FORWARD)
            memset(&st->baseline.output, 0, sizeof st->baseline.output);
    }
    print_counts("script", &c);
    return c.mismatches == 0;
}

typedef struct Worker {
    pthread_t tid;
    int id;
    long passes;
    Counts c;
} Worker;

static const char *touch_path;
static int touch_every_ms = 50;
static int touch_bad;
static long touch_min;
static char *touch_content;
static size_t touch_len;
static long touches; /* written by the toucher, read by workers: __atomic */

static void *worker(void *arg)
{
    Worker *w = arg;
    for (int r = 0; r < repeat || (touch_path && __atomic_load_n(&touches, __ATOMIC_RELAXED) < touch_min); r++) {
        w->passes++;
        for (int k = 0; k < nstmts; k++) {
            Stmt *st = &script[(k + w->id) % nstmts];
            Output o = call(st);
            count(&w->c, &o);
            if (!same(&o, &st->baseline)) {
                if (w->c.mismatches++ < 5) {
                    char got[96], want[96];
                    format(&o, got, sizeof got);
                    format(&st->baseline, want, sizeof want);
                    fprintf(stderr, "thread %d: L%d: got %s, single-threaded %s\n", w->id, st->lineno, got, want);
                }
            }
            release(&o);
        }
    }
    return NULL;
}

/* ---------- config rewriting (reload under load) ---------- */

static void write_file(const char *path, const char *data, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("cannot write %s", tmp);
    if (rename(tmp, path) != 0)
        die("cannot rename onto %s", path);
}

static void *toucher(void *arg)
{
    (void)arg;
    static const char bad[] = "\n[[tables]\nthis is not toml = = =\n";
    char *badbuf = xmalloc(touch_len + sizeof bad);
    memcpy(badbuf, touch_content, touch_len);
    memcpy(badbuf + touch_len, bad, sizeof bad - 1);
    while (!stop_flag) {
        struct timespec ts = {touch_every_ms / 1000, (long)(touch_every_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (stop_flag)
            break;
        if (touch_bad && touches % 2 == 0)
            write_file(touch_path, badbuf, touch_len + sizeof bad - 1);
        else
            write_file(touch_path, touch_content, touch_len);
        __atomic_add_fetch(&touches, 1, __ATOMIC_RELAXED);
    }
    write_file(touch_path, touch_content, touch_len);
    free(badbuf);
    return NULL;
}

static void read_touch_file(void)
{
    FILE *f = fopen(touch_path, "rb");
    if (f == NULL)
        die("cannot open %s", touch_path);
    size_t cap = 4096;
    touch_content = xmalloc(cap);
    size_t n;
    while ((n = fread(touch_content + touch_len, 1, cap - touch_len, f)) > 0) {
        touch_len += n;
        if (touch_len == cap) {
            cap *= 2;
            char *p = realloc(touch_content, cap);
            if (p == NULL)
                die("%s", "out of memory");
            touch_content = p;
        }
    }
    fclose(f);
}

static int run_threads(int nthreads)
{
    Worker *ws = calloc((size_t)nthreads, sizeof(Worker));
    pthread_t touch_tid;
    if (ws == NULL)
        die("%s", "out of memory");
    stop_flag = 0;
    if (touch_path)
        pthread_create(&touch_tid, NULL, toucher, NULL);
    double t0 = now();
    for (int i = 0; i < nthreads; i++) {
        ws[i].id = i;
        if (pthread_create(&ws[i].tid, NULL, worker, &ws[i]) != 0)
            die("%s", "pthread_create failed");
    }
    Counts total;
    memset(&total, 0, sizeof total);
    for (int i = 0; i < nthreads; i++) {
        pthread_join(ws[i].tid, NULL);
        add(&total, &ws[i].c);
    }
    double dt = now() - t0;
    stop_flag = 1;
    if (touch_path)
        pthread_join(touch_tid, NULL);
    long want = 0;
    for (int i = 0; i < nthreads; i++)
        want += ws[i].passes * nstmts;
    if (want < (long)nthreads * repeat * nstmts)
        want = (long)nthreads * repeat * nstmts;
    char label[96];
    snprintf(label, sizeof label, "threads=%d repeat=%d", nthreads, repeat);
    print_counts(label, &total);
    printf("threads: expected_calls=%ld calls=%ld divergent=%ld seconds=%.3f", want, total.calls,
           total.mismatches, dt);
    if (touch_path)
        printf(" config_rewrites=%ld", touches);
    printf("\n");
    free(ws);
    return total.mismatches == 0 && total.calls == want;
}

/* ---------- load mode ---------- */

#define HIST_NS 200000 /* latency histogram: 1 ns buckets up to 200 us */

typedef struct LoadWorker {
    pthread_t tid;
    const Stmt *st;
    int timed;
    long calls, divergent;
    uint32_t *hist; /* HIST_NS + 1 buckets when timed */
} LoadWorker;

static void *load_worker(void *arg)
{
    LoadWorker *w = arg;
    const Stmt *st = w->st;
    while (!stop_flag) {
        for (int i = 0; i < 256; i++) {
            Output o;
            if (w->timed) {
                int64_t t0 = now_ns();
                o = call(st);
                int64_t d = now_ns() - t0;
                w->hist[d < HIST_NS ? d : HIST_NS]++;
            } else {
                o = call(st);
            }
            if (!same(&o, &st->baseline))
                w->divergent++;
            release(&o);
        }
        w->calls += 256;
    }
    return NULL;
}

static long percentile(const uint64_t *hist, long total, double p)
{
    long want = (long)((double)total * p);
    long acc = 0;
    for (long i = 0; i <= HIST_NS; i++) {
        acc += (long)hist[i];
        if (acc > want)
            return i;
    }
    return HIST_NS;
}

static int run_load(const char *thread_list, double seconds, int line)
{
    if (line < 1 || line > nstmts)
        die("%s", "--line out of range");
    const Stmt *st = &script[line - 1];
    char *list = xstrdup(thread_list);
    int ok = 1;
    char desc[96];
    format(&st->baseline, desc, sizeof desc);
    printf("load: L%d (%s): %.60s\n", st->lineno, desc, st->query);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok);
        if (n < 1)
            die("bad thread count %s", tok);
        LoadWorker *ws = calloc((size_t)n, sizeof(LoadWorker));
        uint64_t *hist = calloc(HIST_NS + 1, sizeof(uint64_t));
        if (ws == NULL || hist == NULL)
            die("%s", "out of memory");
        double rate = 0;
        long timed_calls = 0, divergent = 0;
        for (int timed = 0; timed < 2; timed++) {
            stop_flag = 0;
            double t0 = now();
            for (int i = 0; i < n; i++) {
                memset(&ws[i], 0, sizeof ws[i]);
                ws[i].st = st;
                ws[i].timed = timed;
                if (timed)
                    ws[i].hist = calloc(HIST_NS + 1, sizeof(uint32_t));
                pthread_create(&ws[i].tid, NULL, load_worker, &ws[i]);
            }
            struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
            nanosleep(&ts, NULL);
            stop_flag = 1;
            long calls = 0;
            for (int i = 0; i < n; i++) {
                pthread_join(ws[i].tid, NULL);
                calls += ws[i].calls;
                divergent += ws[i].divergent;
                if (timed) {
                    for (long b = 0; b <= HIST_NS; b++)
                        hist[b] += ws[i].hist[b];
                    free(ws[i].hist);
                }
            }
            double dt = now() - t0;
            if (!timed)
                rate = (double)calls / dt;
            else
                timed_calls = calls;
        }
        printf("load: threads=%d calls/s=%.0f ns/call/thread=%.1f p50=%ldns p99=%ldns divergent=%ld\n", n,
               rate, 1e9 * n / rate, percentile(hist, timed_calls, 0.50), percentile(hist, timed_calls, 0.99),
               divergent);
        if (divergent)
            ok = 0;
        free(hist);
        free(ws);
    }
    free(list);
    return ok;
}

/* ---------- main ---------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: vecshard-host [--quiet] [--threads N --repeat M]\n"
            "                     [--touch FILE --every-ms MS [--touch-bad] [--touch-min K]]\n"
            "                     [--load --threads 1,2 --seconds S [--line K]] [--no-init] [--no-fini] [--leak-test]\n"
            "                     [--show-query]\n"
            "                     LIBRARY SCRIPT\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *threads = NULL, *lib = NULL, *path = NULL;
    int quiet = 0, load = 0, line = 1, no_init = 0, no_fini = 0, leak_test = 0;
    double seconds = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), (char *)NULL))
        if (strcmp(a, "--threads") == 0)
            threads = NEXT();
        else if (strcmp(a, "--repeat") == 0)
            repeat = atoi(NEXT());
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(NEXT());
        else if (strcmp(a, "--line") == 0)
            line = atoi(NEXT());
        else if (strcmp(a, "--touch") == 0)
            touch_path = NEXT();
        else if (strcmp(a, "--every-ms") == 0)
            touch_every_ms = atoi(NEXT());
        else if (strcmp(a, "--touch-min") == 0)
            touch_min = atol(NEXT());
        else if (strcmp(a, "--touch-bad") == 0)
            touch_bad = 1;
        else if (strcmp(a, "--load") == 0)
            load = 1;
        else if (strcmp(a, "--quiet") == 0)
            quiet = 1;
        else if (strcmp(a, "--show-query") == 0)
            show_query = 1;
        else if (strcmp(a, "--no-init") == 0)
            no_init = 1;
        else if (strcmp(a, "--no-fini") == 0)
            no_fini = 1;
        else if (strcmp(a, "--leak-test") == 0)
            leak_test = 1;
        else if (a[0] == '-' && a[1] == '-')
            usage();
        else if (lib == NULL)
            lib = a;
        else if (path == NULL)
            path = a;
        else
            usage();
#undef NEXT
    }
    if (lib == NULL || path == NULL || repeat < 1 || seconds <= 0 || touch_every_ms < 1)
        usage();

    script = read_script(path, &nstmts);
    if (nstmts == 0)
        die("no statements in %s", path);
    for (int i = 0; i < nstmts; i++)
        config_for(script[i].shards); /* all configs exist before threads start */

    /* As PgDog: dlopen, then look the symbols up; route is required. */
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *err = dlerror();
        if (strstr(err, "static TLS") != NULL)
            fprintf(stderr, "vecshard-host: the plugin needs more static TLS than glibc reserves by default;\n"
                            "vecshard-host: run with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096\n");
        die("dlopen: %s", err);
    }
    init_fn init;
    fini_fn fini;
    /* POSIX's sanctioned way to turn dlsym's void * into a function pointer. */
    *(void **)&init = dlsym(h, "pgdog_init");
    *(void **)&fini = dlsym(h, "pgdog_fini");
    *(void **)&plugin_route = dlsym(h, "pgdog_route_query");
    if (plugin_route == NULL)
        die("plugin %s is missing required symbols (pgdog_route_query)", lib);
    if (init && !no_init)
        init();

    int ok = run_script(quiet || load);
    if (touch_path)
        read_touch_file();
    if (load) {
        ok = run_load(threads ? threads : "1", seconds, line) && ok;
    } else if (threads) {
        int n = atoi(threads);
        if (n < 1)
            usage();
        ok = run_threads(n) && ok;
    }

    if (fini && !no_fini)
        fini();
    /* Like PgDog, never dlclose a Go library: its runtime cannot unload. */
    free_script(script, nstmts);
    free_configs();
    free(touch_content);
    if (leak_test) {
        void *volatile lost = malloc(64);
        memset(lost, 1, 64);
        lost = NULL;
    }
    printf("result: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

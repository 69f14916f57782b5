/*
 * pgparse.c: the parse step of the vtable test hosts (host.rs, host.c).
 *
 * Parses SQL with PostgreSQL 18's grammar through libpg_query's raw parser
 * (the static libpg_query.a of Debian unstable's libpg-query-dev) and hands
 * back the raw List of RawStmt*, exactly what PgDog passes to route.
 *
 *   void *vh_parse(const char *sql, char **err, void **ctx);
 *       Returns the List* (NULL for an empty statement string). On a syntax
 *       error returns NULL and sets *err to a malloc'd message (the caller
 *       frees it with vh_free_error). *ctx always receives a memory context
 *       that owns the tree; keep it until the tree is no longer used, then
 *       vh_free(ctx). Call from one thread only (the hosts use the main
 *       thread); the trees may then be read from any thread.
 *   void vh_free(void *ctx);
 *   void vh_free_error(char *err);
 *   int  vh_layout_check(void);   0 when the PG18 layout the hosts and the
 *                                 stub assume holds for these headers.
 *
 * Build: gcc -O2 -c -I$DEPS/usr/include -I$DEPS/usr/include/pg_query \
 *            -I$DEPS/usr/include/pg_query/postgres pgparse.c
 * and link with $DEPS/usr/lib/x86_64-linux-gnu/libpg_query.a.
 */
#include "pg_query.h"
#include "pg_query_internal.h"
#include "nodes/parsenodes.h"

#include <stdlib.h>
#include <string.h>

/* libpg_query.a was built against glibc >= 2.38: strtoul calls were
 * redirected to __isoc23_strtoul (C23 accepts "0b" prefixes; the parser never
 * passes such input to it) and strlcpy became a libc function. glibc 2.36
 * has neither; provide them here. */
unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base);
unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base)
{
    return strtoul(nptr, endptr, base);
}

#ifndef VH_HAVE_STRLCPY
size_t strlcpy(char *dst, const char *src, size_t size);
size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size > 0) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}
#endif

void *vh_parse(const char *sql, char **err, void **ctx);
void vh_free(void *ctx);
void vh_free_error(char *err);
int vh_layout_check(void);

void *vh_parse(const char *sql, char **err, void **ctx)
{
    MemoryContext mc = pg_query_enter_memory_context();
    PgQueryInternalParsetreeAndError r = pg_query_raw_parse(sql, 0);
    void *tree = NULL;

    *err = NULL;
    if (r.error) {
        const char *m = r.error->message ? r.error->message : "syntax error";
        *err = strdup(m);
        pg_query_free_error(r.error);
    } else {
        tree = r.tree;
    }
    free(r.stderr_buffer);
    /* Leave the context alive (it owns the tree) but make the top context
     * current again, as pg_query_exit_memory_context would, so the next
     * vh_parse starts from the state pg_query_enter_memory_context expects. */
    MemoryContextSwitchTo(TopMemoryContext);
    *ctx = mc;
    return tree;
}

void vh_free(void *ctx)
{
    if (ctx)
        pg_query_exit_memory_context((MemoryContext)ctx);
}

void vh_free_error(char *err)
{
    free(err);
}

int vh_layout_check(void)
{
    int bad = 0;
    bad |= sizeof(List) != 24 || offsetof(List, length) != 4 ||
           offsetof(List, max_length) != 8 || offsetof(List, elements) != 16;
    bad |= (sizeof(RawStmt) != 24 || offsetof(RawStmt, stmt) != 8 ||
            offsetof(RawStmt, stmt_location) != 16 ||
            offsetof(RawStmt, stmt_len) != 20) << 1;
    bad |= (T_List != 1 || T_RawStmt != 136 || T_SelectStmt != 141) << 2;
    return bad;
}

/*
 * pgparse.c: the parse step of the vtable test host (host.rs).
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
 *   const char *vh_nocall_reason(const void *stmts);
 *       NULL when PgDog v0.1.54 calls the plugins for this parse (a simple
 *       Query, or a Bind), else why it does not (a static string, no TAB or
 *       newline). PgDog's QueryParser::query (router/parser/query/mod.rs)
 *       decides by the node type of the FIRST statement, after
 *       try_multi_set (query/set.rs) for strings of several statements.
 *   int  vh_regex_parser_match(const char *sql);
 *       1 when PgDog's regex_parser (frontend/regex_parser.rs, level auto)
 *       turns the parser on for a cluster that does not need the router:
 *       the text, after whitespace and -- or block comments, begins with
 *       SET, RESET, BEGIN, COMMIT, ROLLBACK, LISTEN, UNLISTEN or NOTIFY in
 *       any case.
 *
 * Build: gcc -O2 -c -I$DEPS/usr/include -I$DEPS/usr/include/pg_query \
 *            -I$DEPS/usr/include/pg_query/postgres pgparse.c
 * and link with $DEPS/usr/lib/$(gcc -print-multiarch)/libpg_query.a.
 */
#include "pg_query.h"
#include "pg_query_internal.h"
#include "nodes/parsenodes.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
const char *vh_nocall_reason(const void *stmts);
int vh_regex_parser_match(const char *sql);

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

/* The String node's value when n is a String, else NULL. */
static const char *str_of(const Node *n)
{
    return n && IsA(n, String) ? strVal(n) : NULL;
}

/* PgDog's extract_set_config: the target list is exactly one FuncCall whose
 * String name parts are set_config or pg_catalog.set_config. */
static int is_set_config(const SelectStmt *s)
{
    const ResTarget *rt;
    const FuncCall *f;
    const char *parts[3];
    int n = 0;
    ListCell *lc;

    if (list_length(s->targetList) != 1)
        return 0;
    rt = (const ResTarget *)linitial(s->targetList);
    if (!rt || !IsA(rt, ResTarget) || !rt->val || !IsA(rt->val, FuncCall))
        return 0;
    f = (const FuncCall *)rt->val;
    foreach (lc, f->funcname) {
        const char *p = str_of((const Node *)lfirst(lc));
        if (!p)
            continue; /* filter_map(Node::as_str) */
        if (n == 2)
            return 0;
        parts[n++] = p;
    }
    if (n == 1)
        return strcmp(parts[0], "set_config") == 0;
    if (n == 2)
        return strcmp(parts[0], "pg_catalog") == 0 && strcmp(parts[1], "set_config") == 0;
    return 0;
}

const char *vh_nocall_reason(const void *stmts)
{
    const List *l = (const List *)stmts;
    const Node *first;
    ListCell *lc;

    if (l == NULL || list_length(l) == 0)
        return "PgDog answers an empty query itself";
    /* try_multi_set (transaction pooling mode, PgDog's default): SETs other
     * than SET TRANSACTION/SESSION CHARACTERISTICS among other statements
     * are an error; only SETs are PgDog's SET. */
    if (list_length(l) > 1) {
        int sets = 0, other = 0;
        foreach (lc, l) {
            const Node *n = ((const RawStmt *)lfirst(lc))->stmt;
            if (n && IsA(n, VariableSetStmt) && ((const VariableSetStmt *)n)->kind != VAR_SET_MULTI)
                sets++;
            else
                other++;
        }
        if (sets > 0 && other > 0)
            return "PgDog rejects SET mixed with other statements in one query string";
        if (sets > 0)
            return "PgDog routes SET itself";
    }
    first = ((const RawStmt *)linitial(l))->stmt;
    if (!first)
        return NULL;
    switch (nodeTag(first)) {
    case T_VariableSetStmt:
        return ((const VariableSetStmt *)first)->kind == VAR_RESET ||
                       ((const VariableSetStmt *)first)->kind == VAR_RESET_ALL
                   ? "PgDog routes RESET itself"
                   : "PgDog routes SET itself";
    case T_SelectStmt:
        return is_set_config((const SelectStmt *)first) ? "PgDog routes set_config itself" : NULL;
    case T_VariableShowStmt:
        return "PgDog routes SHOW itself";
    case T_DeallocateStmt:
        return "PgDog handles DEALLOCATE itself";
    case T_ListenStmt:
        return "PgDog routes LISTEN itself";
    case T_NotifyStmt:
        return "PgDog routes NOTIFY itself";
    case T_UnlistenStmt:
        return "PgDog handles UNLISTEN itself";
    case T_DiscardStmt:
        return "PgDog handles DISCARD itself";
    case T_TransactionStmt:
        switch (((const TransactionStmt *)first)->kind) {
        case TRANS_STMT_BEGIN:
            return "PgDog handles BEGIN itself";
        case TRANS_STMT_START:
            return "PgDog handles START TRANSACTION (BEGIN) itself";
        case TRANS_STMT_COMMIT:
            return "PgDog handles COMMIT (also END) itself";
        case TRANS_STMT_ROLLBACK:
            return "PgDog handles ROLLBACK (also ABORT) itself";
        default:
            /* SAVEPOINT, RELEASE, ROLLBACK TO, PREPARE TRANSACTION, COMMIT/
             * ROLLBACK PREPARED: a write to all shards, plugins called
             * (two_pc off, PgDog's default) */
            return NULL;
        }
    default:
        return NULL;
    }
}

int vh_regex_parser_match(const char *sql)
{
    static const char *const kw[] = {"SET", "RESET", "BEGIN", "COMMIT", "ROLLBACK",
                                     "LISTEN", "UNLISTEN", "NOTIFY"};
    const char *p = sql;
    size_t i;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            const char *e = strchr(p, '\n');
            if (!e)
                return 0; /* the pattern needs the newline */
            p = e + 1;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            if (!e)
                return 0;
            p = e + 2;
        } else {
            break;
        }
    }
    for (i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strncasecmp(p, kw[i], strlen(kw[i])) == 0)
            return 1;
    return 0;
}

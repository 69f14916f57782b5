/*
 * pg18json: parses SQL with PostgreSQL 18's grammar (libpg_query's static
 * library, the one Debian's libpg-query-dev ships) and prints each parse
 * tree as libpg_query's JSON, whose field names are the C struct members.
 * pgtree's tests build C-layout trees from that JSON with the layout table
 * (pgtree.BuildJSON) and route them against the SQL-text front end.
 *
 * Input (stdin), one case per line: <name>\t<hex of the SQL>
 * Output (stdout), one line per case: <name>\tJSON\t<json> or
 * <name>\tERROR\t<the parser's message>.
 *
 * Link with plugin/vtablehost/pgparse.c (glibc shims for the static library).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_query.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(void)
{
    size_t cap = 0;
    char *line = NULL;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n') line[--n] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "pg18json: a line without a tab\n");
            return 2;
        }
        *tab = '\0';
        const char *hex = tab + 1;
        size_t hl = strlen(hex);
        if (hl % 2) {
            fprintf(stderr, "pg18json: %s: odd hex length\n", line);
            return 2;
        }
        char *sql = malloc(hl / 2 + 1);
        for (size_t i = 0; i < hl / 2; i++) {
            int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
            if (a < 0 || b < 0) {
                fprintf(stderr, "pg18json: %s: bad hex\n", line);
                return 2;
            }
            sql[i] = (char)(a << 4 | b);
        }
        sql[hl / 2] = '\0';
        PgQueryParseResult r = pg_query_parse(sql);
        if (r.error) {
            printf("%s\tERROR\t", line);
            for (const char *m = r.error->message; m && *m; m++)
                putchar(*m == '\t' || *m == '\n' ? ' ' : *m);
            putchar('\n');
        } else {
            printf("%s\tJSON\t%s\n", line, r.parse_tree);
        }
        pg_query_free_parse_result(r);
        free(sql);
    }
    free(line);
    return 0;
}

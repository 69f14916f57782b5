/*
 * abicheck.c: compiles only if the header cgo generates for the library
 * (build/libvecshard.h) declares the exported functions exactly as our
 * header does. Both are included in one translation unit, so a prototype
 * that differs in any parameter or result type is a redeclaration error.
 * The generated header includes vecshard_pgdog.h itself, so the types are
 * the same by construction; this pins the function signatures.
 *
 *   gcc -std=c99 -Wall -Werror -fsyntax-only -Iplugin/include -Ibuild \
 *       plugin/hosttest/abicheck.c
 */
#include "vecshard_pgdog.h"
#include "libvecshard.h"

static void (*const check_init)(void) = pgdog_init;
static Output (*const check_route)(Input) = pgdog_route_query;
static void (*const check_fini)(void) = pgdog_fini;

int main(void)
{
    return check_init == 0 || check_route == 0 || check_fini == 0;
}

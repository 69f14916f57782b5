// Package e2e holds vecshard's end-to-end tests: they load the real plugin
// libraries into hosts that behave like PgDog and check every decision that
// crosses an ABI, under threads, under valgrind, under signal storms and
// while the config is being reloaded.
//
// Today's ABI (vtable_test.go): build/libvecshard.so in build/pgdog-host, a
// std-only Rust program that loads, checks versions and calls a plugin as
// PgDog >= v0.1.54 does. The host parses each statement with PostgreSQL
// 18's own grammar (libpg_query's raw parser) and passes the tree, as PgDog
// does. Those tests need the build
// directory of `make e2e` (VECSHARD_E2E_BUILD; a relative path is taken
// from the module root); without it they skip, loudly.
//
// The January 2025 C ABI (e2e_test.go, load_test.go):
// build/libvecshard_c2025.so in the C host plugin/hosttest. Without
// VECSHARD_E2E_BUILD these tests build both artifacts into a temporary
// directory themselves (go build -buildmode=c-shared, gcc). The memcheck
// tests always build their own copy of the plugin with -tags valgrind, and
// skip, loudly, when valgrind is not installed. Every C ABI host process runs
// with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096: that library links
// pg_query, and could not be dlopened otherwise (see staticTLS).
//
// Costs are measured by BenchmarkHostLoad (C ABI) and BenchmarkVtableHostLoad:
//
//	go test ./e2e -run '^$' -bench HostLoad -benchtime 1x
package e2e

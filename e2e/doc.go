// Package e2e holds vecshard's end-to-end tests: they build the plugin as a
// C shared library and the C test host (plugin/hosttest), load one into the
// other the way PgDog does, and check every decision that crosses the C ABI,
// under threads, under valgrind and while the config is being reloaded.
//
// The tests build both artifacts into a temporary directory themselves
// (go build -buildmode=c-shared, gcc), so `go test ./e2e` needs nothing but
// Go and a C compiler. Set VECSHARD_E2E_BUILD to a directory holding an
// already built libvecshard.so, libvecshard.h and vecshard-host (a relative
// path is taken from the module root, so VECSHARD_E2E_BUILD=build tests what
// make build produced) to test those instead. The memcheck tests always
// build their own copy of the plugin with -tags valgrind, and skip, loudly,
// when valgrind is not installed.
//
// Every host process runs with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096:
// like PgDog, it could not dlopen the library otherwise (see staticTLS).
//
// The C ABI's cost is measured by BenchmarkHostLoad:
//
//	go test ./e2e -run '^$' -bench HostLoad -benchtime 1x
package e2e

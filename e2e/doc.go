// Package e2e holds vecshard's end-to-end tests: they build the plugin as a
// C shared library and the C test host (plugin/hosttest), load one into the
// other the way PgDog does, and check every decision that crosses the C ABI,
// under threads, under valgrind and while the config is being reloaded.
//
// The tests build both artifacts into a temporary directory themselves
// (go build -buildmode=c-shared, gcc), so `go test ./e2e` needs nothing but
// a C compiler. Set VECSHARD_E2E_BUILD to a directory holding an already
// built libvecshard.so, libvecshard.h and vecshard-host (make build's
// build/) to test those instead.
package e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// build holds the artifacts under test: the plugin, its generated header and
// the C host.
var build struct {
	dir, lib, host string // the C ABI library (libvecshard_c2025.so) and its C host
	vlib           string // the vtable library (libvecshard.so)
	root           string // module root
	scratch        string // for artifacts the tests build themselves
	err            error
}

func TestMain(m *testing.M) {
	code := func() int {
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		build.root = root
		scratch, err := os.MkdirTemp("", "vecshard-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(scratch)
		build.scratch = scratch
		if dir := os.Getenv("VECSHARD_E2E_BUILD"); dir != "" {
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(root, dir) // "build" means the module's build/
			}
			build.dir = dir
		} else {
			build.dir = scratch
			build.err = buildArtifacts(root, scratch)
		}
		build.lib = filepath.Join(build.dir, "libvecshard_c2025.so")
		build.vlib = filepath.Join(build.dir, "libvecshard.so")
		build.host = filepath.Join(build.dir, "vecshard-host")
		return m.Run()
	}()
	os.Exit(code)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the vecshard module")
	}
	return filepath.Dir(mod), nil
}

// buildArtifacts builds the plugin and the host exactly as the Makefile does.
func buildArtifacts(root, dir string) error {
	cmds := [][]string{
		{"go", "build", "-buildmode=c-shared", "-o", filepath.Join(dir, "libvecshard_c2025.so"), "./plugin/c2025"},
		{"go", "build", "-buildmode=c-shared", "-o", filepath.Join(dir, "libvecshard.so"), "./plugin/vtable"},
		{"gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", filepath.Join(dir, "vecshard-host"),
			"plugin/hosttest/host.c", "-ldl"},
	}
	for _, args := range cmds {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func needBuild(t testing.TB) {
	t.Helper()
	if build.err != nil {
		t.Fatalf("building the plugin and host: %v", build.err)
	}
}

// fixture copies testdata's config and centroids into a fresh directory
// (reload tests rewrite the config) and returns the config's path.
func fixture(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"vecshard.toml", "centroids.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "vecshard.toml")
}

func writeScript(t testing.TB, cs []testCase) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.tsv")
	if err := os.WriteFile(path, []byte(script(cs)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// staticTLS is the environment every process that dlopens the plugin needs
// (PgDog included). The Go runtime's thread pointer is initial-exec TLS, so
// the library is marked STATIC_TLS and glibc must place its whole TLS block
// (about 1.8 KiB, nearly all of it pg_query's PostgreSQL parser state) in the
// static TLS surplus reserved at process start; glibc's default surplus is
// smaller, and dlopen fails with "cannot allocate memory in static TLS block".
const staticTLS = "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096"

type result struct {
	stdout, stderr string
	exit           int
}

// runHost runs the host (optionally under a wrapper such as valgrind) with
// the given environment additions.
func runHost(t testing.TB, env []string, wrapper []string, args ...string) result {
	t.Helper()
	argv := append(append(append([]string{}, wrapper...), build.host), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), staticTLS), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", argv, err)
	}
	return r
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.exit, r.stdout, r.stderr)
}

var okLine = regexp.MustCompile(`(?m)^ok +L\d+ `)

// checkScript requires that every one of n statements printed "ok" and the
// host passed.
func checkScript(t *testing.T, r result, n int) {
	t.Helper()
	if r.exit != 0 || !strings.Contains(r.stdout, "result: PASS") {
		t.Fatalf("host failed:\n%s", r)
	}
	if got := len(okLine.FindAllString(r.stdout, -1)); got != n {
		t.Fatalf("%d ok lines for %d statements:\n%s", got, n, r)
	}
}

func TestScript(t *testing.T) {
	needBuild(t)
	cs := routingCases()
	r := runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t)}, nil, build.lib, writeScript(t, cs))
	checkScript(t, r, len(cs))
	if !strings.Contains(r.stderr, "config loaded") {
		t.Errorf("no load line in the plugin's log:\n%s", r.stderr)
	}
	// Each ERROR reached the host with its message; none is empty.
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, " error ") && strings.Contains(line, "[ERROR ") && strings.Contains(line, ": |") {
			t.Errorf("ERROR without a message: %s", line)
		}
	}
}

// TestScriptDetectsMismatch guards the harness: a wrong expectation must fail.
func TestScriptDetectsMismatch(t *testing.T) {
	needBuild(t)
	cs := []testCase{
		{shards: 4, query: "SELECT * FROM users WHERE id = $1", params: []param{text("42")}, expect: "shard=1 read"},
	}
	r := runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t)}, nil, build.lib, writeScript(t, cs))
	if r.exit != 1 || !strings.Contains(r.stdout, "MISMATCH") {
		t.Fatalf("a wrong expectation passed:\n%s", r)
	}
}

// TestNoConfig: without a usable config every statement is NO_DECISION.
func TestNoConfig(t *testing.T) {
	needBuild(t)
	var cs []testCase
	for _, c := range routingCases() {
		c.expect = "none"
		cs = append(cs, c)
	}
	path := writeScript(t, cs)
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("shards = 4\n[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_column = \"embedding\"\ncentroids = \"missing.json\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, env, log string
	}{
		{"unset", "VECSHARD_CONFIG=", "VECSHARD_CONFIG is not set"},
		{"missing file", "VECSHARD_CONFIG=" + filepath.Join(t.TempDir(), "nope.toml"), "config not loaded"},
		{"bad config", "VECSHARD_CONFIG=" + bad, "missing.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runHost(t, []string{tc.env}, nil, build.lib, path)
			checkScript(t, r, len(cs))
			if !strings.Contains(r.stderr, tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, r.stderr)
			}
		})
	}
}

// TestWithoutInit: a host that never calls pgdog_init gets NO_DECISION, not
// a crash.
func TestWithoutInit(t *testing.T) {
	needBuild(t)
	cs := []testCase{{shards: 4, query: "SELECT * FROM users WHERE id = 42", expect: "none"}}
	r := runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t)}, nil, "--no-init", build.lib, writeScript(t, cs))
	checkScript(t, r, 1)
}

var threadsLine = regexp.MustCompile(`threads: expected_calls=(\d+) calls=(\d+) divergent=(\d+)`)

// checkThreads requires the threaded phase to have made every expected call
// with the single-threaded decision.
func checkThreads(t *testing.T, r result, wantCalls int) {
	t.Helper()
	if r.exit != 0 || !strings.Contains(r.stdout, "result: PASS") {
		t.Fatalf("host failed:\n%s", r)
	}
	m := threadsLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no threads summary:\n%s", r)
	}
	expected, _ := strconv.Atoi(m[1])
	calls, _ := strconv.Atoi(m[2])
	if expected != wantCalls || calls != wantCalls || m[3] != "0" {
		t.Fatalf("threads: expected %d calls, host expected %d, made %d, %s divergent:\n%s", wantCalls, expected, calls, m[3], r)
	}
}

// TestThreads: 8 threads x at least 100,000 calls each give exactly the
// single-threaded decisions.
func TestThreads(t *testing.T) {
	needBuild(t)
	if testing.Short() {
		t.Skip("-short: 800,000 calls")
	}
	cs := routingCases()
	repeat := (100_000 + len(cs) - 1) / len(cs)
	r := runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t)}, nil,
		"--quiet", "--threads", "8", "--repeat", strconv.Itoa(repeat), build.lib, writeScript(t, cs))
	checkThreads(t, r, 8*repeat*len(cs))
}

// TestReloadUnderLoad rewrites the config every few milliseconds, every
// other time with an invalid file, while 4 threads route: no call may see
// anything but the decision of the single-threaded pass (the bad file is
// rejected and the old snapshot kept; the good one is swapped in).
func TestReloadUnderLoad(t *testing.T) {
	needBuild(t)
	cfg := fixture(t)
	cs := routingCases()
	r := runHost(t, []string{"VECSHARD_CONFIG=" + cfg, "VECSHARD_RELOAD_INTERVAL=10ms"}, nil,
		"--quiet", "--threads", "4", "--repeat", "500", "--touch", cfg, "--every-ms", "15", "--touch-bad", "--touch-min", "40",
		build.lib, writeScript(t, cs))
	if r.exit != 0 || !strings.Contains(r.stdout, "result: PASS") {
		t.Fatalf("host failed:\n%s", r)
	}
	m := regexp.MustCompile(`calls=(\d+) divergent=(\d+) .*config_rewrites=(\d+)`).FindStringSubmatch(r.stdout)
	if m == nil || m[2] != "0" {
		t.Fatalf("divergent decisions during reload:\n%s", r)
	}
	if n, _ := strconv.Atoi(m[3]); n < 40 {
		t.Fatalf("only %d config rewrites:\n%s", n, r)
	}
	reloads := strings.Count(r.stderr, "config reloaded")
	rejects := strings.Count(r.stderr, "keeping the previous one")
	if reloads == 0 || rejects == 0 {
		t.Fatalf("want both reloads and rejected reloads, got %d and %d:\n%s", reloads, rejects, r.stderr)
	}
	t.Logf("%s calls, %s rewrites, %d reloads, %d rejected", m[1], m[3], reloads, rejects)
}

// TestABIHeader: the header cgo generates declares the exports exactly as
// our hand-written header does (a conflict is a compile error), and our
// header's _Static_asserts hold under strict C99.
func TestABIHeader(t *testing.T) {
	needBuild(t)
	cmd := exec.Command("gcc", "-std=c99", "-pedantic", "-Wall", "-Werror", "-fsyntax-only",
		"-I", filepath.Join(build.root, "plugin", "include"), "-I", build.dir,
		filepath.Join(build.root, "plugin", "hosttest", "abicheck.c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	h, err := os.ReadFile(filepath.Join(build.dir, "libvecshard_c2025.h"))
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range []string{
		"extern Output pgdog_route_query(Input input);",
		"extern void pgdog_init(void);",
		"extern void pgdog_fini(void);",
		`#include "vecshard_pgdog.h"`,
	} {
		if !bytes.Contains(h, []byte(decl)) {
			t.Errorf("generated header lacks %q", decl)
		}
	}
}

// TestExports: the library exports the three symbols PgDog looks up.
func TestExports(t *testing.T) {
	needBuild(t)
	out, err := exec.Command("nm", "-D", "--defined-only", build.lib).Output()
	if err != nil {
		t.Skipf("nm: %v", err)
	}
	for _, sym := range []string{"pgdog_init", "pgdog_route_query", "pgdog_fini"} {
		if !regexp.MustCompile(`(?m) T ` + sym + `$`).Match(out) {
			t.Errorf("%s is not exported", sym)
		}
	}
}

var vgLib struct {
	once sync.Once
	path string
	err  error
}

// valgrindLib builds the plugin with -tags valgrind, which makes the Go
// runtime describe its stacks and heap to memcheck (Go >= 1.25); without it
// memcheck cannot follow goroutine stack switches and reports noise.
func valgrindLib(t *testing.T) (valgrind, lib string) {
	t.Helper()
	needBuild(t)
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		fmt.Fprintln(os.Stderr, "\n*** e2e: valgrind is not installed: SKIPPING the memcheck tests (CI installs it) ***")
		t.Skip("valgrind is not installed; memcheck tests skipped")
	}
	vgLib.once.Do(func() {
		vgLib.path = filepath.Join(build.scratch, "libvecshard-valgrind.so")
		cmd := exec.Command("go", "build", "-tags", "valgrind", "-buildmode=c-shared", "-o", vgLib.path, "./plugin/c2025")
		cmd.Dir = build.root
		if out, err := cmd.CombinedOutput(); err != nil {
			vgLib.err = fmt.Errorf("%v: %v\n%s", cmd.Args, err, out)
		}
	})
	if vgLib.err != nil {
		t.Fatal(vgLib.err)
	}
	return valgrind, vgLib.path
}

// noPreempt turns off the Go runtime's signal-based goroutine preemption
// under valgrind: the injected call to runtime.asyncPreempt spills registers
// below the interrupted goroutine's stack pointer, which memcheck reports as
// invalid reads and writes. Goroutines are still preempted at function calls.
const noPreempt = "GODEBUG=asyncpreemptoff=1"

// fairSched makes valgrind hand its one lock to threads in turn. By
// default a thread that spins (the Go runtime's idle Ms, its lock2) can
// keep it from the thread it waits for: a run that takes 7 s took over a
// minute, or did not end, in most tries.
const fairSched = "--fair-sched=yes"

func memcheck(valgrind string) []string {
	return []string{valgrind, "--tool=memcheck", fairSched, "--error-exitcode=99",
		"--leak-check=full", "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
		"--suppressions=" + filepath.Join("testdata", "valgrind-go.supp")}
}

var errorSummary = regexp.MustCompile(`ERROR SUMMARY: (\d+) errors`)

// valgrindAborted reports whether valgrind itself failed (its leak checker
// aborting), as opposed to memcheck reporting an error in the program.
func valgrindAborted(r result) bool {
	return strings.Contains(r.stderr, "the 'impossible' happened")
}

// TestValgrind runs the whole script, single-threaded and then from 2
// threads, under memcheck: no invalid access, no uninitialised read, no
// definitely lost block, and the same decisions as without valgrind.
func TestValgrind(t *testing.T) {
	valgrind, lib := valgrindLib(t)
	cs := routingCases()
	run := func() result {
		return runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t), noPreempt}, memcheck(valgrind),
			"--threads", "2", "--repeat", "2", lib, writeScript(t, cs))
	}
	r := run()
	for try := 0; try < 2 && valgrindAborted(r); try++ {
		// valgrind 3.19's leak checker sometimes aborts on the Go
		// runtime's VALGRIND_MALLOCLIKE_BLOCK annotations ("the
		// 'impossible' happened") after the program ran clean: a tool
		// failure, not a finding. Run again.
		t.Logf("valgrind's leak checker aborted (a valgrind bug); running again")
		r = run()
	}
	if valgrindAborted(r) {
		// Still the tool: check everything but leaks (TestValgrindCatchesLeaks
		// and the runs above that got through cover the leak checking).
		fmt.Fprintln(os.Stderr, "\n*** e2e: valgrind's leak checker keeps aborting: TestValgrind checks memory errors without leak checking ***")
		args := append([]string{}, memcheck(valgrind)...)
		for i, a := range args {
			if a == "--leak-check=full" {
				args[i] = "--leak-check=no"
			}
		}
		r = runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t), noPreempt}, args,
			"--threads", "2", "--repeat", "2", lib, writeScript(t, cs))
	}
	m := errorSummary.FindStringSubmatch(r.stderr)
	if r.exit != 0 || m == nil || m[1] != "0" {
		t.Fatalf("memcheck found errors:\n%s", r)
	}
	checkScript(t, r, len(cs))
	checkThreads(t, r, 2*2*len(cs))
}

// TestValgrindCatchesLeaks guards the suppressions: a block the host leaks
// on purpose must still fail the run.
func TestValgrindCatchesLeaks(t *testing.T) {
	valgrind, lib := valgrindLib(t)
	cs := []testCase{{shards: 4, query: "SELECT * FROM users WHERE id = 42", expect: "shard=0 read"}}
	r := runHost(t, []string{"VECSHARD_CONFIG=" + fixture(t), noPreempt}, memcheck(valgrind), "--leak-test", lib, writeScript(t, cs))
	if r.exit != 99 || !strings.Contains(r.stderr, "64 bytes in 1 blocks are definitely lost") {
		t.Fatalf("memcheck missed a deliberate leak:\n%s", r)
	}
}

// TestDumpScript writes the generated routing script to the file named by
// VECSHARD_E2E_SCRIPT, for running the host by hand (benchmarks, debugging).
func TestDumpScript(t *testing.T) {
	path := os.Getenv("VECSHARD_E2E_SCRIPT")
	if path == "" {
		t.Skip("set VECSHARD_E2E_SCRIPT=path to write the routing script")
	}
	if err := os.WriteFile(path, []byte(script(routingCases())), 0o644); err != nil {
		t.Fatal(err)
	}
}

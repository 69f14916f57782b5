package e2e

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vecshard/vecshard/internal/corpus"
	"github.com/vecshard/vecshard/internal/routefixture"
	"github.com/vecshard/vecshard/router"
	"github.com/vecshard/vecshard/sqltext"
)

// The hosts' exit codes (plugin/vtablehost/host.rs).
const (
	exitSkipVtable = 4
	exitSkipAPI    = 5
	exitSkipRustc  = 6
	exitSkipConfig = 7
)

// vtableHosts returns the PgDog-like host that make hosts builds
// (build/pgdog-host, Rust), as a list so that the tests name it in their
// subtests and output.
func vtableHosts(t testing.TB) []string {
	t.Helper()
	if os.Getenv("VECSHARD_E2E_BUILD") == "" {
		fmt.Fprintln(os.Stderr, "\n*** e2e: VECSHARD_E2E_BUILD is not set: SKIPPING the vtable-ABI tests (make e2e runs them) ***")
		t.Skip("the vtable-ABI tests need the build directory of make e2e (VECSHARD_E2E_BUILD)")
	}
	p := filepath.Join(build.dir, "pgdog-host")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no %s: run make hosts (it needs rustc)", p)
	}
	return []string{p}
}

// cleanEnv is the environment of a PgDog process that nobody prepared for
// vecshard: no GLIBC_TUNABLES, no VECSHARD_* variable.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GLIBC_TUNABLES=") || strings.HasPrefix(kv, "VECSHARD_") || strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			continue
		}
		env = append(env, kv)
	}
	// PgDog finds a bare plugin name on the library path.
	return append(append(env, "LD_LIBRARY_PATH="+build.dir), extra...)
}

func runVtable(t testing.TB, host string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(host, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %v: %v", host, args, err)
	}
	return r
}

func corpusConfig() string { return filepath.Join(corpus.ConfigDir(), "vecshard.toml") }

// TestVtableLoads: today's PgDog loads build/libvecshard.so by its bare
// name, with glibc's default static TLS and no VECSHARD_RUSTC_VERSION: the
// plugin finds PgDog's rustc version in the host executable's .comment.
func TestVtableLoads(t *testing.T) {
	rustc := rustcVersion(t)
	for _, host := range vtableHosts(t) {
		t.Run(filepath.Base(host), func(t *testing.T) {
			r := runVtable(t, host, cleanEnv(), "--plugin", "vecshard", "--config", corpusConfig(), "check")
			if r.exit != 0 {
				t.Fatalf("not loaded:\n%s", r)
			}
			for _, want := range []string{"api_version=0.4.0 ", "rustc_version=" + rustc + " ", "plugin_version=0.2.0"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("check output lacks %q:\n%s", want, r)
				}
			}
			if !strings.Contains(r.stderr, "config loaded") {
				t.Errorf("no load line in the plugin's log:\n%s", r.stderr)
			}
		})
	}
}

// rustcVersion is the string the host compares with: the version of the
// rustc that built it (plugin/vtablehost/build.sh).
func rustcVersion(t testing.TB) string {
	out, err := exec.Command("rustc", "--version").Output()
	if err != nil {
		t.Fatalf("rustc --version: %v (the host is built with rustc)", err)
	}
	return strings.TrimSpace(string(out))
}

// TestVtableLibrary: the library has today's symbol, carries almost no
// initial-exec TLS (the Go runtime's thread pointer, not pg_query's parser
// state), and does not link pg_query at all.
func TestVtableLibrary(t *testing.T) {
	vtableHosts(t)
	out, err := exec.Command("nm", "-D", "--defined-only", build.vlib).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m) [DR] PGDOG_PLUGIN_VTABLE$`).Match(out) {
		t.Errorf("%s does not export the data symbol PGDOG_PLUGIN_VTABLE", build.vlib)
	}
	if bytes.Contains(out, []byte("pg_query")) || bytes.Contains(out, []byte("raw_parser")) {
		t.Errorf("%s links pg_query", build.vlib)
	}
	ph, err := exec.Command("readelf", "-lW", build.vlib).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*TLS\s+\S+\s+\S+\s+\S+\s+\S+\s+(0x[0-9a-f]+)`).FindSubmatch(ph)
	if m == nil {
		t.Fatalf("no TLS program header:\n%s", ph)
	}
	size, _ := strconv.ParseInt(string(m[1][2:]), 16, 64)
	t.Logf("TLS block: %d bytes", size)
	if size > 64 {
		t.Errorf("the library has %d bytes of TLS; glibc's default static TLS surplus may not fit it", size)
	}
}

// TestVtableConfig: what PgDog gets when the config is missing or bad:
// config() returns false, PgDog skips the plugin, the log says why.
func TestVtableConfig(t *testing.T) {
	host := vtableHosts(t)[0]
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("shards = 4\n[[tables]]\nname = \"items\"\nkey = \"vector\"\nvector_colum = \"embedding\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		exit   int
		stderr string
	}{
		{"no config", nil, nil, exitSkipConfig, "no config: set config ="},
		{"bad config", nil, []string{"--config", bad}, exitSkipConfig, "vector_colum"},
		{"config from VECSHARD_CONFIG", []string{"VECSHARD_CONFIG=" + corpusConfig()}, nil, 0, "config loaded"},
		{"rustc override", []string{"VECSHARD_RUSTC_VERSION=rustc 0.0.0"}, []string{"--config", corpusConfig()}, exitSkipRustc, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"--plugin", "vecshard"}, tc.args...), "check")
			r := runVtable(t, host, cleanEnv(tc.env...), args...)
			if r.exit != tc.exit || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("want exit %d and %q in the log:\n%s", tc.exit, tc.stderr, r)
			}
		})
	}
}

// corpusCases writes the corpus as the host's case file, each statement
// twice: as PgDog passes a read (write_override false) and as it passes a
// statement its own parser saw as a write (true); always a Bind (the
// hosts' default message kind) on a cluster with a primary and replicas
// (P R), the shape where PgDog calls the plugin also with one shard.
func corpusCases(t testing.TB) (path string, cases []corpus.Case) {
	t.Helper()
	var b strings.Builder
	cases = corpus.Cases()
	for i, c := range cases {
		for _, flags := range []string{"-", "w"} {
			fmt.Fprintf(&b, "%d%s\t%d\t%sPR\t%s\t", i, flags, c.Shards, strings.TrimPrefix(flags, "-"), hex.EncodeToString([]byte(c.SQL)))
			codes := make([]string, len(c.Params))
			for j, p := range c.Params {
				codes[j] = map[bool]string{false: "0", true: "1"}[p.Binary]
			}
			if len(codes) == 0 {
				b.WriteString("-")
			} else {
				b.WriteString(strings.Join(codes, ","))
			}
			for _, p := range c.Params {
				b.WriteByte('\t')
				if p.Null {
					b.WriteByte('~')
				} else {
					b.WriteString(hex.EncodeToString(p.Data))
				}
			}
			b.WriteByte('\n')
		}
	}
	path = filepath.Join(t.TempDir(), "corpus.tsv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, cases
}

// wantRoute is the Route the text front end's decision maps to.
func wantRoute(d router.Decision, writeOverride bool) string {
	rw := 1
	if d.Write || writeOverride {
		rw = 0
	}
	switch d.Kind {
	case router.Shard:
		return fmt.Sprintf("%d\t%d", d.Shard, rw)
	case router.All:
		return fmt.Sprintf("-1\t%d", rw)
	case router.Error:
		return fmt.Sprintf("-3\t%d", rw)
	}
	return "-2\t2"
}

// pgdogHandles says whether PgDog v0.1.54 answers a statement without
// calling plugins (PGDOG.md section 1), from the SQL text alone: the
// hosts decide it from the parse tree, so this is an independent check.
func pgdogHandles(sql string) bool {
	s := strings.TrimSpace(sql)
	for strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "--") {
		end := "\n"
		if strings.HasPrefix(s, "/*") {
			end = "*/"
		}
		i := strings.Index(s, end)
		if i < 0 {
			return true // only a comment: empty
		}
		s = strings.TrimSpace(s[i+len(end):])
	}
	f := strings.Fields(strings.ToUpper(strings.TrimLeft(s, "; \t\n")))
	if len(f) == 0 {
		return true
	}
	switch strings.TrimSuffix(f[0], ";") {
	case "SET", "RESET", "SHOW", "DEALLOCATE", "LISTEN", "NOTIFY", "UNLISTEN", "DISCARD",
		"BEGIN", "START", "END", "ABORT":
		return true
	case "COMMIT", "ROLLBACK":
		return len(f) == 1 || (f[1] != "TO" && f[1] != "PREPARED")
	case "SELECT":
		return len(f) > 1 && (strings.HasPrefix(f[1], "SET_CONFIG(") || strings.HasPrefix(f[1], "PG_CATALOG.SET_CONFIG("))
	}
	return false
}

// escapeDetail is the host's one-line form of an ErrorResponse detail.
func escapeDetail(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "\r", "\\r").Replace(s)
}

// TestVtableCorpus routes the whole corpus through the real library in
// the PgDog-like host, from PostgreSQL 18 trees that libpg_query's raw parser made,
// and requires, statement by statement, the decision the SQL-text front end
// makes under PgDog's merge rules (vecshard explain's default). Comment
// hints are the host's under this ABI; PostgreSQL 17/18-only syntax has no
// text decision to compare with.
// Then every tree again from 4 threads, 20 times each: the same answers.
func TestVtableCorpus(t *testing.T) {
	hosts := vtableHosts(t)
	path, cases := corpusCases(t)
	snap, err := router.Load(corpusConfig(), router.WithText(sqltext.Parser{}), router.WithHost(router.PgDog))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range hosts {
		t.Run(filepath.Base(host), func(t *testing.T) {
			r := runVtable(t, host, cleanEnv(), "--plugin", "vecshard", "--config", corpusConfig(), "route", path)
			if r.exit != 0 {
				t.Fatalf("route failed:\n%s", r)
			}
			got := map[string]string{}
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				id, rest, _ := strings.Cut(sc.Text(), "\t")
				got[id] = rest
			}
			compared, nocall := 0, 0
			for i, c := range cases {
				for _, wo := range []bool{false, true} {
					id := strconv.Itoa(i) + map[bool]string{false: "-", true: "w"}[wo]
					g, ok := got[id]
					switch {
					case !ok:
						t.Errorf("%s: no answer", c.Name)
						continue
					case strings.HasPrefix(c.Name, "syntax/"):
						if !strings.HasPrefix(g, "PARSE_ERROR") {
							t.Errorf("%s: PostgreSQL 18 parsed it: %s", c.Name, g)
						}
						continue
					case strings.HasPrefix(g, "PARSE_ERROR"):
						t.Errorf("%s: PostgreSQL 18 did not parse it: %s", c.Name, g)
						continue
					case strings.HasPrefix(g, "NOCALL\t") != pgdogHandles(c.SQL):
						t.Errorf("%s: %q, but PgDog %s the plugin for\n  %s", c.Name, g,
							map[bool]string{true: "does not call", false: "calls"}[pgdogHandles(c.SQL)], c.SQL)
						continue
					case strings.HasPrefix(g, "NOCALL\t"):
						nocall++
						continue
					case strings.HasPrefix(c.Name, "hint/"), strings.HasPrefix(c.Name, "pg18/"):
						continue
					}
					// Blocked: the host adds what the client sees.
					if rest, ok := strings.CutPrefix(g, "-3\t"); ok {
						rw, client, _ := strings.Cut(rest, "\t")
						if want := "42601 query is blocked by plugin \"vecshard\"\t" + escapeDetail(c.SQL); client != want {
							t.Errorf("%s: blocked, the client sees %q, want %q", c.Name, client, want)
						}
						g = "-3\t" + rw
					}
					ps := make([]router.Param, len(c.Params))
					for j, p := range c.Params {
						if !p.Null {
							ps[j] = router.Param{Data: append([]byte{}, p.Data...), Binary: p.Binary}
						}
					}
					if want := wantRoute(snap.Route(c.SQL, ps, c.Shards), wo); g != want {
						t.Errorf("%s (write_override %v): vtable %q, text front end %q\n  %s", c.Name, wo, g, want, c.SQL)
					}
					compared++
				}
			}
			t.Logf("%d routes through the vtable identical to the text front end; %d statements PgDog answers itself", compared, nocall)
			if nocall == 0 {
				t.Errorf("no statement PgDog answers itself: the NOCALL rules were not exercised")
			}
			if compared < 600 {
				t.Errorf("only %d routes compared", compared)
			}

			r = runVtable(t, host, cleanEnv(), "--plugin", "vecshard", "--config", corpusConfig(),
				"--threads", "4", "--repeat", "20", "route", path)
			if r.exit != 0 || !strings.Contains(r.stderr, "mismatches=0") {
				t.Fatalf("concurrent routes differ:\n%s", r.stderr)
			}
		})
	}
}

var signalsLine = regexp.MustCompile(`signals: delivered=(\d+) foreign_stack=(\d+) other_thread=(\d+) routes=(\d+)`)

// TestVtableSignals: PgDog installs its SIGHUP, SIGTERM and SIGINT handlers
// after loading plugins, with SA_RESTART|SA_SIGINFO and no SA_ONSTACK. The
// hosts do the same, then send storms of signals, process-wide and aimed at
// threads inside route, under GC pressure (GOGC=5, no plan cache, so every
// call allocates). With VECSHARD_SIGNAL_FIX=0 the reproduction shows the
// hazard: handlers run on goroutine stacks. With the fix (the default) every
// delivery runs on a native or alternate stack.
func TestVtableSignals(t *testing.T) {
	hosts := vtableHosts(t)
	path, _ := corpusCases(t)
	dir := t.TempDir()
	conf, err := os.ReadFile(corpusConfig())
	if err != nil {
		t.Fatal(err)
	}
	conf = regexp.MustCompile(`(?m)^plan_cache_size *=.*$`).ReplaceAll(conf, nil)
	conf = append([]byte("plan_cache_size = 0\n"), conf...)
	for _, f := range []string{"c3k4.json", "c3k8.json", "l2k4.json", "bare.json"} {
		data, err := os.ReadFile(filepath.Join(corpus.ConfigDir(), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(dir, "vecshard.toml")
	if err := os.WriteFile(config, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, host := range hosts {
		for _, fix := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/fix=%v", filepath.Base(host), fix), func(t *testing.T) {
				env := cleanEnv("GOGC=5")
				if !fix {
					env = append(env, "VECSHARD_SIGNAL_FIX=0")
				}
				r := runVtable(t, host, env, "--plugin", "vecshard", "--config", config,
					"--threads", "4", "--seconds", "2", "signals", path)
				m := signalsLine.FindStringSubmatch(r.stdout + r.stderr)
				if !fix {
					// The hazard, reproduced: handlers run on goroutine
					// stacks and, more often than not, corrupt the Go
					// heap or stacks and kill the process.
					crashed := r.exit != 0 && (strings.Contains(r.stderr, "fatal error") || strings.Contains(r.stderr, "SIGSEGV") || r.exit < 0)
					switch {
					case crashed:
						t.Logf("without the fix the host crashed (exit %d): %s", r.exit, firstLine(r.stderr, "fatal error", "SIGSEGV", "unexpected"))
					case m != nil && m[2] != "0":
						t.Logf("without the fix: %s", m[0])
					default:
						t.Fatalf("the reproduction neither crashed nor saw a handler on a goroutine stack: the test no longer shows the hazard\n%s", r)
					}
					return
				}
				if m == nil {
					t.Fatalf("no signals line:\n%s", r)
				}
				delivered, _ := strconv.Atoi(m[1])
				foreign, _ := strconv.Atoi(m[2])
				t.Logf("%s", m[0])
				if delivered < 1000 {
					t.Fatalf("only %d signals delivered:\n%s", delivered, r)
				}
				if foreign != 0 || r.exit != 0 {
					t.Fatalf("%d handlers ran on a foreign stack with the fix:\n%s", foreign, r)
				}
			})
		}
	}
}

// firstLine returns the first line of s that contains one of the words.
func firstLine(s string, words ...string) string {
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				return strings.TrimSpace(l)
			}
		}
	}
	return ""
}

var vtableLoadLine = regexp.MustCompile(`load: threads=(\d+) seconds=([\d.]+) calls=(\d+) calls_per_sec=(\d+)`)

// BenchmarkVtableHostLoad runs the Rust host's load mode on 1 and 2
// threads through build/libvecshard.so on BenchmarkRoute's statements
// (1536 dimensions, 64 centroids, 4 shards; trees parsed once, as PgDog's
// AST cache keeps them) and reports calls per second and ns per call per
// thread. baseline/ measures, in the same run, what a vector route cannot
// avoid (decoding the binary vector, the nearest-centroid search): the
// target is vector-binary-1536-k64 <= 1.1 x baseline (the vtable
// package's BenchmarkVtableVectorRatio measures that ratio call by call).
// id-bigint-binary is answered by the C kernel; id-bigint-binary-go is
// the same call with VECSHARD_KERNEL=0.
func BenchmarkVtableHostLoad(b *testing.B) {
	hosts := vtableHosts(b)
	fx, err := routefixture.Write(b.TempDir(), -1)
	if err != nil {
		b.Fatal(err)
	}
	call, err := fx.Baseline()
	if err != nil {
		b.Fatal(err)
	}
	// baselineSecond runs the baseline for a second, as the host runs each
	// load (-benchtime 1x would time a single, cold call): ns per call.
	baselineSecond := func(b *testing.B) float64 {
		n, start := 0, time.Now()
		for time.Since(start) < time.Second {
			if err := call(); err != nil {
				b.Fatal(err)
			}
			n++
		}
		return float64(time.Since(start).Nanoseconds()) / float64(n)
	}
	b.Run("baseline/decode+nearest-1536-k64", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(baselineSecond(b), "ns/call/thread")
		}
	})
	// The vector route's target is a ratio; a second of the baseline and a
	// second of the host's load, back to back in each iteration, see the
	// same machine (one after the other over minutes they do not).
	vecCase := filepath.Join(b.TempDir(), "vector.tsv")
	if err := os.WriteFile(vecCase, []byte(fmt.Sprintf("0\t%d\t-\t%s\t1\t%s\n", routefixture.Shards, hex.EncodeToString([]byte(routefixture.SearchQuery)), hex.EncodeToString(fx.QueryBin))), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run(filepath.Base(hosts[0])+"/vector-binary-1536-k64-vs-baseline/threads=1", func(b *testing.B) {
		for range b.N {
			base := baselineSecond(b)
			r := runVtable(b, hosts[0], cleanEnv(), "--plugin", "vecshard", "--config", fx.Config, "--threads", "1", "--seconds", "1", "load", vecCase)
			m := vtableLoadLine.FindStringSubmatch(r.stdout)
			if r.exit != 0 || m == nil {
				b.Fatalf("load failed:\n%s", r)
			}
			cps, _ := strconv.ParseFloat(m[4], 64)
			b.ReportMetric(1e9/cps/base, "x-baseline")
		}
	})
	for _, tc := range []struct {
		name, sql string
		param     []byte
		env       []string
	}{
		{"vector-binary-1536-k64", routefixture.SearchQuery, fx.QueryBin, nil},
		{"id-bigint-binary", routefixture.UserQuery, fx.IDBin, nil},
		// The same route with the C kernel off: every call in Go.
		{"id-bigint-binary-go", routefixture.UserQuery, fx.IDBin, []string{"VECSHARD_KERNEL=0"}},
	} {
		path := filepath.Join(b.TempDir(), "load.tsv")
		line := fmt.Sprintf("0\t%d\t-\t%s\t1\t%s\n", routefixture.Shards, hex.EncodeToString([]byte(tc.sql)), hex.EncodeToString(tc.param))
		if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
			b.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%s/threads=%d", filepath.Base(hosts[0]), tc.name, threads), func(b *testing.B) {
				seconds := os.Getenv("VECSHARD_LOAD_SECONDS")
				if seconds == "" {
					seconds = "1"
				}
				for range b.N {
					r := runVtable(b, hosts[0], cleanEnv(tc.env...), "--plugin", "vecshard", "--config", fx.Config,
						"--threads", strconv.Itoa(threads), "--seconds", seconds, "load", path)
					m := vtableLoadLine.FindStringSubmatch(r.stdout)
					if r.exit != 0 || m == nil {
						b.Fatalf("load failed:\n%s", r)
					}
					cps, _ := strconv.ParseFloat(m[4], 64)
					b.ReportMetric(cps, "calls/s")
					b.ReportMetric(1e9*float64(threads)/cps, "ns/call/thread")
				}
			})
		}
	}
}

// TestVtableValgrind routes the whole corpus (twice, from 2 threads) through
// a -tags valgrind build of the vtable library in the Rust host under
// memcheck: no invalid access, no read of uninitialised host memory (the
// tree memo compares members, not padding), and the same answers as
// without valgrind.
func TestVtableValgrind(t *testing.T) {
	hosts := vtableHosts(t)
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		fmt.Fprintln(os.Stderr, "\n*** e2e: valgrind is not installed: SKIPPING the vtable memcheck test (CI installs it) ***")
		t.Skip("valgrind is not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-tags", "valgrind", "-buildmode=c-shared", "-o", filepath.Join(dir, "libvecshard.so"), "./plugin/vtable")
	cmd.Dir = build.root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	path, _ := corpusCases(t)
	host := hosts[0] // std's allocator is glibc's malloc: memcheck knows its calls
	env := cleanEnv(noPreempt)
	for i, kv := range env {
		if strings.HasPrefix(kv, "LD_LIBRARY_PATH=") {
			env[i] = "LD_LIBRARY_PATH=" + dir
		}
	}
	// The same library without valgrind (its client requests are no-ops).
	plain := runVtable(t, host, env, "--plugin", "vecshard", "--config", corpusConfig(), "route", path)
	// Leak checking is off here: with the many Go heap blocks of a whole
	// corpus run, valgrind 3.19's leak checker aborts on Go's own
	// VALGRIND_MALLOCLIKE_BLOCK annotations ("the 'impossible' happened");
	// TestValgrind checks leaks through the C ABI library.
	mc := []string{valgrind, "--tool=memcheck", fairSched, "--error-exitcode=99", "--leak-check=no",
		"--suppressions=" + filepath.Join("testdata", "valgrind-go.supp")}
	args := append(mc, host, "--plugin", "vecshard", "--config", corpusConfig(), "--threads", "2", "--repeat", "2", "route", path)
	r := runVtable(t, args[0], env, args[1:]...)
	m := errorSummary.FindStringSubmatch(r.stderr)
	if r.exit != 0 || m == nil || m[1] != "0" {
		t.Fatalf("memcheck found errors:\n%s", r)
	}
	if r.stdout != plain.stdout {
		a, b := strings.Split(plain.stdout, "\n"), strings.Split(r.stdout, "\n")
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i] != b[i] {
				t.Fatalf("answers under valgrind differ from the plain run at line %d: %q vs %q (%d vs %d lines)", i+1, a[i], b[i], len(a), len(b))
			}
		}
		t.Fatalf("answers under valgrind differ from the plain run: %d vs %d lines", len(a), len(b))
	}
}

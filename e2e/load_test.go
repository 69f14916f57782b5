package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/vecshard/vecshard/internal/routefixture"
)

// loadCases are the statements of bench/route_test.go's BenchmarkRoute of
// the same names, against the same shape of config: 1536 dimensions, 64
// cosine centroids, 4 shards.
func loadSetup(b *testing.B) (config string, cases []testCase, names []string) {
	b.Helper()
	fx, err := routefixture.Write(b.TempDir(), -1)
	if err != nil {
		b.Fatal(err)
	}
	config = fx.Config
	cases = []testCase{
		{routefixture.Shards, routefixture.SearchQuery, []param{bin(fx.QueryBin)}, "*"},
		{routefixture.Shards, routefixture.UserQuery, []param{bin(fx.IDBin)}, "*"},
	}
	return config, cases, []string{"vector-binary-1536-k64", "id-bigint-binary"}
}

var loadLine = regexp.MustCompile(`load: threads=(\d+) calls/s=(\d+) ns/call/thread=([\d.]+) p50=(\d+)ns p99=(\d+)ns divergent=(\d+)`)

// BenchmarkHostLoad runs the C host's load mode (1 and 2 threads, 1 second
// each, or VECSHARD_LOAD_SECONDS) on BenchmarkRoute's statements through the
// C ABI, and reports the host's numbers. Compare ns/call with
// BenchmarkRoute's ns/op: the difference is the cost of the C ABI (the cgo
// call from a C thread, Input conversion). The abi-floor case measures that
// cost alone: the host skips pgdog_init, so every call returns NO_DECISION
// without routing. p50/p99 include two clock_gettime calls (about 20 ns
// each); ns/call and calls/s come from an untimed run. Run it with
// -benchtime 1x: each run already loops for seconds.
//
//	go test ./e2e -run '^$' -bench HostLoad -benchtime 1x
func BenchmarkHostLoad(b *testing.B) {
	needBuild(b)
	config, cases, names := loadSetup(b)
	path := writeScript(b, cases)
	seconds := os.Getenv("VECSHARD_LOAD_SECONDS")
	if seconds == "" {
		seconds = "1"
	}
	type run struct {
		name  string
		line  int
		extra []string
	}
	runs := []run{{name: "abi-floor", line: 2, extra: []string{"--no-init"}}}
	for i, name := range names {
		runs = append(runs, run{name: name, line: i + 1})
	}
	for _, c := range runs {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				args := append(append([]string{}, c.extra...), "--load", "--threads", "1,2", "--seconds", seconds,
					"--line", strconv.Itoa(c.line), build.lib, path)
				r := runHost(b, []string{"VECSHARD_CONFIG=" + config}, nil, args...)
				if r.exit != 0 {
					b.Fatalf("host failed:\n%s", r)
				}
				ms := loadLine.FindAllStringSubmatch(r.stdout, -1)
				if len(ms) != 2 {
					b.Fatalf("no load lines:\n%s", r)
				}
				for _, m := range ms {
					if m[6] != "0" {
						b.Fatalf("divergent decisions under load:\n%s", r)
					}
					ns, _ := strconv.ParseFloat(m[3], 64)
					rate, _ := strconv.ParseFloat(m[2], 64)
					p50, _ := strconv.ParseFloat(m[4], 64)
					p99, _ := strconv.ParseFloat(m[5], 64)
					b.ReportMetric(ns, fmt.Sprintf("ns/call@%s", m[1]))
					b.ReportMetric(rate, fmt.Sprintf("calls/s@%s", m[1]))
					b.ReportMetric(p50, fmt.Sprintf("p50-ns@%s", m[1]))
					b.ReportMetric(p99, fmt.Sprintf("p99-ns@%s", m[1]))
				}
				b.Log(r.stdout)
			}
		})
	}
}

// Command shardsplot reads BenchmarkShards results (go test -bench output,
// as make bench-shards writes to build/bench-shards.txt) and draws recall@10
// against queries/s at one client count, one point per path and
// ef_search, into a PNG. With -table it also prints every result (the mean
// over repeated runs) as a Markdown table, and the ratios the benchmark's
// targets are stated in.
//
//	shardsplot -in build/bench-shards.txt -out docs/img/shards-recall-throughput.png -conns 8 -table
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vecshard/vecshard/internal/atomicfile"
)

func main() {
	in := flag.String("in", "build/bench-shards.txt", "go test -bench output with BenchmarkShards lines")
	out := flag.String("out", "docs/img/shards-recall-throughput.png", "PNG to write (empty: none)")
	conns := flag.Int("conns", 8, "client connections of the plotted results")
	table := flag.Bool("table", false, "print every result and the target ratios as Markdown")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fail(err)
	}
	res, err := parse(f)
	f.Close()
	if err != nil {
		fail(err)
	}
	if len(res) == 0 {
		fail(fmt.Errorf("%s: no BenchmarkShards results", *in))
	}
	if *table {
		writeTable(os.Stdout, res)
	}
	if *out != "" {
		if err := writePlot(*out, res, *conns); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "shardsplot:", err)
	os.Exit(1)
}

// key names one sub-benchmark.
type key struct {
	s, ef, conns int
	path         string
}

// result is the mean of a sub-benchmark's runs, by unit.
type result struct {
	key
	runs  int
	units map[string]float64
}

// The units the benchmark reports.
var units = []string{"recall@10", "queries/s", "p50-ms", "p99-ms", "shards/query"}

// pathOrder is the paths' order in tables and legends.
var pathOrder = []string{"routed", "fanout", "reference", "routed-probes2"}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads BenchmarkShards/S=../path=../ef=../conns=.. lines and averages
// each unit over repeated runs, in a stable order.
func parse(r io.Reader) ([]*result, error) {
	byKey := map[key]*result{}
	sums := map[key]map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.HasPrefix(f[0], "BenchmarkShards/") {
			continue
		}
		var k key
		ok := 0
		for _, part := range strings.Split(procSuffix.ReplaceAllString(f[0], ""), "/")[1:] {
			name, val, _ := strings.Cut(part, "=")
			n, _ := strconv.Atoi(val)
			switch name {
			case "S":
				k.s, ok = n, ok+1
			case "path":
				k.path, ok = val, ok+1
			case "ef":
				k.ef, ok = n, ok+1
			case "conns":
				k.conns, ok = n, ok+1
			}
		}
		if ok != 4 {
			continue // a parent's line, or not one of ours
		}
		if byKey[k] == nil {
			byKey[k] = &result{key: k, units: map[string]float64{}}
			sums[k] = map[string]float64{}
		}
		byKey[k].runs++
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			sums[k][f[i+1]] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []*result
	for k, r := range byKey {
		for u, s := range sums[k] {
			r.units[u] = s / float64(r.runs)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *result) int {
		if c := a.s - b.s; c != 0 {
			return c
		}
		if c := pathIndex(a.path) - pathIndex(b.path); c != 0 {
			return c
		}
		if c := a.ef - b.ef; c != 0 {
			return c
		}
		return a.conns - b.conns
	})
	return out, nil
}

func pathIndex(p string) int {
	if i := slices.Index(pathOrder, p); i >= 0 {
		return i
	}
	return len(pathOrder)
}

// writeTable prints every result, then per S, ef and conns routed's
// throughput over fan-out's (the target: >= 0.75 S) and routed's recall over
// the reference's.
func writeTable(w io.Writer, res []*result) {
	fmt.Fprintln(w, "| S | path | ef | conns | recall@10 | queries/s | p50 ms | p99 ms | shards/query | runs |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	find := map[key]*result{}
	for _, r := range res {
		find[r.key] = r
		u := r.units
		fmt.Fprintf(w, "| %d | %s | %d | %d | %.4f | %.0f | %.2f | %.2f | %.2f | %d |\n",
			r.s, r.path, r.ef, r.conns, u["recall@10"], u["queries/s"], u["p50-ms"], u["p99-ms"], u["shards/query"], r.runs)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| S | ef | conns | routed/fanout queries/s | as a multiple of S | routed/reference recall@10 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range res {
		if r.path != "routed" {
			continue
		}
		fan, ref := find[key{r.s, r.ef, r.conns, "fanout"}], find[key{r.s, r.ef, r.conns, "reference"}]
		if fan == nil || ref == nil {
			continue
		}
		speed := r.units["queries/s"] / fan.units["queries/s"]
		fmt.Fprintf(w, "| %d | %d | %d | %.2f | %.2f S | %.4f |\n", r.s, r.ef, r.conns, speed, speed/float64(r.s),
			r.units["recall@10"]/ref.units["recall@10"])
	}
}

// writePlot draws recall@10 against queries/s (log scale) at conns client
// connections: one series per path, each point labelled with its ef_search.
func writePlot(path string, res []*result, conns int) error {
	p := plot.New()
	var shards []string
	for _, r := range res {
		if s := strconv.Itoa(r.s); !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	p.Title.Text = fmt.Sprintf("Fashion-MNIST on S = %s pgvector shards (HNSW), %d client connections", strings.Join(shards, ", "), conns)
	p.X.Label.Text = "queries/s (log scale)"
	p.Y.Label.Text = "recall@10 (exact cosine top 10)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ticks125{}
	p.Legend.Top = false
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	n := 0
	for pi, name := range pathOrder {
		var xys plotter.XYs
		var labels []string
		for _, r := range res {
			if r.path != name || r.conns != conns {
				continue
			}
			xys = append(xys, plotter.XY{X: r.units["queries/s"], Y: r.units["recall@10"]})
			l := fmt.Sprintf("ef=%d", r.ef)
			if len(shards) > 1 {
				l = fmt.Sprintf("S=%d %s", r.s, l)
			}
			labels = append(labels, l)
		}
		if len(xys) == 0 {
			continue
		}
		n += len(xys)
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color = plotutil.Color(pi)
		sc.GlyphStyle.Shape = plotutil.Shape(pi)
		sc.GlyphStyle.Radius = vg.Points(4)
		line, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(pi)
		line.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Color = color.Gray{Y: 60}
			lb.TextStyle[i].XAlign = draw.XLeft
		}
		lb.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(2)}
		p.Add(line, sc, lb)
		p.Legend.Add(name, sc)
	}
	if n == 0 {
		return fmt.Errorf("no results at conns=%d", conns)
	}
	// Room for the labels on the right and around the points.
	p.X.Min /= 1.3
	p.X.Max *= 1.6
	pad := max(0.005, (p.Y.Max-p.Y.Min)*0.08)
	p.Y.Min, p.Y.Max = p.Y.Min-pad, min(1, p.Y.Max+pad)
	wt, err := p.WriterTo(9*vg.Inch, 6*vg.Inch, "png")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// ticks125 labels 1, 2 and 5 times each power of ten on a log axis.
type ticks125 struct{}

// Ticks implements plot.Ticker.
func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for p := math.Pow(10, math.Floor(math.Log10(lo))); p <= hi; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * p; v >= lo && v <= hi {
				out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
	}
	return out
}

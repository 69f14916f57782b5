package main

import (
	"fmt"
	"github.com/vecshard/vecshard/internal/atomicfile"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writePlot draws two bar charts, points per shard above points per
// centroid, into a PNG file.
func writePlot(path string, perShard, perCentroid []int) error {
	return writePanels(path, panel{"Points per shard", "shard", perShard}, panel{"Points per centroid", "centroid", perCentroid})
}

// writeReshardPlot draws points per shard before and after a reshard.
func writeReshardPlot(path string, before, after []int) error {
	return writePanels(path,
		panel{fmt.Sprintf("Points per shard before (%d shards)", len(before)), "shard", before},
		panel{fmt.Sprintf("Points per shard after (%d shards)", len(after)), "shard", after})
}

// panel is one bar chart: a title, the x axis label and the bars.
type panel struct {
	title, xlabel string
	sizes         []int
}

// writePanels draws the panels one above the other into a PNG file.
func writePanels(path string, panels ...panel) error {
	var rows [][]*plot.Plot
	for _, p := range panels {
		pl, err := bars(p.title, p.xlabel, p.sizes)
		if err != nil {
			return err
		}
		rows = append(rows, []*plot.Plot{pl})
	}
	const w, h = 10 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(rows, tiles, dc)
	for i, r := range rows {
		r[0].Draw(canvases[i][0])
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

func bars(title, xlabel string, sizes []int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "points"
	vals := make(plotter.Values, len(sizes))
	total := 0
	for i, s := range sizes {
		vals[i] = float64(s)
		total += s
	}
	width := vg.Length(480) / vg.Length(max(1, len(sizes)))
	b, err := plotter.NewBarChart(vals, width*0.8)
	if err != nil {
		return nil, err
	}
	b.LineStyle.Width = 0
	b.Color = plotter.DefaultLineStyle.Color
	p.Add(b)
	if len(sizes) > 0 {
		mean := float64(total) / float64(len(sizes))
		line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: mean}, {X: float64(len(sizes)) - 0.5, Y: mean}})
		if err == nil {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(line)
			p.Title.Text = fmt.Sprintf("%s (dashed: mean %.0f, max/mean %.3f)", title, mean, float64(slices.Max(sizes))/mean)
		}
	}
	return p, nil
}

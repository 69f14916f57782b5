// Package centroids loads, validates and saves centroid files, and finds the
// centroid nearest to a query vector.
//
// A centroid file (see the project's FORMATS.md) lists k centroids of one
// dimension and which of the shards each belongs to. A Set, built once from a
// File, answers Nearest and TopP for dense and sparse queries without
// allocating, reducing every metric to one form,
//
//	nearest(q) = argmax over i of  dot(c_i, q) + b_i,
//
// with ties going to the lowest centroid index.
package centroids

import "fmt"

// Metric is the similarity measure that decides which centroid is nearest.
// They are pgvector's three distances: the nearest centroid is the one with
// the smallest distance, i.e. the largest similarity.
type Metric uint8

const (
	// Cosine: the largest cos(c, q) = dot(c, q) / (|c| |q|) (pgvector <=>).
	Cosine Metric = iota
	// L2: the smallest Euclidean distance |c - q| (pgvector <->).
	L2
	// InnerProduct: the largest dot(c, q) (pgvector <#>, which is -dot).
	InnerProduct
)

var metricNames = [...]string{Cosine: "cosine", L2: "l2", InnerProduct: "inner_product"}

// String returns the metric's name as it is written in centroid and
// configuration files: "cosine", "l2" or "inner_product".
func (m Metric) String() string {
	if int(m) < len(metricNames) {
		return metricNames[m]
	}
	return fmt.Sprintf("Metric(%d)", uint8(m))
}

// ParseMetric returns the metric named s, which must be spelled exactly as
// Metric.String spells it.
func ParseMetric(s string) (Metric, error) {
	for m, name := range metricNames {
		if s == name {
			return Metric(m), nil
		}
	}
	return 0, fmt.Errorf("unknown metric %q (want cosine, l2 or inner_product)", s)
}

func (m Metric) valid() bool { return int(m) < len(metricNames) }

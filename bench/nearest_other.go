//go:build !amd64 || purego

package bench

func streamSum(v []float32) float32 {
	var s [8]float32
	n := len(v) &^ 7
	for i := 0; i < n; i += 8 {
		for j := range s {
			s[j] += v[i+j]
		}
	}
	t := ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
	for _, x := range v[n:] {
		t += x
	}
	return t
}

func pgdogL2(p, q []float32) float32 { return pgdogL2Go(p, q) }

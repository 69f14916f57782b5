package kmeans

// The distance step is dominated by dot products of float32 rows. On amd64
// with AVX2 and FMA the tiles are computed by the assembly in
// kernel_amd64.s; elsewhere by the unrolled Go loops below. Both give the same
// result for the same inputs on every call, whichever goroutine runs them, so
// training is deterministic for a given machine.

// dotGo is a float32 dot product with eight independent accumulators, so the
// additions of consecutive elements do not wait on each other.
func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
		s4 += x[i+4] * y[i+4]
		s5 += x[i+5] * y[i+5]
		s6 += x[i+6] * y[i+6]
		s7 += x[i+7] * y[i+7]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dot returns x . y; len(y) >= len(x) > 0.
func dot(x, y []float32) float32 {
	if haveAsm {
		_ = y[len(x)-1]
		return dot1(&x[0], &y[0], len(x))
	}
	return dotGo(x, y)
}

// dotRows sets out[j] = x . c.Row(j) for j in [j0, j1).
func dotRows(x []float32, c Matrix, j0, j1 int, out []float32) {
	d := c.Dim
	x = x[:d]
	out = out[:j1-j0]
	if !haveAsm {
		for j := j0; j < j1; j++ {
			out[j-j0] = dotGo(x, c.Data[j*d:(j+1)*d])
		}
		return
	}
	var r [4]float32
	j := j0
	for ; j+4 <= j1; j += 4 {
		dot1x4(&x[0], &c.Data[j*d], &c.Data[(j+1)*d], &c.Data[(j+2)*d], &c.Data[(j+3)*d], d, &r)
		out[j-j0], out[j-j0+1], out[j-j0+2], out[j-j0+3] = r[0], r[1], r[2], r[3]
	}
	if j < j1 {
		// Pad the last group by repeating its final row.
		var rows [4]*float32
		for t := range rows {
			jj := min(j+t, j1-1)
			rows[t] = &c.Data[jj*d]
		}
		dot1x4(&x[0], rows[0], rows[1], rows[2], rows[3], d, &r)
		for t := 0; j+t < j1; t++ {
			out[j-j0+t] = r[t]
		}
	}
}

// dotBlock sets out[(i-i0)*ld + (j-j0)] = a.Row(i) . b.Row(j) for i in
// [i0, i1) and j in [j0, j1). Two rows of a share every load of four rows
// of b, and the block of b should fit in the L2 cache.
func dotBlock(a Matrix, i0, i1 int, b Matrix, j0, j1 int, out []float32, ld int) {
	d := a.Dim
	if !haveAsm {
		for i := i0; i < i1; i++ {
			dotRows(a.Row(i), b, j0, j1, out[(i-i0)*ld:])
		}
		return
	}
	var r [8]float32
	var rows [4]*float32
	i := i0
	for ; i+2 <= i1; i += 2 {
		x0, x1 := &a.Data[i*d], &a.Data[(i+1)*d]
		o0 := out[(i-i0)*ld : (i-i0)*ld+(j1-j0)]
		o1 := out[(i+1-i0)*ld : (i+1-i0)*ld+(j1-j0)]
		for j := j0; j < j1; j += 4 {
			for t := range rows {
				rows[t] = &b.Data[min(j+t, j1-1)*d]
			}
			dot2x4(x0, x1, rows[0], rows[1], rows[2], rows[3], d, &r)
			for t := 0; t < 4 && j+t < j1; t++ {
				o0[j-j0+t] = r[t]
				o1[j-j0+t] = r[4+t]
			}
		}
	}
	if i < i1 {
		dotRows(a.Row(i), b, j0, j1, out[(i-i0)*ld:])
	}
}

// addTo sets dst[t] += float64(src[t]); len(dst) >= len(src) > 0.
func addTo(dst []float64, src []float32) {
	if haveAsm {
		_ = dst[len(src)-1]
		accum64(&dst[0], &src[0], len(src))
		return
	}
	dst = dst[:len(src)]
	for t, v := range src {
		dst[t] += float64(v)
	}
}

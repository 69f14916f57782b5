//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// hasAsm: the assembly needs AVX2 (8-wide float32 loads) and FMA; the OS
// support for the YMM state is part of cpu.X86.HasAVX2.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dotsAsm sets dst[i] = Σ_j rows[i*stride+j]*q[j] for i < k, j < n, reading
// each row in 8-float blocks (see Align). Implemented in dots_amd64.s.
//
//go:noescape
func dotsAsm(dst, rows *float32, stride int, q *float32, n, k int)

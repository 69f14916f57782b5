//go:build amd64 && !purego

#include "textflag.h"

// func streamSumAVX2(p *float32, n int) float32
// Eight independent VADDPS chains, one 8-float load each per iteration, so
// add latency never limits the loop and only the loads do.
TEXT ·streamSumAVX2(SB), NOSPLIT, $0-20
	MOVQ   p+0(FP), SI
	MOVQ   n+8(FP), CX
	SHLQ   $2, CX
	ADDQ   SI, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	VADDPS 128(SI), Y4, Y4
	VADDPS 160(SI), Y5, Y5
	VADDPS 192(SI), Y6, Y6
	VADDPS 224(SI), Y7, Y7
	ADDQ   $256, SI
	CMPQ   SI, CX
	JB     loop

	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y5, Y4, Y4
	VADDPS       Y7, Y6, Y6
	VADDPS       Y2, Y0, Y0
	VADDPS       Y6, Y4, Y4
	VADDPS       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+16(FP)
	RET

// func pgdogL2(p, q []float32) float32
// PgDog's euclidean_distance_sse: two 4-wide accumulators over 8-float
// chunks of (q-p)², multiply then add (no FMA); combine, shuffle-reduce
// ([2,3,0,1] then [1,0,3,2]), scalar tail, sqrt. Lengths are equal (the
// caller checks, as PgDog asserts).
TEXT ·pgdogL2(SB), NOSPLIT, $0-52
	MOVQ  p_base+0(FP), SI
	MOVQ  p_len+8(FP), CX
	MOVQ  q_base+24(FP), DI
	MOVQ  CX, DX
	ANDQ  $-8, DX
	SHLQ  $2, DX
	SHLQ  $2, CX
	XORPS X0, X0
	XORPS X1, X1
	XORQ  AX, AX
	CMPQ  AX, DX
	JAE   reduce

chunk:
	MOVUPS (DI)(AX*1), X2
	MOVUPS (SI)(AX*1), X3
	SUBPS  X3, X2
	MULPS  X2, X2
	ADDPS  X2, X0
	MOVUPS 16(DI)(AX*1), X4
	MOVUPS 16(SI)(AX*1), X5
	SUBPS  X5, X4
	MULPS  X4, X4
	ADDPS  X4, X1
	ADDQ   $32, AX
	CMPQ   AX, DX
	JB     chunk

reduce:
	ADDPS  X1, X0
	MOVAPS X0, X2
	SHUFPS $0x4e, X2, X2
	ADDPS  X2, X0
	MOVAPS X0, X2
	SHUFPS $0xb1, X2, X2
	ADDPS  X2, X0

tail:
	CMPQ  AX, CX
	JAE   done
	MOVSS (DI)(AX*1), X2
	SUBSS (SI)(AX*1), X2
	MULSS X2, X2
	ADDSS X2, X0
	ADDQ  $4, AX
	JMP   tail

done:
	SQRTSS X0, X0
	MOVSS  X0, ret+48(FP)
	RET

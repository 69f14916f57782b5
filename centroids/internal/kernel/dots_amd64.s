//go:build amd64 && !purego

#include "textflag.h"

// tailmask<>+4*(8-t) is a VMASKMOVPS mask selecting the first t of 8 floats.
DATA tailmask<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask<>+24(SB)/8, $0xffffffffffffffff
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// func dotsAsm(dst, rows *float32, stride int, q *float32, n, k int)
//
// Rows are processed four at a time: each 16-float step loads the query once
// (Y8, Y9) and feeds eight independent FMA chains, two per row (Y0..Y7), so
// the FMA latency is hidden and the loop is bound by loads. A leftover
// 8-float block goes to a row's even accumulator and the masked tail
// (n mod 8 floats, query preloaded in Y14 with the excess lanes zero) to its
// odd one. Leftover rows (k mod 4) take the same steps one at a time with the
// same accumulator assignment and the same reduction tree, so a row's result
// does not depend on its position.
//
// Registers: DI dst, SI row 0 of the group, R10..R12 rows 1..3, DX stride in
// bytes, BX q, R8 rows left, AX byte offset in the row, R13 end of the
// 16-float steps, R14 end of the 8-float steps, R9 n mod 8.
TEXT ·dotsAsm(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ stride+16(FP), DX
	SHLQ $2, DX
	MOVQ q+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), R8

	MOVQ CX, R13
	ANDQ $-16, R13
	SHLQ $2, R13
	MOVQ CX, R14
	ANDQ $-8, R14
	SHLQ $2, R14
	MOVQ CX, R9
	ANDQ $7, R9
	MOVQ $8, AX
	SUBQ R9, AX
	LEAQ tailmask<>(SB), R10
	VMOVDQU (R10)(AX*4), Y15
	VMASKMOVPS (BX)(R14*1), Y15, Y14

loop4:
	CMPQ R8, $4
	JLT  loop1
	LEAQ (SI)(DX*1), R10
	LEAQ (SI)(DX*2), R11
	LEAQ (R10)(DX*2), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
	CMPQ AX, R13
	JAE  step8x4

step16x4:
	VMOVUPS     (BX)(AX*1), Y8
	VMOVUPS     32(BX)(AX*1), Y9
	VFMADD231PS (SI)(AX*1), Y8, Y0
	VFMADD231PS 32(SI)(AX*1), Y9, Y1
	VFMADD231PS (R10)(AX*1), Y8, Y2
	VFMADD231PS 32(R10)(AX*1), Y9, Y3
	VFMADD231PS (R11)(AX*1), Y8, Y4
	VFMADD231PS 32(R11)(AX*1), Y9, Y5
	VFMADD231PS (R12)(AX*1), Y8, Y6
	VFMADD231PS 32(R12)(AX*1), Y9, Y7
	ADDQ $64, AX
	CMPQ AX, R13
	JB   step16x4

step8x4:
	CMPQ AX, R14
	JAE  tailx4
	VMOVUPS     (BX)(AX*1), Y8
	VFMADD231PS (SI)(AX*1), Y8, Y0
	VFMADD231PS (R10)(AX*1), Y8, Y2
	VFMADD231PS (R11)(AX*1), Y8, Y4
	VFMADD231PS (R12)(AX*1), Y8, Y6
	ADDQ $32, AX

tailx4:
	TESTQ R9, R9
	JZ    reducex4
	VFMADD231PS (SI)(AX*1), Y14, Y1
	VFMADD231PS (R10)(AX*1), Y14, Y3
	VFMADD231PS (R11)(AX*1), Y14, Y5
	VFMADD231PS (R12)(AX*1), Y14, Y7

reducex4:
	// Per row: (even + odd), then lanes ((0+1)+(2+3)) + ((4+5)+(6+7)).
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y5, Y4, Y4
	VADDPS       Y7, Y6, Y6
	VHADDPS      Y2, Y0, Y0
	VHADDPS      Y6, Y4, Y4
	VHADDPS      Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	LEAQ         (SI)(DX*4), SI
	SUBQ         $4, R8
	JMP          loop4

loop1:
	TESTQ  R8, R8
	JZ     done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX
	CMPQ   AX, R13
	JAE    step8x1

step16x1:
	VMOVUPS     (BX)(AX*1), Y8
	VMOVUPS     32(BX)(AX*1), Y9
	VFMADD231PS (SI)(AX*1), Y8, Y0
	VFMADD231PS 32(SI)(AX*1), Y9, Y1
	ADDQ $64, AX
	CMPQ AX, R13
	JB   step16x1

step8x1:
	CMPQ AX, R14
	JAE  tailx1
	VMOVUPS     (BX)(AX*1), Y8
	VFMADD231PS (SI)(AX*1), Y8, Y0
	ADDQ $32, AX

tailx1:
	TESTQ R9, R9
	JZ    reducex1
	VFMADD231PS (SI)(AX*1), Y14, Y1

reducex1:
	VADDPS       Y1, Y0, Y0
	VHADDPS      Y0, Y0, Y0
	VHADDPS      Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         DX, SI
	DECQ         R8
	JMP          loop1

done:
	VZEROUPPER
	RET

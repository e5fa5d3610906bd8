//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels of the motion feature; motionVertGo and motionHorzGo are the reference
// computations they reproduce exactly.

// func motionVertAVX2(prev, cur *[5]*uint16, row *int32, n, bpc int) int32
//
// 16 columns per iteration. The differences (|d| < 2^10) and their symmetric sums fit
// int16, so (d0+d4, d1+d3) against (f0, f1) and (d2, 1) against (f2, round) are two
// signed multiply-adds. The two unpack halves (columns 0-3/8-11 and 4-7/12-15) are put
// back in order by vperm2i128 before the int32 stores. Returns the OR of all results.
TEXT ·motionVertAVX2(SB), NOSPLIT, $0-44
	MOVQ prev+0(FP), SI
	MOVQ cur+8(FP), DI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 0(DI), R13
	MOVQ 8(DI), R14
	MOVQ 16(DI), R15
	MOVQ 24(DI), SI
	MOVQ 32(DI), DI
	MOVQ bpc+32(FP), CX
	MOVQ CX, X15
	DECQ CX
	MOVQ $1, AX
	SHLQ CX, AX
	SHLQ $16, AX
	ORQ  $26386, AX         // f2 | round<<16
	MOVQ AX, X13
	VPBROADCASTD X13, Y13
	MOVQ row+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $1, CX
	VPXOR Y14, Y14, Y14
	XORQ BX, BX

mvloop:
	VMOVDQU    (R8)(BX*1), Y0
	VPSUBW     (R13)(BX*1), Y0, Y0
	VMOVDQU    (R12)(BX*1), Y1
	VPSUBW     (DI)(BX*1), Y1, Y1
	VPADDW     Y1, Y0, Y0
	VMOVDQU    (R9)(BX*1), Y1
	VPSUBW     (R14)(BX*1), Y1, Y1
	VMOVDQU    (R11)(BX*1), Y2
	VPSUBW     (SI)(BX*1), Y2, Y2
	VPADDW     Y2, Y1, Y1
	VMOVDQU    (R10)(BX*1), Y2
	VPSUBW     (R15)(BX*1), Y2, Y2
	VPUNPCKLWD Y1, Y0, Y3
	VPUNPCKHWD Y1, Y0, Y4
	VPMADDWD   motF01<>(SB), Y3, Y3
	VPMADDWD   motF01<>(SB), Y4, Y4
	VMOVDQU    motOnes<>(SB), Y0
	VPUNPCKLWD Y0, Y2, Y5
	VPUNPCKHWD Y0, Y2, Y6
	VPMADDWD   Y13, Y5, Y5
	VPMADDWD   Y13, Y6, Y6
	VPADDD     Y5, Y3, Y3
	VPADDD     Y6, Y4, Y4
	VPSRAD     X15, Y3, Y3
	VPSRAD     X15, Y4, Y4
	VPOR       Y3, Y14, Y14
	VPOR       Y4, Y14, Y14
	VPERM2I128 $0x20, Y4, Y3, Y5
	VPERM2I128 $0x31, Y4, Y3, Y6
	VMOVDQU    Y5, (DX)
	VMOVDQU    Y6, 32(DX)
	ADDQ $64, DX
	ADDQ $32, BX
	CMPQ BX, CX
	JB   mvloop

	VEXTRACTI128 $1, Y14, X13
	VPOR         X13, X14, X14
	VPSHUFD      $0x4E, X14, X13
	VPOR         X13, X14, X14
	VPSHUFD      $0xB1, X14, X13
	VPOR         X13, X14, X14
	VMOVD        X14, AX
	MOVL         AX, ret+40(FP)
	VZEROUPPER
	RET

// func motionHorzAVX2(row *int32, n int) uint64
//
// Outputs 2 .. 2+n-1 (n a positive multiple of 8; row[n+3] must exist), 8 per iteration,
// returning the sum of their absolute values. The products need more than 32 bits, so
// each value is split as r = 256·(r >> 8) + (r & 255): with A and B the filtered halves
// (both far below 2^31), (256·A + B + 2^15) >> 16 = (A + ((B + 2^15) >> 8)) >> 8 exactly.
TEXT ·motionHorzAVX2(SB), NOSPLIT, $0-24
	MOVQ row+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	VMOVDQU motC255<>(SB), Y14
	VPXOR   Y15, Y15, Y15
	XORQ    BX, BX

mhloop:
	VMOVDQU  0(SI)(BX*1), Y0
	VMOVDQU  16(SI)(BX*1), Y1
	VPSRAD   $8, Y0, Y2
	VPSRAD   $8, Y1, Y3
	VPADDD   Y3, Y2, Y2
	VPAND    Y14, Y0, Y0
	VPAND    Y14, Y1, Y1
	VPADDD   Y1, Y0, Y0
	VPMULLD  motF0<>(SB), Y2, Y2
	VPMULLD  motF0<>(SB), Y0, Y0
	VMOVDQU  4(SI)(BX*1), Y1
	VMOVDQU  12(SI)(BX*1), Y3
	VPSRAD   $8, Y1, Y4
	VPSRAD   $8, Y3, Y5
	VPADDD   Y5, Y4, Y4
	VPAND    Y14, Y1, Y1
	VPAND    Y14, Y3, Y3
	VPADDD   Y3, Y1, Y1
	VPMULLD  motF1<>(SB), Y4, Y4
	VPMULLD  motF1<>(SB), Y1, Y1
	VPADDD   Y4, Y2, Y2
	VPADDD   Y1, Y0, Y0
	VMOVDQU  8(SI)(BX*1), Y1
	VPSRAD   $8, Y1, Y4
	VPAND    Y14, Y1, Y1
	VPMULLD  motF2<>(SB), Y4, Y4
	VPMULLD  motF2<>(SB), Y1, Y1
	VPADDD   Y4, Y2, Y2
	VPADDD   Y1, Y0, Y0
	VPADDD   motC32768<>(SB), Y0, Y0
	VPSRAD   $8, Y0, Y0
	VPADDD   Y0, Y2, Y2
	VPSRAD   $8, Y2, Y2
	VPABSD   Y2, Y2
	VPADDD   Y2, Y15, Y15
	ADDQ $32, BX
	CMPQ BX, CX
	JB   mhloop

	VEXTRACTI128 $1, Y15, X14
	VPADDD       X14, X15, X15
	VPSHUFD      $0x4E, X15, X14
	VPADDD       X14, X15, X15
	VPSHUFD      $0xB1, X15, X14
	VPADDD       X14, X15, X15
	VMOVD        X15, AX
	MOVQ         AX, ret+16(FP)
	VZEROUPPER
	RET

DATA motF01<>+0(SB)/8, $0x3e840df33e840df3
DATA motF01<>+8(SB)/8, $0x3e840df33e840df3
DATA motF01<>+16(SB)/8, $0x3e840df33e840df3
DATA motF01<>+24(SB)/8, $0x3e840df33e840df3
GLOBL motF01<>(SB), RODATA|NOPTR, $32

DATA motOnes<>+0(SB)/8, $0x0001000100010001
DATA motOnes<>+8(SB)/8, $0x0001000100010001
DATA motOnes<>+16(SB)/8, $0x0001000100010001
DATA motOnes<>+24(SB)/8, $0x0001000100010001
GLOBL motOnes<>(SB), RODATA|NOPTR, $32

DATA motF0<>+0(SB)/8, $0x00000df300000df3
DATA motF0<>+8(SB)/8, $0x00000df300000df3
DATA motF0<>+16(SB)/8, $0x00000df300000df3
DATA motF0<>+24(SB)/8, $0x00000df300000df3
GLOBL motF0<>(SB), RODATA|NOPTR, $32

DATA motF1<>+0(SB)/8, $0x00003e8400003e84
DATA motF1<>+8(SB)/8, $0x00003e8400003e84
DATA motF1<>+16(SB)/8, $0x00003e8400003e84
DATA motF1<>+24(SB)/8, $0x00003e8400003e84
GLOBL motF1<>(SB), RODATA|NOPTR, $32

DATA motF2<>+0(SB)/8, $0x0000671200006712
DATA motF2<>+8(SB)/8, $0x0000671200006712
DATA motF2<>+16(SB)/8, $0x0000671200006712
DATA motF2<>+24(SB)/8, $0x0000671200006712
GLOBL motF2<>(SB), RODATA|NOPTR, $32

DATA motC255<>+0(SB)/8, $0x000000ff000000ff
DATA motC255<>+8(SB)/8, $0x000000ff000000ff
DATA motC255<>+16(SB)/8, $0x000000ff000000ff
DATA motC255<>+24(SB)/8, $0x000000ff000000ff
GLOBL motC255<>(SB), RODATA|NOPTR, $32

DATA motC32768<>+0(SB)/8, $0x0000800000008000
DATA motC32768<>+8(SB)/8, $0x0000800000008000
DATA motC32768<>+16(SB)/8, $0x0000800000008000
DATA motC32768<>+24(SB)/8, $0x0000800000008000
GLOBL motC32768<>(SB), RODATA|NOPTR, $32

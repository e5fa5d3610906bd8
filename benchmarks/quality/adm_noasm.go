//go:build !amd64 || purego

package quality

// admHaveAsm reports whether assembly kernels exist for this build; here they do not, and
// scores keeps to dwt's Go loops.
const admHaveAsm = false

// admDwtFastKernels are the Go kernels where there is no assembly.
var admDwtFastKernels = admDwtGoKernels

// admCsf0 is admCsf0Go where there is no assembly.
func admCsf0(src, dst, flt []int32, irf, add int32, sh uint) { admCsf0Go(src, dst, flt, irf, add, sh) }

// admDecouple0 is admDecouple0Go over a whole row where there is no assembly.
func admDecouple0(row *admDecoupleRow) { admDecouple0Go(row, 0, len(row.o[0])) }

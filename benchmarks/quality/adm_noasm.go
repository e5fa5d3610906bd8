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

// admCm0Row is admCm0RowGo over a whole row where there is no assembly.
func admCm0Row(nb []int32, masker, src *[3][]int32, p *admCm0Params) [3]int64 {
	return admCm0RowGo(nb, masker, src, p, 0, len(nb))
}

// admDwtNFastKernels are the Go kernels where there is no assembly.
var admDwtNFastKernels = admDwtNGoKernels

// admCube0Row is admCube0RowGo where there is no assembly.
func admCube0Row(row []int32) uint64 { return admCube0RowGo(row) }

// admSum9 is admSum9Go where there is no assembly.
func admSum9(rows *[9][]int32, col []int32, from, to int) { admSum9Go(rows, col, from, to) }

// admNb3 is admNb3Go where there is no assembly.
func admNb3(col []int32, c *[3][]int32, nb []int32, from, to int) { admNb3Go(col, c, nb, from, to) }

//go:build cgo

package codec

import "unsafe"

// copyPlaneC copies a w×h plane out of C memory into a Go slice.
func copyPlaneC(dst []byte, dstStride int, src unsafe.Pointer, srcStride, w, h int) {
	s := unsafe.Slice((*byte)(src), (h-1)*srcStride+w)
	for y := range h {
		copy(dst[y*dstStride:y*dstStride+w], s[y*srcStride:y*srcStride+w])
	}
}

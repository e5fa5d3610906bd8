//go:build !unix

package direct

func setBuffers(uintptr, int) {}

// Package examples is the index of small runnable programs that SDK users copy from; each
// sub-directory is one program.
package examples

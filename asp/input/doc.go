// Package input is the keyboard and mouse event model of ASP and its injection into an X
// display through XTEST.
package input

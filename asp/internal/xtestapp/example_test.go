package xtestapp_test

import (
	"fmt"

	"github.com/shadowless-dev/shadowless/asp/internal/xtestapp"
)

// Where the third typed key's block is drawn on a 640-pixel-wide screen, and in what colour.
func ExampleBlockRect() {
	fmt.Println(xtestapp.BlockRect(2, 640), xtestapp.ColorOf('a'))
	// Output: (80,16)-(104,40) {255 255 255 255}
}

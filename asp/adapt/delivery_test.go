package adapt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDeliveryMeter(t *testing.T) {
	t0 := time.Unix(100, 0)
	var m DeliveryMeter
	assert.Zero(t, m.Rate(t0), "no feedback yet")
	// Ten 1250-byte packets arriving 1 ms apart: 10 Mbit/s.
	var arr []time.Duration
	var sizes []int
	for i := range 10 {
		arr = append(arr, time.Second+time.Duration(i)*time.Millisecond)
		sizes = append(sizes, 1250)
	}
	m.Feedback(t0, arr, sizes)
	assert.Equal(t, int64(10_000_000), m.Rate(t0))
	// A slower sample does not lower the maximum inside the window.
	slow := make([]time.Duration, 10)
	for i := range slow {
		slow[i] = 2*time.Second + time.Duration(i)*5*time.Millisecond
	}
	m.Feedback(t0.Add(time.Second), slow, sizes)
	assert.Equal(t, int64(10_000_000), m.Rate(t0.Add(time.Second)))
	assert.Equal(t, int64(2_000_000), m.Rate(t0.Add(2500*time.Millisecond)), "the fast one aged out")
	// Too few packets or too short a span make no sample.
	m.Feedback(t0.Add(3*time.Second), arr[:3], sizes[:3])
	m.Feedback(t0.Add(3*time.Second), []time.Duration{0, 1000, 2000, 3000}, []int{1, 1, 1, 1})
	assert.Zero(t, m.Rate(t0.Add(4*time.Second)))
}

package client

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shadowless-dev/shadowless/asp"
	"github.com/shadowless-dev/shadowless/asp/capture"
)

// counter sums the series of a counter whose label has value.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// A PLI from the client (what it sends after a loss or a decode error) makes the server
// send a keyframe.
func TestPLIForcesKeyframe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	reg := prometheus.NewRegistry()
	open := func(context.Context) (*asp.Desktop, error) {
		return &asp.Desktop{Source: capture.NewSynthetic(160, 120, capture.SyntheticOptions{FPS: 30})}, nil
	}
	srv, err := asp.NewServer(open, asp.WithRegistry(reg), asp.WithSettingEngine(asp.LoopbackOnly))
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, hs.URL, Options{SettingEngine: asp.LoopbackOnly})
	require.NoError(t, err)
	<-c.Frames()
	keys := func() float64 { return counter(t, reg, "shadowless_asp_frames_total", "kind", "key") }
	before := keys()
	require.NoError(t, c.sendPLI())
	require.Eventually(t, func() bool {
		return counter(t, reg, "shadowless_asp_keyframe_requests_total", "source", "pli") >= 1 && keys() > before
	}, 5*time.Second, 10*time.Millisecond)
	assert.Zero(t, c.Counters().DecodeErrors)

	require.NoError(t, c.Close())
	_, open2 := <-c.Frames()
	for open2 { // drained and closed
		_, open2 = <-c.Frames()
	}
	require.Eventually(t, func() bool { return srv.Sessions() == 0 }, 10*time.Second, 20*time.Millisecond)
	hs.Close()
	require.NoError(t, srv.Close())
}

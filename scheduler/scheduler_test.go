package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCPU(t *testing.T) {
	for in, want := range map[string]int64{"100m": 100, "0.1": 100, "0.5": 500, "2": 2000, "1.25": 1250, ".5": 500, "0": 0, "3000m": 3000} {
		got, err := ParseCPU(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "0.0001", "abc", "1.2.3", "m", "-5m", "1e3", "+1"} {
		_, err := ParseCPU(in)
		assert.ErrorIs(t, err, ErrQuantity, in)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"4Gi": 4 << 30, "512Mi": 512 << 20, "1.5Gi": 3 << 29, "1000": 1000,
		"1G": 1e9, "2k": 2000, "1Ki": 1024, "0.5": 1, "1Ei": 1 << 60} {
		got, err := ParseBytes(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1Gi", "Gi", "1x", "9Ei", "1e9"} {
		_, err := ParseBytes(in)
		assert.ErrorIs(t, err, ErrQuantity, in)
	}
	assert.Equal(t, "4Gi", FormatBytes(4<<30))
	assert.Equal(t, "1.5Gi", FormatBytes(3<<29))
	assert.Equal(t, "512", FormatBytes(512))
}

func TestParseResources(t *testing.T) {
	r, err := ParseResources("cpu=0.5, memory=2Gi,disk=10G,gpu=1,encoder=2")
	require.NoError(t, err)
	assert.Equal(t, Resources{CPU: 500, Memory: 2 << 30, Disk: 10e9, GPU: 1, EncoderSlots: 2}, r)
	assert.Equal(t, "cpu=500m,memory=2Gi,disk=9.31Gi,gpu=1,encoder=2", r.String())
	_, err = ParseResources("cpus=1")
	assert.ErrorIs(t, err, ErrQuantity)
	_, err = ParseResources("gpu=-1")
	assert.ErrorIs(t, err, ErrQuantity)
	assert.Equal(t, int64(16), EncoderSlotCount(2, 8))
}

func TestSelector(t *testing.T) {
	sel, err := ParseSelector("zone in (a, b),gpu,!spot,tier!=low")
	require.NoError(t, err)
	require.Len(t, sel, 4)
	assert.Equal(t, "zone in (a,b),gpu,!spot,tier!=low", sel.String())
	assert.True(t, sel.Matches(map[string]string{"zone": "a", "gpu": "x"}))
	assert.False(t, sel.Matches(map[string]string{"zone": "c", "gpu": "x"}))
	assert.False(t, sel.Matches(map[string]string{"zone": "a"}))
	assert.False(t, sel.Matches(map[string]string{"zone": "a", "gpu": "", "spot": "1"}))
	assert.False(t, sel.Matches(map[string]string{"zone": "b", "gpu": "", "tier": "low"}))
	sel2, err := ParseSelector("zone=a,pool notin (gpu)")
	require.NoError(t, err)
	assert.True(t, sel2.Matches(map[string]string{"zone": "a"}))
	assert.False(t, sel2.Matches(map[string]string{"zone": "a", "pool": "gpu"}))
	for _, bad := range []string{"zone in a", "=x", "zone in (a,)", ",", "a b"} {
		_, err := ParseSelector(bad)
		assert.Error(t, err, bad)
	}
}

func newTestScheduler(t testing.TB, opts ...Option) *Scheduler {
	t.Helper()
	s, err := New(opts...)
	require.NoError(t, err)
	return s
}

func cpuMem(cpu int64, memGi int64) Resources { return Resources{CPU: cpu, Memory: memGi << 30} }

func TestLeastAndMostAllocated(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		typ  ScoringType
		want string
	}{{LeastAllocated, "empty"}, {MostAllocated, "busy"}} {
		strat := DefaultScoringStrategy()
		strat.Type = tc.typ
		s := newTestScheduler(t, WithScoringStrategy(strat))
		require.NoError(t, s.AddNode(Node{Name: "busy", Capacity: cpuMem(8000, 32), Labels: map[string]string{"seed": "yes"}}))
		require.NoError(t, s.AddNode(Node{Name: "empty", Capacity: cpuMem(8000, 32)}))
		_, err := s.Place(ctx, &Request{ID: "seed", Resources: cpuMem(4000, 16), NodeSelector: map[string]string{"seed": "yes"}})
		require.NoError(t, err)
		p, err := s.Place(ctx, &Request{ID: "r", Resources: cpuMem(1000, 4)})
		require.NoError(t, err)
		assert.Equal(t, tc.want, p.Node, tc.typ.String())
		want := resourceScore(strat, cpuMem(8000, 32), map[string]Resources{"busy": cpuMem(4000, 16), "empty": {}}[tc.want], cpuMem(1000, 4))
		assert.InDelta(t, want, p.Score, 1e-9)
	}
}

func TestResourceScoreFormula(t *testing.T) {
	s := DefaultScoringStrategy()
	// (8000-(2000+2000))/8000 = 0.5 for cpu, (32-(8+8))/32 = 0.5 for memory → 50
	assert.InDelta(t, 50.0, resourceScore(s, cpuMem(8000, 32), cpuMem(2000, 8), cpuMem(2000, 8)), 1e-9)
	s.Weights[Memory] = 3 // cpu 0.75 free, memory 0.25 free → (0.75+3·0.25)/4 = 0.375
	assert.InDelta(t, 37.5, resourceScore(s, cpuMem(8000, 32), cpuMem(0, 16), cpuMem(2000, 8)), 1e-9)
	s.Type = MostAllocated
	assert.InDelta(t, 62.5, resourceScore(s, cpuMem(8000, 32), cpuMem(0, 16), cpuMem(2000, 8)), 1e-9)
}

func TestNoFitExplains(t *testing.T) {
	ctx := context.Background()
	s := newTestScheduler(t)
	require.NoError(t, s.AddNode(Node{Name: "h17", Capacity: cpuMem(8000, 32)}))
	require.NoError(t, s.AddNode(Node{Name: "h18", Capacity: cpuMem(8000, 32), Draining: true}))
	require.NoError(t, s.AddNode(Node{Name: "h19", Capacity: cpuMem(8000, 32), Labels: map[string]string{"zone": "b"}}))
	require.NoError(t, s.AddNode(Node{Name: "h20", Capacity: cpuMem(1000, 2), Unhealthy: true, Unschedulable: true}))
	_, err := s.Place(ctx, &Request{ID: "fill", Resources: cpuMem(7500, 4), NodeSelector: map[string]string{}, Volumes: nil,
		Affinity: &NodeAffinity{Required: []Selector{{{Key: "zone", Operator: DoesNotExist}}}}})
	require.NoError(t, err)

	_, err = s.Place(ctx, &Request{ID: "big", Resources: cpuMem(2000, 1), NodeSelector: map[string]string{"zone": "a"}})
	require.Error(t, err)
	var nf *NoFitError
	require.ErrorAs(t, err, &nf)
	assert.ErrorIs(t, err, ErrNoFit)
	assert.Equal(t, 4, nf.TotalNodes)
	h17, ok := nf.Node("h17")
	require.True(t, ok)
	assert.Equal(t, "node h17: insufficient cpu: requested 2000m, free 500m of 8000m; node selector wants label zone=a; the node has no zone label", h17.String())
	h18, _ := nf.Node("h18")
	assert.Equal(t, "node h18: node is draining (being emptied for scale-in or maintenance); it takes no new sessions", h18.String())
	h19, _ := nf.Node("h19")
	assert.Equal(t, "node h19: node selector wants label zone=a; the node has zone=b", h19.String())
	h20, _ := nf.Node("h20")
	assert.Contains(t, h20.String(), "failed its health checks and is cordoned")
	assert.Equal(t, 2, nf.Count("node affinity mismatch"))
	assert.Equal(t, 1, nf.Count("insufficient cpu"))
	assert.Equal(t, 1, nf.Count("draining"))
	assert.Equal(t, "request big: 0/4 nodes available: 2 node affinity mismatch, 1 cordoned, 1 draining, 1 insufficient cpu, 1 unhealthy", err.Error())
	assert.Contains(t, nf.Explain(2), "... and 2 more nodes")

	// a request bigger than any node says so
	_, err = s.Place(ctx, &Request{ID: "huge", Resources: cpuMem(1000, 64)})
	require.ErrorAs(t, err, &nf)
	h19, _ = nf.Node("h19")
	assert.Equal(t, "node h19: insufficient memory: requested 64Gi, node has only 32Gi in total", h19.String())

	// invalid request is rejected up front
	_, err = s.Place(ctx, &Request{ID: "neg", Resources: Resources{CPU: -1}})
	require.ErrorAs(t, err, &nf)
	require.NotNil(t, nf.PreFilter)
	assert.Contains(t, err.Error(), "negative amount of cpu")

	// no nodes at all
	empty := newTestScheduler(t)
	_, err = empty.Place(ctx, &Request{ID: "x", Resources: cpuMem(1, 1)})
	assert.EqualError(t, err, "request x: 0/0 nodes available: no nodes are registered")
}

func TestFiltersTaintsVolumesAffinity(t *testing.T) {
	ctx := context.Background()
	s := newTestScheduler(t)
	require.NoError(t, s.AddNode(Node{Name: "gpu", Capacity: Resources{CPU: 64000, Memory: 256 << 30, GPU: 4},
		Taints: []Taint{{Key: "gpu", Value: "true", Effect: NoSchedule}, {Key: "soft", Effect: PreferNoSchedule}}}))
	require.NoError(t, s.AddNode(Node{Name: "plain", Capacity: cpuMem(8000, 32), Volumes: []string{"pool-a"},
		Labels: map[string]string{"zone": "a", "ssd": "yes"}}))
	require.NoError(t, s.AddNode(Node{Name: "plain2", Capacity: cpuMem(8000, 32), Volumes: []string{"pool-b"},
		Labels: map[string]string{"zone": "b"}}))

	p, err := s.Place(ctx, &Request{ID: "v", Resources: cpuMem(100, 1), Volumes: []string{"pool-b"}})
	require.NoError(t, err)
	assert.Equal(t, "plain2", p.Node)

	p, err = s.Place(ctx, &Request{ID: "g", Resources: Resources{CPU: 1000, GPU: 1},
		Tolerations: []Toleration{{Key: "gpu", Operator: TolerateEqual, Value: "true", Effect: NoSchedule}}})
	require.NoError(t, err)
	assert.Equal(t, "gpu", p.Node)

	_, err = s.Place(ctx, &Request{ID: "g2", Resources: Resources{CPU: 1000, GPU: 1}})
	var nf *NoFitError
	require.ErrorAs(t, err, &nf)
	r, _ := nf.Node("gpu")
	assert.Equal(t, "node gpu: node has taint gpu=true:NoSchedule that the request does not tolerate", r.String())
	r, _ = nf.Node("plain")
	assert.Equal(t, "node plain: insufficient gpu: requested 1, node has only 0 in total", r.String())

	_, err = s.Place(ctx, &Request{ID: "vol", Resources: cpuMem(100, 1), Volumes: []string{"pool-c"}})
	require.ErrorAs(t, err, &nf)
	r, _ = nf.Node("plain")
	assert.Equal(t, `node plain: cannot mount volume "pool-c" (this node mounts: pool-a)`, r.String())
	r, _ = nf.Node("gpu")
	assert.Contains(t, r.String(), `cannot mount volume "pool-c" (this node mounts: none)`)

	// preferred affinity pulls toward ssd even though plain2 is emptier
	p, err = s.Place(ctx, &Request{ID: "pref", Resources: cpuMem(100, 1), Affinity: &NodeAffinity{
		Required:  []Selector{{{Key: "zone", Operator: In, Values: []string{"a", "b"}}}},
		Preferred: []PreferredTerm{{Weight: 10, Selector: Selector{{Key: "ssd", Operator: Exists}}}}}})
	require.NoError(t, err)
	assert.Equal(t, "plain", p.Node)

	_, err = s.Place(ctx, &Request{ID: "req", Resources: cpuMem(100, 1), Affinity: &NodeAffinity{
		Required: []Selector{{{Key: "zone", Operator: In, Values: []string{"c"}}}, {{Key: "rack", Operator: Exists}}}}})
	require.ErrorAs(t, err, &nf)
	r, _ = nf.Node("plain")
	assert.Equal(t, "node plain: required affinity (zone=c) or (rack) matches none of the node's labels {ssd=yes,zone=a}", r.String())
}

func TestNodeLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newTestScheduler(t)
	require.NoError(t, s.AddNode(Node{Name: "a", Capacity: cpuMem(4000, 8)}))
	assert.ErrorIs(t, s.AddNode(Node{Name: "a", Capacity: cpuMem(4000, 8)}), ErrDuplicateNode)
	assert.ErrorIs(t, s.AddNode(Node{Name: "", Capacity: cpuMem(4000, 8)}), ErrInvalidNode)
	assert.ErrorIs(t, s.AddNode(Node{Name: "n", Capacity: Resources{CPU: -1}}), ErrInvalidNode)
	assert.ErrorIs(t, s.UpdateNode(Node{Name: "zz"}), ErrUnknownNode)
	assert.ErrorIs(t, s.RemoveNode("zz"), ErrUnknownNode)
	assert.ErrorIs(t, s.SetNodeState("zz", true, false, false), ErrUnknownNode)

	p, err := s.Place(ctx, &Request{ID: "1", Resources: cpuMem(3000, 4)})
	require.NoError(t, err)
	st, err := s.Node("a")
	require.NoError(t, err)
	assert.Equal(t, cpuMem(3000, 4), st.Allocated)
	assert.Equal(t, 1, st.Sessions)

	// shrinking below the allocation is allowed; nothing new fits
	require.NoError(t, s.UpdateNode(Node{Name: "a", Capacity: cpuMem(2000, 8)}))
	_, err = s.Place(ctx, &Request{ID: "2", Resources: cpuMem(100, 1)})
	assert.ErrorIs(t, err, ErrNoFit)
	require.NoError(t, s.Release(ctx, p))
	assert.ErrorIs(t, s.Release(ctx, p), ErrNotPlaced)
	p, err = s.Place(ctx, &Request{ID: "3", Resources: cpuMem(100, 1)})
	require.NoError(t, err)

	require.NoError(t, s.SetNodeState("a", false, true, false))
	_, err = s.Place(ctx, &Request{ID: "4", Resources: cpuMem(100, 1)})
	assert.ErrorContains(t, err, "1 draining")
	require.NoError(t, s.SetNodeState("a", false, false, false))

	require.NoError(t, s.RemoveNode("a"))
	assert.NoError(t, s.Release(ctx, p), "releasing on a removed node is a no-op")
	require.NoError(t, s.AddNode(Node{Name: "b", Capacity: cpuMem(4000, 8)})) // reuses the slot
	st, err = s.Node("b")
	require.NoError(t, err)
	assert.Equal(t, Resources{}, st.Allocated)
	stats := s.Stats()
	assert.Equal(t, 1, stats.Nodes)
	assert.Equal(t, 0, stats.Placements)
	assert.Len(t, s.Nodes(), 1)
}

func TestProfileValidation(t *testing.T) {
	_, err := New(WithProfile(Profile{Score: []WeightedPlugin{{NodeAffinityName, 1}}}))
	assert.ErrorContains(t, err, "must list NodeResourcesFit")
	_, err = New(WithProfile(Profile{Filter: []string{"Nope"}, Score: []WeightedPlugin{{NodeResourcesName, 1}}}))
	assert.ErrorContains(t, err, `plugin "Nope" is not in the registry`)
	_, err = New(WithProfile(Profile{Filter: []string{NodeStatusName}, Bind: []string{NodeStatusName}, Score: []WeightedPlugin{{NodeResourcesName, 1}}}))
	assert.ErrorContains(t, err, "is not a bind plugin")
	_, err = New(WithTolerance(1))
	assert.Error(t, err)
	st := DefaultScoringStrategy()
	st.Weights[GPU] = -1
	_, err = New(WithScoringStrategy(st))
	assert.Error(t, err)
}

// recorder is a reserve and bind plugin that can be told to fail.
type recorder struct {
	mu       sync.Mutex
	events   []string
	failBind bool
}

func (r *recorder) Name() string { return "Recorder" }
func (r *recorder) log(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}
func (r *recorder) Reserve(_ context.Context, _ *CycleState, req *Request, node string) *Status {
	r.log("reserve " + req.ID + "@" + node)
	return nil
}
func (r *recorder) Unreserve(_ context.Context, _ *CycleState, req *Request, node string) {
	r.log("unreserve " + req.ID + "@" + node)
}
func (r *recorder) Bind(_ context.Context, _ *CycleState, req *Request, node string) *Status {
	if r.failBind {
		return AsStatus(errors.New("host agent unreachable"))
	}
	r.log("bind " + req.ID + "@" + node)
	return nil
}

// spreadScore is a normalizing plugin: it prefers nodes with fewer sessions, rescaled so the
// best candidate gets 100.
type spreadScore struct{}

func (spreadScore) Name() string { return "Spread" }
func (spreadScore) Score(_ context.Context, _ *CycleState, _ *Request, ni *NodeInfo) (float64, *Status) {
	return float64(-ni.Sessions()), nil
}
func (spreadScore) NormalizeScores(_ context.Context, _ *CycleState, _ *Request, scores []NodeScore) *Status {
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi > lo {
			scores[i].Score = MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
		} else {
			scores[i].Score = MaxNodeScore
		}
	}
	return nil
}

func TestReserveBindNormalize(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	reg := DefaultRegistry()
	reg["Recorder"] = func(Handle) (Plugin, error) { return rec, nil }
	reg["Spread"] = func(Handle) (Plugin, error) { return spreadScore{}, nil }
	prof := DefaultProfile()
	prof.Reserve = []string{"Recorder"}
	prof.Bind = []string{"Recorder"}
	prof.Score = []WeightedPlugin{{NodeResourcesName, 0}, {"Spread", 1}}
	s := newTestScheduler(t, WithRegistry(reg), WithProfile(prof))
	require.NoError(t, s.AddNode(Node{Name: "a", Capacity: cpuMem(4000, 8)}))
	require.NoError(t, s.AddNode(Node{Name: "b", Capacity: cpuMem(8000, 8)}))
	p1, err := s.Place(ctx, &Request{ID: "1", Resources: cpuMem(100, 1)})
	require.NoError(t, err)
	p2, err := s.Place(ctx, &Request{ID: "2", Resources: cpuMem(100, 1)})
	require.NoError(t, err)
	assert.NotEqual(t, p1.Node, p2.Node, "spread puts the second session on the other node")
	require.NoError(t, s.Release(ctx, p1))
	assert.Equal(t, []string{"reserve 1@" + p1.Node, "bind 1@" + p1.Node, "reserve 2@" + p2.Node, "bind 2@" + p2.Node,
		"unreserve 1@" + p1.Node}, rec.events)

	rec.failBind = true
	_, err = s.Place(ctx, &Request{ID: "3", Resources: cpuMem(100, 1)})
	assert.ErrorContains(t, err, "host agent unreachable")
	assert.Equal(t, 1, s.Stats().Placements, "a failed bind gives the resources back")
	assert.Contains(t, rec.events[len(rec.events)-1], "unreserve 3@")
}

// TestPropertyNoOvercommitConcurrent places and releases random requests from many goroutines
// on random clusters and checks that no node's allocation ever exceeds its capacity and that
// the books balance at the end.
func TestPropertyNoOvercommitConcurrent(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		strat := DefaultScoringStrategy()
		if seed%2 == 0 {
			strat.Type = MostAllocated
		}
		s := newTestScheduler(t, WithScoringStrategy(strat), WithIndexedLabels("zone"))
		nodes := 20 + rng.IntN(40)
		for i := range nodes {
			require.NoError(t, s.AddNode(randomNode(rng, i)))
		}
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(w)))
				var mine []Placement
				for i := range 300 {
					if len(mine) > 0 && r.IntN(3) == 0 {
						k := r.IntN(len(mine))
						if err := s.Release(ctx, mine[k]); err != nil {
							errs <- err
							return
						}
						mine[k] = mine[len(mine)-1]
						mine = mine[:len(mine)-1]
						continue
					}
					p, err := s.Place(ctx, randomRequest(r, w*1000+i))
					if err != nil {
						if !errors.Is(err, ErrNoFit) {
							errs <- err
							return
						}
						continue
					}
					mine = append(mine, p)
				}
				for _, p := range mine {
					if err := s.Release(ctx, p); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		// check invariants while the workers run
		for range 20 {
			for _, n := range s.Nodes() {
				require.True(t, n.Allocated.Fits(n.Node.Capacity), "node %s over-committed: %v of %v", n.Node.Name, n.Allocated, n.Node.Capacity)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		for _, n := range s.Nodes() {
			assert.Equal(t, Resources{}, n.Allocated, "node %s", n.Node.Name)
			assert.Equal(t, 0, n.Sessions)
		}
		checkIndex(t, s)
	}
}

// checkIndex verifies the index: every schedulable node is in exactly the bucket its free
// score says, and nothing else is indexed.
func checkIndex(t *testing.T, s *Scheduler) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[int32]bool{}
	for ci, sc := range s.classes {
		total := 0
		for b := range sc.buckets {
			lst := sc.buckets[b]
			total += len(lst)
			assert.Equal(t, len(lst) > 0, sc.bits[b>>6]&(1<<(uint(b)&63)) != 0, "bitset of bucket %d", b)
			for pos, idx := range lst {
				ni := s.nodes[idx]
				assert.False(t, seen[idx])
				seen[idx] = true
				assert.Equal(t, int32(ci), ni.class)
				assert.Equal(t, int32(b), ni.bucket)
				assert.Equal(t, int32(pos), ni.pos)
				assert.Equal(t, bucketOf(freeScore(ni)), int32(b))
				assert.Equal(t, s.bandOf(ni), sc.key.band)
			}
		}
		assert.Equal(t, sc.count, total)
	}
	for name, idx := range s.byName {
		assert.Equal(t, s.nodes[idx].node.Schedulable(), seen[idx], name)
	}
}

// TestPropertyIndexedWithinOnePercent compares the indexed search with an exhaustive scan over
// many random clusters and requests: the chosen node's score must be within 1% of the best.
func TestPropertyIndexedWithinOnePercent(t *testing.T) {
	ctx := context.Background()
	checked, exact := 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		strat := DefaultScoringStrategy()
		if seed%3 == 0 {
			strat.Type = MostAllocated
		}
		if seed%4 == 0 {
			strat.Weights = [NumResources]float64{CPU: 1 + rng.Float64()*3, Memory: rng.Float64() * 2, Disk: rng.Float64(), GPU: 1, EncoderSlots: 1}
		}
		opts := []Option{WithScoringStrategy(strat)}
		if seed%2 == 1 {
			opts = append(opts, WithIndexedLabels("zone", "pool"))
		}
		s := newTestScheduler(t, opts...)
		n := 50 + rng.IntN(400)
		for i := range n {
			require.NoError(t, s.AddNode(randomNode(rng, i)))
		}
		var held []Placement
		for i := range 400 {
			req := randomRequest(rng, i)
			if rng.IntN(5) == 0 {
				req.Affinity = &NodeAffinity{Preferred: []PreferredTerm{{Weight: 1 + rng.IntN(50), Selector: Selector{{Key: "zone", Operator: In, Values: []string{"c"}}}}}}
			}
			c := &cycle{}
			s.mu.RLock()
			fast, err := s.search(ctx, c, req, false)
			require.NoError(t, err)
			full, err := s.search(ctx, c, req, true)
			require.NoError(t, err)
			s.mu.RUnlock()
			require.Equal(t, full.found, fast.found, "seed %d req %d", seed, i)
			if full.found {
				checked++
				require.GreaterOrEqual(t, fast.score, 0.99*full.score-1e-9, "seed %d req %d: indexed %.4f vs exhaustive %.4f", seed, i, fast.score, full.score)
				if fast.score >= full.score-1e-9 {
					exact++
				}
				// the reported score is the reference score of the chosen node
				s.mu.RLock()
				ni := s.nodes[fast.idx]
				ref := s.fw.resWeight * resourceScore(strat, ni.node.Capacity, ni.allocated, req.Resources)
				aff, _ := nodeAffinity{}.Score(ctx, nil, req, ni)
				s.mu.RUnlock()
				require.InDelta(t, ref+aff, fast.score, 1e-6)
			}
			p, err := s.Place(ctx, req)
			if err == nil {
				held = append(held, p)
			}
			if len(held) > 0 && rng.IntN(4) == 0 {
				k := rng.IntN(len(held))
				require.NoError(t, s.Release(ctx, held[k]))
				held = append(held[:k], held[k+1:]...)
			}
			if rng.IntN(50) == 0 { // churn node states
				name := fmt.Sprintf("h%05d", rng.IntN(n))
				require.NoError(t, s.SetNodeState(name, false, rng.IntN(2) == 0, false))
			}
		}
		checkIndex(t, s)
	}
	require.Greater(t, checked, 10000)
	t.Logf("%d comparisons, %d exact", checked, exact)
}

// TestZeroToleranceIsExact: with tolerance 0 the indexed search finds the exhaustive best.
func TestZeroToleranceIsExact(t *testing.T) {
	ctx := context.Background()
	for seed := uint64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		strat := DefaultScoringStrategy()
		if seed%2 == 0 {
			strat.Type = MostAllocated
		}
		s := newTestScheduler(t, WithScoringStrategy(strat), WithTolerance(0), WithIndexedLabels("zone"))
		for i := range 200 {
			require.NoError(t, s.AddNode(randomNode(rng, i)))
		}
		for i := range 300 {
			req := randomRequest(rng, i)
			c := &cycle{}
			s.mu.RLock()
			fast, err := s.search(ctx, c, req, false)
			require.NoError(t, err)
			full, err := s.search(ctx, c, req, true)
			require.NoError(t, err)
			s.mu.RUnlock()
			require.Equal(t, full.found, fast.found)
			if full.found {
				require.InDelta(t, full.score, fast.score, 1e-9, "seed %d req %d", seed, i)
			}
			_, _ = s.Place(ctx, req)
		}
	}
}

// TestIndexedEvaluatesFewNodes shows the search does not scan the fleet.
func TestIndexedEvaluatesFewNodes(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	s := newTestScheduler(t)
	for i := range 3000 {
		require.NoError(t, s.AddNode(randomNode(rng, i)))
	}
	total, visited := 0, 0
	const n = 2000
	for i := range n {
		p, err := s.Place(ctx, randomRequest(rng, i))
		require.NoError(t, err)
		total += p.Evaluated
		visited += p.Visited
		assert.LessOrEqual(t, p.Evaluated, p.Visited)
	}
	avg := float64(total) / n
	assert.Less(t, avg, 100.0, "mean nodes scored per placement")
	assert.Less(t, float64(visited)/n, 300.0, "mean nodes visited per placement (a tenth of the fleet)")
	t.Logf("mean nodes scored: %.1f, visited %.1f of 3000", avg, float64(visited)/n)
	assert.True(t, strings.HasPrefix(s.Nodes()[0].Node.Name, "h"))
}

// TestContendedPlacementExact races many goroutines for a tiny fleet: exactly as many
// placements succeed as fit, and none beyond.
func TestContendedPlacementExact(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		s := newTestScheduler(t)
		for i := range 3 {
			require.NoError(t, s.AddNode(Node{Name: fmt.Sprintf("n%d", i), Capacity: cpuMem(4000, 16)}))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, nofit := 0, 0
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 3 {
					_, err := s.Place(ctx, &Request{ID: fmt.Sprintf("r%d-%d", w, i), Resources: cpuMem(1000, 1)})
					mu.Lock()
					if err == nil {
						ok++
					} else {
						assert.ErrorIs(t, err, ErrNoFit)
						nofit++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 12, ok, "round %d: 3 nodes × 4 cores take exactly 12 one-core sessions", round)
		require.Equal(t, 48-12, nofit)
		for _, n := range s.Nodes() {
			require.Equal(t, int64(4000), n.Allocated[CPU], "round %d node %s", round, n.Node.Name)
			require.Equal(t, 4, n.Sessions)
		}
	}
}

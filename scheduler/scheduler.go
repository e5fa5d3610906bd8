package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
)

// Errors callers can branch on (besides *NoFitError, which wraps ErrNoFit).
var (
	// ErrNoFit is wrapped by every *NoFitError.
	ErrNoFit = errors.New("no node fits")
	// ErrUnknownNode: no node has that name.
	ErrUnknownNode = errors.New("unknown node")
	// ErrDuplicateNode: AddNode with a name already present.
	ErrDuplicateNode = errors.New("node already exists")
	// ErrNotPlaced: Release of a placement that is not (or no longer) held.
	ErrNotPlaced = errors.New("placement is not held")
	// ErrInvalidNode: a node description that cannot be used (empty name, negative capacity).
	ErrInvalidNode = errors.New("invalid node")
)

// Placement is the outcome of a successful Place: where the session runs and what it holds
// there. Give it back with Release when the session ends.
type Placement struct {
	// Request is the request's ID.
	Request string
	// Node is the chosen node's name.
	Node string
	// Resources is what was reserved on the node.
	Resources Resources
	// Score is the chosen node's total weighted score.
	Score float64
	// Evaluated is how many nodes passed the filters and were scored.
	Evaluated int
	// Visited is how many nodes the search looked at.
	Visited int

	id  uint64
	req *Request
}

type held struct {
	idx int32
	gen uint32
	res Resources
}

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithScoringStrategy sets the NodeResourcesFit strategy (default DefaultScoringStrategy).
func WithScoringStrategy(s ScoringStrategy) Option { return func(x *Scheduler) { x.strategy = s } }

// WithRegistry replaces the plugin registry (default DefaultRegistry()).
func WithRegistry(r Registry) Option { return func(x *Scheduler) { x.registry = r } }

// WithProfile sets which plugins run at each extension point (default DefaultProfile()).
func WithProfile(p Profile) Option { return func(x *Scheduler) { x.profile = p } }

// WithTolerance sets how far below the exhaustive best the chosen node's score may be, as a
// fraction (default 0.005, i.e. within 0.5%). 0 makes the indexed search exact.
func WithTolerance(f float64) Option { return func(x *Scheduler) { x.tolerance = f } }

// WithExhaustiveSearch makes every placement evaluate every schedulable node. It is the
// baseline the indexed search is measured against; do not use it in production.
func WithExhaustiveSearch() Option { return func(x *Scheduler) { x.exhaustive = true } }

// WithIndexedLabels names node labels (such as "zone" or "pool") that have few distinct
// values and that requests select on. Nodes are indexed by their values, so a selector on
// them rules out whole groups of nodes at once instead of node by node. Do not index labels
// that are unique per node (hostname).
func WithIndexedLabels(keys ...string) Option {
	return func(x *Scheduler) { x.indexedLabels = append([]string(nil), keys...) }
}

// WithLogger sets the logger for rare events (retries under contention, plugin errors).
func WithLogger(l *slog.Logger) Option { return func(x *Scheduler) { x.logger = l } }

// Scheduler places requests on nodes. It is safe for concurrent use: searches run in parallel
// under a read lock, and a choice is committed under the write lock only after re-checking the
// node if it changed in between, so a node is never over-committed.
type Scheduler struct {
	strategy      ScoringStrategy
	registry      Registry
	profile       Profile
	tolerance     float64
	exhaustive    bool
	indexedLabels []string
	logger        *slog.Logger
	fw            *framework

	mu         sync.RWMutex
	nodes      []*NodeInfo
	byName     map[string]int32
	freeSlots  []int32
	classes    []*shapeClass
	classByKey map[classKey]int32
	held       map[uint64]held
	nextID     uint64

	pool sync.Pool
}

// New returns a Scheduler with no nodes.
func New(opts ...Option) (*Scheduler, error) {
	s := &Scheduler{
		strategy:   DefaultScoringStrategy(),
		registry:   DefaultRegistry(),
		profile:    DefaultProfile(),
		tolerance:  0.005,
		byName:     map[string]int32{},
		classByKey: map[classKey]int32{},
		held:       map[uint64]held{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.tolerance < 0 || s.tolerance >= 1 || math.IsNaN(s.tolerance) {
		return nil, fmt.Errorf("scheduler: tolerance %v out of range [0,1)", s.tolerance)
	}
	for r, w := range s.strategy.Weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("scheduler: weight of %s is %v; want ≥ 0", Resource(r), w)
		}
	}
	fw, err := buildFramework(s.registry, s.profile, s)
	if err != nil {
		return nil, err
	}
	s.fw = fw
	s.pool.New = func() any { return &cycle{} }
	return s, nil
}

// ScoringStrategy implements Handle.
func (s *Scheduler) ScoringStrategy() ScoringStrategy { return s.strategy }

func validateNode(n *Node) error {
	if n.Name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidNode)
	}
	for r, v := range n.Capacity {
		if v < 0 {
			return fmt.Errorf("%w: node %s has negative %s capacity", ErrInvalidNode, n.Name, Resource(r))
		}
	}
	return nil
}

// AddNode registers a node.
func (s *Scheduler) AddNode(n Node) error {
	if err := validateNode(&n); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byName[n.Name]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicateNode, n.Name)
	}
	var idx int32
	if k := len(s.freeSlots); k > 0 {
		idx = s.freeSlots[k-1]
		s.freeSlots = s.freeSlots[:k-1]
		old := s.nodes[idx]
		s.nodes[idx] = &NodeInfo{node: n.clone(), idx: idx, gen: old.gen + 1}
	} else {
		idx = int32(len(s.nodes))
		s.nodes = append(s.nodes, &NodeInfo{node: n.clone(), idx: idx})
	}
	s.byName[n.Name] = idx
	s.indexNode(s.nodes[idx])
	return nil
}

// UpdateNode replaces a node's description (capacity, labels, taints, volumes, state),
// keeping what is allocated on it. A capacity below the allocation is allowed: the node then
// takes nothing new until sessions end.
func (s *Scheduler) UpdateNode(n Node) error {
	if err := validateNode(&n); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, ok := s.byName[n.Name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, n.Name)
	}
	ni := s.nodes[idx]
	s.unindexNode(ni)
	ni.node = n.clone()
	ni.version++
	s.indexNode(ni)
	return nil
}

// SetNodeState changes a node's cordon, drain and health flags.
func (s *Scheduler) SetNodeState(name string, unschedulable, draining, unhealthy bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, name)
	}
	ni := s.nodes[idx]
	s.unindexNode(ni)
	ni.node.Unschedulable, ni.node.Draining, ni.node.Unhealthy = unschedulable, draining, unhealthy
	ni.version++
	s.indexNode(ni)
	return nil
}

// RemoveNode forgets a node. Placements on it are dropped; releasing them later is a no-op.
func (s *Scheduler) RemoveNode(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNode, name)
	}
	ni := s.nodes[idx]
	s.unindexNode(ni)
	ni.removed = true
	ni.version++
	delete(s.byName, name)
	s.freeSlots = append(s.freeSlots, idx)
	return nil
}

// NodeStatus is a snapshot of one node for callers (autoscaler, CLI, metrics).
type NodeStatus struct {
	Node      Node
	Allocated Resources
	Sessions  int
}

// Nodes returns a snapshot of every node, sorted by name.
func (s *Scheduler) Nodes() []NodeStatus {
	s.mu.RLock()
	out := make([]NodeStatus, 0, len(s.byName))
	for _, idx := range s.byName {
		ni := s.nodes[idx]
		out = append(out, NodeStatus{Node: ni.node.clone(), Allocated: ni.allocated, Sessions: ni.sessions})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Node.Name < out[j].Node.Name })
	return out
}

// Node returns a snapshot of one node.
func (s *Scheduler) Node(name string) (NodeStatus, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.byName[name]
	if !ok {
		return NodeStatus{}, fmt.Errorf("%w: %s", ErrUnknownNode, name)
	}
	ni := s.nodes[idx]
	return NodeStatus{Node: ni.node.clone(), Allocated: ni.allocated, Sessions: ni.sessions}, nil
}

// cycle is the pooled scratch of one placement.
type cycle struct {
	st      CycleState
	cursors []cursor
	cands   []candidate
	norm    []NodeScore
}

type candidate struct {
	idx   int32
	ver   uint64
	res   float64
	other []float64
}

// searchResult is the outcome of one indexed search.
type searchResult struct {
	idx       int32
	gen       uint32
	ver       uint64
	score     float64
	evaluated int
	visited   int
	found     bool
}

// maxOptimisticRetries bounds how often a placement retries after losing a race for a node
// before it searches and commits under the write lock.
const maxOptimisticRetries = 4

// Place chooses a node for req and reserves req.Resources on it. When no node fits it returns
// a *NoFitError (which wraps ErrNoFit) explaining, per node and per plugin, why.
func (s *Scheduler) Place(ctx context.Context, req *Request) (Placement, error) {
	c := s.pool.Get().(*cycle)
	defer func() {
		c.st.reset()
		s.pool.Put(c)
	}()
	c.st.reset()
	if err := ctx.Err(); err != nil {
		return Placement{}, err
	}
	for _, p := range s.fw.preFilter {
		if st := p.PreFilter(ctx, &c.st, req); !st.IsSuccess() {
			if st.Code == Error {
				return Placement{}, fmt.Errorf("scheduler: pre-filter %s: %w", p.Name(), statusErr(st))
			}
			return Placement{}, s.preFilterRejection(req, p.Name(), st)
		}
	}
	var pl Placement
	var id uint64
	committed := false
	for attempt := 0; attempt <= maxOptimisticRetries && !committed; attempt++ {
		exclusive := attempt == maxOptimisticRetries
		if exclusive {
			s.mu.Lock()
		} else {
			s.mu.RLock()
		}
		r, err := s.search(ctx, c, req, s.exhaustive)
		pl.Visited = r.visited
		if err != nil || !r.found {
			var snap []NodeInfo
			if err == nil {
				snap = s.snapshotNodes()
			}
			if exclusive {
				s.mu.Unlock()
			} else {
				s.mu.RUnlock()
			}
			if err != nil {
				return Placement{}, err
			}
			// explaining is slow (every node, every plugin, in words): do it on a copy,
			// without holding up other placements
			return Placement{}, s.diagnose(ctx, req, snap)
		}
		if !exclusive {
			s.mu.RUnlock()
			s.mu.Lock()
		}
		ni := s.nodes[r.idx]
		ok := ni.gen == r.gen && !ni.removed && ni.class >= 0
		if ok && ni.version != r.ver {
			ok = s.filterNode(ctx, &c.st, req, ni) == nil
		}
		if ok {
			ni.allocated = ni.allocated.Add(req.Resources)
			ni.sessions++
			ni.version++
			s.reindexAllocation(ni)
			s.nextID++
			id = s.nextID
			s.held[id] = held{idx: r.idx, gen: ni.gen, res: req.Resources}
			pl = Placement{Request: req.ID, Node: ni.node.Name, Resources: req.Resources,
				Score: r.score, Evaluated: r.evaluated, Visited: r.visited, id: id, req: req}
			committed = true
		}
		s.mu.Unlock()
		if !committed {
			s.logger.Debug("scheduler: lost a race for a node; retrying", "request", req.ID, "attempt", attempt+1)
		}
	}
	if len(s.fw.reserve) == 0 && len(s.fw.bind) == 0 {
		return pl, nil
	}
	for i, p := range s.fw.reserve {
		if st := p.Reserve(ctx, &c.st, req, pl.Node); !st.IsSuccess() {
			for j := i; j >= 0; j-- {
				s.fw.reserve[j].Unreserve(ctx, &c.st, req, pl.Node)
			}
			_ = s.releaseHeld(id)
			return Placement{}, fmt.Errorf("scheduler: reserve plugin %s on node %s: %w", p.Name(), pl.Node, statusErr(st))
		}
	}
	for _, p := range s.fw.bind {
		st := p.Bind(ctx, &c.st, req, pl.Node)
		if st != nil && st.Code == Skip {
			continue
		}
		if !st.IsSuccess() {
			for j := len(s.fw.reserve) - 1; j >= 0; j-- {
				s.fw.reserve[j].Unreserve(ctx, &c.st, req, pl.Node)
			}
			_ = s.releaseHeld(id)
			return Placement{}, fmt.Errorf("scheduler: bind plugin %s on node %s: %w", p.Name(), pl.Node, statusErr(st))
		}
		break
	}
	return pl, nil
}

func statusErr(st *Status) error {
	if st.Err != nil {
		return st.Err
	}
	return errors.New(st.Message())
}

// Release gives a placement's resources back to its node (the session ended). Releasing a
// placement twice returns ErrNotPlaced; releasing one whose node was removed is a no-op.
func (s *Scheduler) Release(ctx context.Context, p Placement) error {
	if err := s.releaseHeld(p.id); err != nil {
		return fmt.Errorf("release %s on %s: %w", p.Request, p.Node, err)
	}
	if len(s.fw.reserve) > 0 && p.req != nil {
		var st CycleState
		for j := len(s.fw.reserve) - 1; j >= 0; j-- {
			s.fw.reserve[j].Unreserve(ctx, &st, p.req, p.Node)
		}
	}
	return nil
}

func (s *Scheduler) releaseHeld(id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.held[id]
	if !ok {
		return ErrNotPlaced
	}
	delete(s.held, id)
	ni := s.nodes[h.idx]
	if ni.gen != h.gen || ni.removed {
		return nil
	}
	ni.allocated = ni.allocated.Sub(h.res)
	ni.sessions--
	ni.version++
	s.reindexAllocation(ni)
	return nil
}

// filterNode runs every filter plugin on one node, returning the first rejection.
func (s *Scheduler) filterNode(ctx context.Context, st *CycleState, req *Request, ni *NodeInfo) *Status {
	for _, p := range s.fw.filter {
		if r := p.Filter(ctx, st, req, ni); !r.IsSuccess() {
			return r
		}
	}
	return nil
}

// search finds the best node for req among the indexed (schedulable) nodes. The caller holds
// s.mu for reading or writing.
func (s *Scheduler) search(ctx context.Context, c *cycle, req *Request, exhaustive bool) (searchResult, error) {
	var res searchResult
	extra := 0.0
	for _, ws := range s.fw.score {
		b := MaxNodeScore
		if ws.norm == nil && ws.bound != nil {
			b = ws.bound.ScoreUpperBound(&c.st, req)
		}
		extra += ws.weight * b
	}
	resW := s.fw.resWeight
	keep := 1 - s.tolerance
	c.cursors = c.cursors[:0]
	c.cands = c.cands[:0]
	for _, sc := range s.classes {
		if cur, ok := s.firstCursor(sc, req); ok {
			c.cursors = append(c.cursors, cur)
		}
	}
	best := math.Inf(-1)
	bestIdx := int32(-1)
	for len(c.cursors) > 0 {
		// the cursor with the highest bound
		bi := 0
		for i := 1; i < len(c.cursors); i++ {
			if c.cursors[i].bound > c.cursors[bi].bound {
				bi = i
			}
		}
		cur := &c.cursors[bi]
		limit := keep * (cur.bound*resW + extra)
		if !exhaustive && bestIdx >= 0 && best >= limit {
			break
		}
		for _, idx := range cur.class.buckets[cur.b] {
			if !exhaustive && bestIdx >= 0 && best >= limit {
				break
			}
			ni := s.nodes[idx]
			res.visited++
			if !req.Resources.Fits(ni.node.Capacity.Sub(ni.allocated)) {
				continue // cheap pre-check; NodeResourcesFit would reject it too
			}
			if st := s.filterNode(ctx, &c.st, req, ni); st != nil {
				if st.Code == Error {
					return res, fmt.Errorf("scheduler: filter on node %s: %w", ni.node.Name, statusErr(st))
				}
				continue
			}
			res.evaluated++
			rs := s.nodeResourceScore(ni, &req.Resources)
			total := resW * rs
			var other []float64
			for k, ws := range s.fw.score {
				v, st := ws.p.Score(ctx, &c.st, req, ni)
				if !st.IsSuccess() {
					return res, fmt.Errorf("scheduler: score plugin %s on node %s: %w", ws.p.Name(), ni.node.Name, statusErr(st))
				}
				if ws.norm != nil {
					if other == nil {
						other = make([]float64, len(s.fw.score))
					}
					other[k] = v
					continue
				}
				total += ws.weight * v
			}
			if s.fw.hasNorm {
				c.cands = append(c.cands, candidate{idx: idx, ver: ni.version, res: total, other: other})
			}
			if total > best {
				best, bestIdx = total, idx
				res.ver = ni.version
			}
		}
		if !s.advance(cur) {
			c.cursors[bi] = c.cursors[len(c.cursors)-1]
			c.cursors = c.cursors[:len(c.cursors)-1]
		}
	}
	if bestIdx < 0 {
		return res, nil
	}
	if s.fw.hasNorm {
		var err error
		bestIdx, best, res.ver, err = s.normalize(ctx, c, req)
		if err != nil {
			return res, err
		}
	}
	res.found = true
	res.idx = bestIdx
	res.gen = s.nodes[bestIdx].gen
	res.score = best
	return res, nil
}

// normalize runs NormalizeScores over the candidates and picks the best total.
func (s *Scheduler) normalize(ctx context.Context, c *cycle, req *Request) (int32, float64, uint64, error) {
	for k, ws := range s.fw.score {
		if ws.norm == nil {
			continue
		}
		c.norm = c.norm[:0]
		for _, cd := range c.cands {
			c.norm = append(c.norm, NodeScore{Node: s.nodes[cd.idx].node.Name, Score: cd.other[k]})
		}
		if st := ws.norm.NormalizeScores(ctx, &c.st, req, c.norm); !st.IsSuccess() {
			return 0, 0, 0, fmt.Errorf("scheduler: normalize %s: %w", ws.p.Name(), statusErr(st))
		}
		for i := range c.cands {
			c.cands[i].res += ws.weight * c.norm[i].Score
		}
	}
	bi := 0
	for i := range c.cands {
		if c.cands[i].res > c.cands[bi].res {
			bi = i
		}
	}
	return c.cands[bi].idx, c.cands[bi].res, c.cands[bi].ver, nil
}

// Stats summarises the scheduler's state.
type Stats struct {
	Nodes       int
	Schedulable int
	Placements  int
	Classes     int
	Capacity    Resources
	Allocated   Resources
}

// Stats returns totals over all nodes.
func (s *Scheduler) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{Nodes: len(s.byName), Placements: len(s.held), Classes: len(s.classes)}
	for _, idx := range s.byName {
		ni := s.nodes[idx]
		if ni.class >= 0 {
			st.Schedulable++
		}
		st.Capacity = st.Capacity.Add(ni.node.Capacity)
		st.Allocated = st.Allocated.Add(ni.allocated)
	}
	return st
}

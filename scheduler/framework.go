package scheduler

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Request asks for a place to run one session.
type Request struct {
	// ID names the session in errors and results.
	ID string
	// Resources is what the session needs: CPU millicores, memory, disk, GPUs, encoder slots.
	Resources Resources
	// Volumes the node must be able to mount.
	Volumes []string
	// NodeSelector is a shorthand for a required affinity: every key must be set to the value.
	NodeSelector map[string]string
	// Affinity holds required and preferred node affinity terms.
	Affinity *NodeAffinity
	// Tolerations let the request land on tainted nodes.
	Tolerations []Toleration
}

// Code is the outcome of one plugin call.
type Code int

// Status codes.
const (
	// Success: the plugin has no objection. A nil *Status means Success too.
	Success Code = iota
	// Unschedulable: this node cannot take the request now; another might.
	Unschedulable
	// UnschedulableAndUnresolvable: no node can take the request until the request or the
	// cluster changes (e.g. the request is malformed).
	UnschedulableAndUnresolvable
	// Error: the plugin failed; the placement is aborted.
	Error
)

// Status is a plugin's verdict. Reasons are short phrases that aggregate across nodes
// ("insufficient memory", "draining"); Detail is a full sentence a person can act on
// ("insufficient cpu: requested 2000m, free 500m of 8000m"). During the search plugins may
// leave Detail empty to stay cheap; they fill it when CycleState.Diagnosing reports true.
type Status struct {
	Code    Code
	Reasons []string
	Detail  string
	Err     error
}

// IsSuccess reports whether s means success (nil or Code Success).
func (s *Status) IsSuccess() bool { return s == nil || s.Code == Success }

// Message returns Detail, or the reasons when there is no detail.
func (s *Status) Message() string {
	switch {
	case s == nil:
		return ""
	case s.Detail != "":
		return s.Detail
	case len(s.Reasons) > 0:
		return strings.Join(s.Reasons, "; ")
	case s.Err != nil:
		return s.Err.Error()
	}
	return "rejected"
}

// NewStatus returns a status with one reason and a formatted detail.
func NewStatus(code Code, reason, detailFormat string, args ...any) *Status {
	return &Status{Code: code, Reasons: []string{reason}, Detail: fmt.Sprintf(detailFormat, args...)}
}

// AsStatus wraps an error as an Error status.
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{Code: Error, Reasons: []string{"plugin error"}, Detail: err.Error(), Err: err}
}

// StateKey names one piece of data a plugin keeps in the CycleState.
type StateKey string

// CycleState carries data between the extension points of one placement attempt. It is not
// safe for concurrent use; each placement has its own.
type CycleState struct {
	keys       []StateKey
	vals       []any
	diagnosing bool
}

// Write stores a value under key.
func (c *CycleState) Write(key StateKey, v any) {
	for i, k := range c.keys {
		if k == key {
			c.vals[i] = v
			return
		}
	}
	c.keys = append(c.keys, key)
	c.vals = append(c.vals, v)
}

// Read returns the value stored under key.
func (c *CycleState) Read(key StateKey) (any, bool) {
	for i, k := range c.keys {
		if k == key {
			return c.vals[i], true
		}
	}
	return nil, false
}

// Diagnosing reports whether the framework is explaining a failure (every node, every
// plugin) rather than searching; filters should fill Status.Detail when it is true.
func (c *CycleState) Diagnosing() bool { return c.diagnosing }

func (c *CycleState) reset() {
	clear(c.vals)
	c.keys = c.keys[:0]
	c.vals = c.vals[:0]
	c.diagnosing = false
}

// Plugin is the base of every scheduler plugin.
type Plugin interface {
	// Name identifies the plugin in profiles and in rejection reasons.
	Name() string
}

// PreFilterPlugin runs once per placement before any node is looked at; it can reject the
// request outright or precompute state.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, req *Request) *Status
}

// FilterPlugin decides whether one node can take the request.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, req *Request, node *NodeInfo) *Status
}

// MaxNodeScore is the highest score a score plugin gives (after normalization).
const MaxNodeScore = 100.0

// ScorePlugin ranks nodes that passed the filters, 0..MaxNodeScore, higher is better.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, req *Request, node *NodeInfo) (float64, *Status)
}

// ScoreBounder is implemented by score plugins that can bound their score for a request
// before seeing nodes. The indexed search stops once no unseen node can beat the best one,
// so a tight bound (0 when the plugin has nothing to say about this request) keeps the search
// short. Plugins without it are assumed to reach MaxNodeScore.
type ScoreBounder interface {
	ScoreUpperBound(state *CycleState, req *Request) float64
}

// NodeScore is one node's score from one plugin.
type NodeScore struct {
	Node  string
	Score float64
}

// NormalizePlugin is a score plugin whose raw scores are rescaled over the candidate nodes
// (the nodes the search evaluated) before weighting.
type NormalizePlugin interface {
	ScorePlugin
	NormalizeScores(ctx context.Context, state *CycleState, req *Request, scores []NodeScore) *Status
}

// ReservePlugin is told when a node's resources are set aside for the request (Reserve) and
// when they are given back (Unreserve: a later reserve or bind failed, or the placement was
// released). Unreserve must be idempotent.
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, req *Request, node string) *Status
	Unreserve(ctx context.Context, state *CycleState, req *Request, node string)
}

// BindPlugin carries the decision out (tell the host agent to start the session). The first
// bind plugin that does not return a Skip status binds.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, req *Request, node string) *Status
}

// Skip is returned by a bind plugin that leaves binding to the next one.
const Skip Code = -1

// Handle gives plugin factories read access to the scheduler they are built for.
type Handle interface {
	// ScoringStrategy returns the configured resource scoring strategy.
	ScoringStrategy() ScoringStrategy
}

// PluginFactory builds a plugin for one scheduler.
type PluginFactory func(h Handle) (Plugin, error)

// Registry maps plugin names to factories. DefaultRegistry holds the built-in plugins; add
// your own under new names and list them in the Profile.
type Registry map[string]PluginFactory

// Names of the built-in plugins.
const (
	NodeStatusName      = "NodeStatus"
	NodeResourcesName   = "NodeResourcesFit"
	NodeAffinityName    = "NodeAffinity"
	TaintTolerationName = "TaintToleration"
	VolumeMountName     = "VolumeMount"
)

// DefaultRegistry returns a new registry with the built-in plugins.
func DefaultRegistry() Registry {
	return Registry{
		NodeStatusName:      func(Handle) (Plugin, error) { return nodeStatus{}, nil },
		NodeResourcesName:   func(h Handle) (Plugin, error) { return newNodeResources(h.ScoringStrategy()), nil },
		NodeAffinityName:    func(Handle) (Plugin, error) { return nodeAffinity{}, nil },
		TaintTolerationName: func(Handle) (Plugin, error) { return taintToleration{}, nil },
		VolumeMountName:     func(Handle) (Plugin, error) { return volumeMount{}, nil },
	}
}

// WeightedPlugin names a score plugin and its weight in the total score.
type WeightedPlugin struct {
	Name   string
	Weight float64
}

// Profile lists, by name, the plugins that run at each extension point, in order.
// NodeResourcesFit must be among the score plugins: its score drives the node index.
type Profile struct {
	PreFilter []string
	Filter    []string
	Score     []WeightedPlugin
	Reserve   []string
	Bind      []string
}

// DefaultProfile returns the built-in plugins at their extension points, each score with
// weight 1.
func DefaultProfile() Profile {
	return Profile{
		PreFilter: []string{NodeResourcesName},
		Filter:    []string{NodeStatusName, NodeResourcesName, TaintTolerationName, NodeAffinityName, VolumeMountName},
		Score:     []WeightedPlugin{{NodeResourcesName, 1}, {NodeAffinityName, 1}},
	}
}

// ScoringType selects how NodeResourcesFit scores a node.
type ScoringType int

// Scoring types.
const (
	// LeastAllocated prefers the emptiest node: Σ w·(capacity − (allocated + request)) /
	// capacity over the weighted resources, scaled to 0..100. It spreads load.
	LeastAllocated ScoringType = iota
	// MostAllocated prefers the fullest node that still fits: Σ w·(allocated + request) /
	// capacity, scaled to 0..100. It packs load so that other nodes empty for scale-in.
	MostAllocated
)

// String returns the strategy's name.
func (t ScoringType) String() string {
	if t == MostAllocated {
		return "MostAllocated"
	}
	return "LeastAllocated"
}

// ScoringStrategy configures NodeResourcesFit scoring. A resource with weight 0, or with zero
// capacity on a node, does not count for that node.
type ScoringStrategy struct {
	Type    ScoringType
	Weights [NumResources]float64
}

// DefaultScoringStrategy is LeastAllocated over CPU and memory with equal weights.
func DefaultScoringStrategy() ScoringStrategy {
	var w [NumResources]float64
	w[CPU], w[Memory] = 1, 1
	return ScoringStrategy{Type: LeastAllocated, Weights: w}
}

type weightedScore struct {
	p      ScorePlugin
	weight float64
	bound  ScoreBounder
	norm   NormalizePlugin
}

type framework struct {
	preFilter []PreFilterPlugin
	filter    []FilterPlugin
	score     []weightedScore // excluding NodeResourcesFit
	resWeight float64
	reserve   []ReservePlugin
	bind      []BindPlugin
	hasNorm   bool
	// the built-in filters whose verdicts the index may decide per class
	taintFilter, affinityFilter bool
}

func buildFramework(reg Registry, prof Profile, h Handle) (*framework, error) {
	built := map[string]Plugin{}
	get := func(name string) (Plugin, error) {
		if p, ok := built[name]; ok {
			return p, nil
		}
		f, ok := reg[name]
		if !ok {
			names := make([]string, 0, len(reg))
			for n := range reg {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("scheduler: plugin %q is not in the registry (have %v)", name, names)
		}
		p, err := f(h)
		if err != nil {
			return nil, fmt.Errorf("scheduler: building plugin %q: %w", name, err)
		}
		built[name] = p
		return p, nil
	}
	fw := &framework{}
	for _, n := range prof.PreFilter {
		p, err := get(n)
		if err != nil {
			return nil, err
		}
		pp, ok := p.(PreFilterPlugin)
		if !ok {
			return nil, fmt.Errorf("scheduler: plugin %q is not a pre-filter plugin", n)
		}
		fw.preFilter = append(fw.preFilter, pp)
	}
	for _, n := range prof.Filter {
		p, err := get(n)
		if err != nil {
			return nil, err
		}
		fp, ok := p.(FilterPlugin)
		if !ok {
			return nil, fmt.Errorf("scheduler: plugin %q is not a filter plugin", n)
		}
		fw.filter = append(fw.filter, fp)
		switch fp.(type) {
		case taintToleration:
			fw.taintFilter = true
		case nodeAffinity:
			fw.affinityFilter = true
		}
	}
	sawRes := false
	for _, wp := range prof.Score {
		if wp.Weight < 0 {
			return nil, fmt.Errorf("scheduler: score plugin %q has negative weight %v", wp.Name, wp.Weight)
		}
		if wp.Name == NodeResourcesName {
			sawRes = true
			fw.resWeight = wp.Weight
			continue
		}
		p, err := get(wp.Name)
		if err != nil {
			return nil, err
		}
		sp, ok := p.(ScorePlugin)
		if !ok {
			return nil, fmt.Errorf("scheduler: plugin %q is not a score plugin", wp.Name)
		}
		ws := weightedScore{p: sp, weight: wp.Weight}
		ws.bound, _ = p.(ScoreBounder)
		ws.norm, _ = p.(NormalizePlugin)
		if ws.norm != nil {
			fw.hasNorm = true
		}
		fw.score = append(fw.score, ws)
	}
	if !sawRes {
		return nil, fmt.Errorf("scheduler: profile must list %s among the score plugins (weight 0 is allowed)", NodeResourcesName)
	}
	for _, n := range prof.Reserve {
		p, err := get(n)
		if err != nil {
			return nil, err
		}
		rp, ok := p.(ReservePlugin)
		if !ok {
			return nil, fmt.Errorf("scheduler: plugin %q is not a reserve plugin", n)
		}
		fw.reserve = append(fw.reserve, rp)
	}
	for _, n := range prof.Bind {
		p, err := get(n)
		if err != nil {
			return nil, err
		}
		bp, ok := p.(BindPlugin)
		if !ok {
			return nil, fmt.Errorf("scheduler: plugin %q is not a bind plugin", n)
		}
		fw.bind = append(fw.bind, bp)
	}
	return fw, nil
}

package scheduler

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// PluginRejection is one plugin's objection to one node.
type PluginRejection struct {
	// Plugin is the plugin's name.
	Plugin string
	// Reasons are short phrases that aggregate across nodes ("insufficient memory").
	Reasons []string
	// Detail is the full sentence ("insufficient memory: requested 4Gi, free 1.5Gi of 16Gi").
	Detail string
}

// NodeRejection lists why one node could not take the request.
type NodeRejection struct {
	Node    string
	Plugins []PluginRejection
}

// String renders "node h17: insufficient cpu: requested 2000m, free 500m of 8000m".
func (r NodeRejection) String() string {
	parts := make([]string, len(r.Plugins))
	for i, p := range r.Plugins {
		parts[i] = p.Detail
		if parts[i] == "" {
			parts[i] = strings.Join(p.Reasons, "; ")
		}
	}
	return "node " + r.Node + ": " + strings.Join(parts, "; ")
}

// ReasonCount is how many nodes were rejected for one reason.
type ReasonCount struct {
	Reason string
	Count  int
}

// NoFitError says why no node could take a request: per node and plugin (Nodes) and in
// aggregate (Summary, most common reason first). It wraps ErrNoFit.
type NoFitError struct {
	// Request is the request's ID.
	Request string
	// TotalNodes is how many nodes were considered.
	TotalNodes int
	// Nodes lists every node with its rejections, sorted by node name.
	Nodes []NodeRejection
	// Summary counts nodes per reason; a node with two reasons counts under both.
	Summary []ReasonCount
	// PreFilter is set when the request was rejected before any node was looked at.
	PreFilter *PluginRejection
}

// Error renders the one-line summary, e.g.
// "request s1: 0/5000 nodes available: 4980 insufficient memory, 20 draining".
func (e *NoFitError) Error() string {
	if e.PreFilter != nil {
		return fmt.Sprintf("request %s: rejected by %s: %s", e.Request, e.PreFilter.Plugin, e.PreFilter.Detail)
	}
	if e.TotalNodes == 0 {
		return fmt.Sprintf("request %s: 0/0 nodes available: no nodes are registered", e.Request)
	}
	parts := make([]string, len(e.Summary))
	for i, rc := range e.Summary {
		parts[i] = fmt.Sprintf("%d %s", rc.Count, rc.Reason)
	}
	return fmt.Sprintf("request %s: 0/%d nodes available: %s", e.Request, e.TotalNodes, strings.Join(parts, ", "))
}

// Unwrap makes errors.Is(err, ErrNoFit) true.
func (e *NoFitError) Unwrap() error { return ErrNoFit }

// Count returns how many nodes were rejected for reason.
func (e *NoFitError) Count(reason string) int {
	for _, rc := range e.Summary {
		if rc.Reason == reason {
			return rc.Count
		}
	}
	return 0
}

// Node returns the rejection of one node.
func (e *NoFitError) Node(name string) (NodeRejection, bool) {
	i := sort.Search(len(e.Nodes), func(i int) bool { return e.Nodes[i].Node >= name })
	if i < len(e.Nodes) && e.Nodes[i].Node == name {
		return e.Nodes[i], true
	}
	return NodeRejection{}, false
}

// Explain renders the summary and then one line per node (at most limit nodes; limit ≤ 0
// means all).
func (e *NoFitError) Explain(limit int) string {
	var b strings.Builder
	b.WriteString(e.Error())
	for i, n := range e.Nodes {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "\n... and %d more nodes", len(e.Nodes)-limit)
			break
		}
		b.WriteString("\n")
		b.WriteString(n.String())
	}
	return b.String()
}

func (s *Scheduler) preFilterRejection(req *Request, plugin string, st *Status) error {
	s.mu.RLock()
	n := len(s.byName)
	s.mu.RUnlock()
	return &NoFitError{Request: req.ID, TotalNodes: n,
		PreFilter: &PluginRejection{Plugin: plugin, Reasons: st.Reasons, Detail: st.Message()},
		Summary:   []ReasonCount{{Reason: firstReason(st), Count: n}}}
}

func firstReason(st *Status) string {
	if len(st.Reasons) > 0 {
		return st.Reasons[0]
	}
	return st.Message()
}

// snapshotNodes copies every node's state (s.mu held). Node descriptions are replaced, never
// modified, on update, so the copies can share their label maps and slices.
func (s *Scheduler) snapshotNodes() []NodeInfo {
	out := make([]NodeInfo, 0, len(s.byName))
	for _, idx := range s.byName {
		out = append(out, *s.nodes[idx])
	}
	return out
}

// diagnose runs every filter plugin on every node of a snapshot and builds the NoFitError.
// A node the NodeStatus plugin rejects is reported for that alone: its resources do not
// matter while it takes no sessions.
func (s *Scheduler) diagnose(ctx context.Context, req *Request, nodes []NodeInfo) error {
	st := &CycleState{diagnosing: true}
	e := &NoFitError{Request: req.ID, TotalNodes: len(nodes)}
	e.Nodes = make([]NodeRejection, 0, len(nodes))
	counts := map[string]int{}
	for i := range nodes {
		ni := &nodes[i]
		nr := NodeRejection{Node: ni.node.Name}
		for _, p := range s.fw.filter {
			r := p.Filter(ctx, st, req, ni)
			if r.IsSuccess() {
				continue
			}
			nr.Plugins = append(nr.Plugins, PluginRejection{Plugin: p.Name(), Reasons: r.Reasons, Detail: r.Message()})
			if p.Name() == NodeStatusName {
				break
			}
		}
		if len(nr.Plugins) == 0 {
			// The profile has no NodeStatus filter, but the index never offers such nodes.
			r := nodeStatus{}.Filter(ctx, st, req, ni)
			if r.IsSuccess() {
				r = &Status{Reasons: []string{"changed during placement"}, Detail: "the node changed while the request was being placed; retry"}
			}
			nr.Plugins = append(nr.Plugins, PluginRejection{Plugin: NodeStatusName, Reasons: r.Reasons, Detail: r.Message()})
		}
		for i, p := range nr.Plugins {
			for j, r := range p.Reasons {
				if !reasonSeen(nr.Plugins[:i], p.Reasons[:j], r) {
					counts[r]++
				}
			}
		}
		e.Nodes = append(e.Nodes, nr)
	}
	sort.Slice(e.Nodes, func(i, j int) bool { return e.Nodes[i].Node < e.Nodes[j].Node })
	for r, n := range counts {
		e.Summary = append(e.Summary, ReasonCount{Reason: r, Count: n})
	}
	sort.Slice(e.Summary, func(i, j int) bool {
		if e.Summary[i].Count != e.Summary[j].Count {
			return e.Summary[i].Count > e.Summary[j].Count
		}
		return e.Summary[i].Reason < e.Summary[j].Reason
	})
	return e
}

func sortStrings(s []string) { sort.Strings(s) }

// reasonSeen reports whether r already occurs in the earlier plugins or earlier reasons.
func reasonSeen(earlier []PluginRejection, before []string, r string) bool {
	for _, x := range before {
		if x == r {
			return true
		}
	}
	for _, p := range earlier {
		for _, x := range p.Reasons {
			if x == r {
				return true
			}
		}
	}
	return false
}

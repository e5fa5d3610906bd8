package scheduler

import (
	"context"
	"fmt"
	"strings"
)

// Pre-built statuses for the search path, where no detail is needed (they are never
// modified).
var (
	statusCordoned     = &Status{Code: Unschedulable, Reasons: []string{"cordoned"}}
	statusDraining     = &Status{Code: Unschedulable, Reasons: []string{"draining"}}
	statusUnhealthy    = &Status{Code: Unschedulable, Reasons: []string{"unhealthy"}}
	statusAffinity     = &Status{Code: Unschedulable, Reasons: []string{"node affinity mismatch"}}
	statusTaint        = &Status{Code: Unschedulable, Reasons: []string{"untolerated taint"}}
	statusVolume       = &Status{Code: Unschedulable, Reasons: []string{"cannot mount volume"}}
	insufficientStatus = func() (out [NumResources]*Status) {
		for r := Resource(0); r < NumResources; r++ {
			out[r] = &Status{Code: Unschedulable, Reasons: []string{"insufficient " + r.String()}}
		}
		return out
	}()
)

// nodeStatus rejects cordoned, draining and unhealthy nodes.
type nodeStatus struct{}

func (nodeStatus) Name() string { return NodeStatusName }

func (nodeStatus) Filter(_ context.Context, st *CycleState, _ *Request, ni *NodeInfo) *Status {
	n := &ni.node
	if !n.Unhealthy && !n.Draining && !n.Unschedulable {
		return nil
	}
	if !st.Diagnosing() {
		switch {
		case n.Unhealthy:
			return statusUnhealthy
		case n.Draining:
			return statusDraining
		default:
			return statusCordoned
		}
	}
	s := &Status{Code: Unschedulable}
	var why []string
	if n.Unhealthy {
		s.Reasons = append(s.Reasons, "unhealthy")
		why = append(why, "failed its health checks")
	}
	if n.Draining {
		s.Reasons = append(s.Reasons, "draining")
		why = append(why, "is draining (being emptied for scale-in or maintenance)")
	}
	if n.Unschedulable {
		s.Reasons = append(s.Reasons, "cordoned")
		why = append(why, "is cordoned (marked unschedulable by an operator)")
	}
	s.Detail = "node " + strings.Join(why, " and ") + "; it takes no new sessions"
	return s
}

// nodeResources checks that the request fits the node's free capacity and scores nodes by
// the scoring strategy. The Scheduler's index computes the same score incrementally.
type nodeResources struct {
	strategy ScoringStrategy
}

func newNodeResources(s ScoringStrategy) *nodeResources { return &nodeResources{strategy: s} }

func (*nodeResources) Name() string { return NodeResourcesName }

func (*nodeResources) PreFilter(_ context.Context, _ *CycleState, req *Request) *Status {
	for r, v := range req.Resources {
		if v < 0 {
			return NewStatus(UnschedulableAndUnresolvable, "invalid request",
				"request %s asks for a negative amount of %s (%d)", req.ID, Resource(r), v)
		}
	}
	return nil
}

func (*nodeResources) Filter(_ context.Context, st *CycleState, req *Request, ni *NodeInfo) *Status {
	capacity := &ni.node.Capacity
	var first = -1
	for r := range req.Resources {
		if req.Resources[r] > capacity[r]-ni.allocated[r] {
			first = r
			break
		}
	}
	if first < 0 {
		return nil
	}
	if !st.Diagnosing() {
		return insufficientStatus[first]
	}
	s := &Status{Code: Unschedulable}
	var parts []string
	for r := Resource(0); r < NumResources; r++ {
		want, total := req.Resources[r], capacity[r]
		free := total - ni.allocated[r]
		if want <= free {
			continue
		}
		s.Reasons = append(s.Reasons, "insufficient "+r.String())
		if want > total {
			parts = append(parts, fmt.Sprintf("insufficient %s: requested %s, node has only %s in total",
				r, r.Format(want), r.Format(total)))
		} else {
			parts = append(parts, fmt.Sprintf("insufficient %s: requested %s, free %s of %s",
				r, r.Format(want), r.Format(free), r.Format(total)))
		}
	}
	s.Detail = strings.Join(parts, "; ")
	return s
}

// Score implements ScorePlugin; the Scheduler uses the index instead on its hot path.
func (p *nodeResources) Score(_ context.Context, _ *CycleState, req *Request, ni *NodeInfo) (float64, *Status) {
	return resourceScore(p.strategy, ni.node.Capacity, ni.allocated, req.Resources), nil
}

// resourceScore is the reference definition of the NodeResourcesFit score.
func resourceScore(s ScoringStrategy, capacity, allocated, request Resources) float64 {
	var sum, wsum float64
	for r := range capacity {
		w := s.Weights[r]
		if w <= 0 || capacity[r] <= 0 {
			continue
		}
		c := float64(capacity[r])
		used := float64(allocated[r] + request[r])
		if s.Type == MostAllocated {
			sum += w * used / c
		} else {
			sum += w * (c - used) / c
		}
		wsum += w
	}
	if wsum == 0 {
		return 0
	}
	return MaxNodeScore * sum / wsum
}

// nodeAffinity enforces NodeSelector and required affinity terms, and scores preferred
// terms.
type nodeAffinity struct{}

func (nodeAffinity) Name() string { return NodeAffinityName }

func (nodeAffinity) Filter(_ context.Context, st *CycleState, req *Request, ni *NodeInfo) *Status {
	labels := ni.node.Labels
	for k, v := range req.NodeSelector {
		if got, ok := labels[k]; !ok || got != v {
			if !st.Diagnosing() {
				return statusAffinity
			}
			if !ok {
				return NewStatus(Unschedulable, "node affinity mismatch",
					"node selector wants label %s=%s; the node has no %s label", k, v, k)
			}
			return NewStatus(Unschedulable, "node affinity mismatch",
				"node selector wants label %s=%s; the node has %s=%s", k, v, k, got)
		}
	}
	if req.Affinity == nil || len(req.Affinity.Required) == 0 {
		return nil
	}
	for _, term := range req.Affinity.Required {
		if term.Matches(labels) {
			return nil
		}
	}
	if !st.Diagnosing() {
		return statusAffinity
	}
	terms := make([]string, len(req.Affinity.Required))
	for i, t := range req.Affinity.Required {
		terms[i] = "(" + t.String() + ")"
	}
	return NewStatus(Unschedulable, "node affinity mismatch",
		"required affinity %s matches none of the node's labels %s", strings.Join(terms, " or "), formatLabels(labels))
}

func (nodeAffinity) Score(_ context.Context, _ *CycleState, req *Request, ni *NodeInfo) (float64, *Status) {
	if req.Affinity == nil || len(req.Affinity.Preferred) == 0 {
		return 0, nil
	}
	var got, total int
	for _, t := range req.Affinity.Preferred {
		total += t.Weight
		if t.Selector.Matches(ni.node.Labels) {
			got += t.Weight
		}
	}
	if total <= 0 {
		return 0, nil
	}
	return MaxNodeScore * float64(got) / float64(total), nil
}

func (nodeAffinity) ScoreUpperBound(_ *CycleState, req *Request) float64 {
	if req.Affinity == nil || len(req.Affinity.Preferred) == 0 {
		return 0
	}
	return MaxNodeScore
}

// taintToleration keeps requests off nodes with NoSchedule taints they do not tolerate.
type taintToleration struct{}

func (taintToleration) Name() string { return TaintTolerationName }

func (taintToleration) Filter(_ context.Context, st *CycleState, req *Request, ni *NodeInfo) *Status {
next:
	for _, t := range ni.node.Taints {
		if t.Effect != NoSchedule {
			continue
		}
		for _, tol := range req.Tolerations {
			if tol.Tolerates(t) {
				continue next
			}
		}
		if !st.Diagnosing() {
			return statusTaint
		}
		return NewStatus(Unschedulable, "untolerated taint",
			"node has taint %s=%s:%s that the request does not tolerate", t.Key, t.Value, t.Effect)
	}
	return nil
}

// volumeMount keeps requests off nodes that cannot mount their volumes.
type volumeMount struct{}

func (volumeMount) Name() string { return VolumeMountName }

func (volumeMount) Filter(_ context.Context, st *CycleState, req *Request, ni *NodeInfo) *Status {
	for _, v := range req.Volumes {
		if ni.node.CanMount(v) {
			continue
		}
		if !st.Diagnosing() {
			return statusVolume
		}
		have := "none"
		if len(ni.node.Volumes) > 0 {
			have = strings.Join(ni.node.Volumes, ", ")
		}
		return NewStatus(Unschedulable, "cannot mount volume",
			"cannot mount volume %q (this node mounts: %s)", v, have)
	}
	return nil
}

func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + l[k])
	}
	b.WriteByte('}')
	return b.String()
}

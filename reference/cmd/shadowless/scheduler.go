package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shadowless-dev/shadowless/scheduler"
	"github.com/spf13/cobra"
)

func newSchedulerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Try the session scheduler: simulate placements on a synthetic fleet",
		Example: `  shadowless scheduler simulate --nodes 5000 --placements 200000
  shadowless scheduler simulate --nodes 1000 --strategy most --json`,
	}
	cmd.AddCommand(newSchedulerSimulateCmd())
	return cmd
}

type simulateResult struct {
	Nodes           int     `json:"nodes"`
	Strategy        string  `json:"strategy"`
	Placements      int     `json:"placements"`
	NoFit           int     `json:"no_fit"`
	PlacementsPerS  float64 `json:"placements_per_second"`
	P50Micros       float64 `json:"p50_us"`
	P99Micros       float64 `json:"p99_us"`
	MeanNodesViewed float64 `json:"mean_nodes_visited"`
	ExampleNoFit    string  `json:"example_no_fit"`
}

func newSchedulerSimulateCmd() *cobra.Command {
	var (
		nodes, placements, explain int
		seed                       uint64
		strategy                   string
		asJSON                     bool
	)
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Place and release sessions on a synthetic heterogeneous fleet and report speed",
		Long: `simulate builds a fleet of heterogeneous nodes (several machine sizes, GPU nodes behind a
taint, four zones, a few draining or unhealthy nodes), fills it to about 60% and then places and
releases sessions of mixed sizes, reporting placements per second, decision latency and how many
nodes each decision looked at. It ends with the explanation of a request that cannot fit.`,
		Example: `  shadowless scheduler simulate --nodes 5000 --placements 200000
  shadowless scheduler simulate --nodes 200 --strategy most --explain 5 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 || placements < 1 {
				return errors.New("--nodes and --placements must be at least 1")
			}
			strat := scheduler.DefaultScoringStrategy()
			switch strategy {
			case "least":
			case "most":
				strat.Type = scheduler.MostAllocated
			default:
				return fmt.Errorf("--strategy %q: want least or most", strategy)
			}
			res, err := simulate(cmd, nodes, placements, explain, seed, strat)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			_, err = fmt.Fprintf(out, "%d nodes, %s: %d placements (%d no fit)\n%.0f placements/s, p50 %.1fµs, p99 %.1fµs, %.2f nodes visited per placement\n\n%s\n",
				res.Nodes, res.Strategy, res.Placements, res.NoFit, res.PlacementsPerS, res.P50Micros, res.P99Micros, res.MeanNodesViewed, res.ExampleNoFit)
			return err
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 5000, "number of nodes in the synthetic fleet")
	cmd.Flags().IntVar(&placements, "placements", 100000, "number of placements to time (each followed by a release)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed of the fleet and the workload")
	cmd.Flags().StringVar(&strategy, "strategy", "least", "resource scoring: least (LeastAllocated, spread) or most (MostAllocated, pack)")
	cmd.Flags().IntVar(&explain, "explain", 3, "how many per-node lines of the example no-fit explanation to show")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func simulate(cmd *cobra.Command, n, placements, explain int, seed uint64, strat scheduler.ScoringStrategy) (simulateResult, error) {
	ctx := cmd.Context()
	rng := rand.New(rand.NewPCG(seed, 1))
	s, err := scheduler.New(scheduler.WithScoringStrategy(strat), scheduler.WithIndexedLabels("zone", "pool"))
	if err != nil {
		return simulateResult{}, err
	}
	zones := []string{"a", "b", "c", "d"}
	for i := range n {
		cores := []int64{8, 16, 32, 48}[rng.IntN(4)]
		node := scheduler.Node{
			Name:     fmt.Sprintf("h%05d", i),
			Capacity: scheduler.Resources{scheduler.CPU: cores * 1000, scheduler.Memory: cores * 4 << 30, scheduler.Disk: cores * 25 << 30},
			Labels:   map[string]string{"zone": zones[rng.IntN(4)], "pool": "general"},
		}
		if rng.IntN(8) == 0 {
			node.Capacity[scheduler.GPU] = 4
			node.Capacity[scheduler.EncoderSlots] = scheduler.EncoderSlotCount(2, 16)
			node.Labels["pool"] = "gpu"
			node.Taints = []scheduler.Taint{{Key: "gpu", Value: "true", Effect: scheduler.NoSchedule}}
		}
		node.Draining = rng.IntN(50) == 0
		node.Unhealthy = rng.IntN(100) == 0
		if err := s.AddNode(node); err != nil {
			return simulateResult{}, err
		}
	}
	request := func(i int) *scheduler.Request {
		r := &scheduler.Request{ID: fmt.Sprintf("s%d", i)}
		switch x := rng.IntN(100); {
		case x < 50:
			r.Resources = scheduler.Resources{scheduler.CPU: 500, scheduler.Memory: 1 << 30}
		case x < 85:
			r.Resources = scheduler.Resources{scheduler.CPU: 2000, scheduler.Memory: 6 << 30, scheduler.Disk: 20 << 30}
		case x < 97:
			r.Resources = scheduler.Resources{scheduler.CPU: 4000, scheduler.Memory: 16 << 30, scheduler.Disk: 50 << 30}
		default:
			r.Resources = scheduler.Resources{scheduler.CPU: 8000, scheduler.Memory: 32 << 30, scheduler.GPU: 1, scheduler.EncoderSlots: 1}
			r.Tolerations = []scheduler.Toleration{{Key: "gpu", Operator: scheduler.TolerateExists}}
		}
		if rng.IntN(5) == 0 {
			r.NodeSelector = map[string]string{"zone": zones[rng.IntN(4)]}
		}
		return r
	}
	total := s.Stats().Capacity
	var used scheduler.Resources
	var held []scheduler.Placement
	for i := 0; used[scheduler.CPU] < total[scheduler.CPU]*6/10 && used[scheduler.Memory] < total[scheduler.Memory]*6/10 && i < 40*n; i++ {
		if p, err := s.Place(ctx, request(i)); err == nil {
			held = append(held, p)
			used = used.Add(p.Resources)
		}
	}
	if len(held) == 0 {
		return simulateResult{}, errors.New("the fleet took no sessions")
	}
	reqs := make([]*scheduler.Request, 4096)
	for i := range reqs {
		reqs[i] = request(i)
	}
	res := simulateResult{Nodes: n, Strategy: strat.Type.String(), Placements: placements}
	lat := make([]time.Duration, 0, placements)
	visited, next := 0, 0
	start := time.Now()
	for i := range placements {
		t0 := time.Now()
		p, err := s.Place(ctx, reqs[i%len(reqs)])
		lat = append(lat, time.Since(t0))
		if err != nil {
			res.NoFit++
			continue
		}
		visited += p.Visited
		if err := s.Release(ctx, held[next]); err != nil {
			return res, err
		}
		held[next] = p
		next = (next + 1) % len(held)
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	res.PlacementsPerS = float64(placements) / elapsed.Seconds()
	res.P50Micros = float64(lat[len(lat)/2].Nanoseconds()) / 1e3
	res.P99Micros = float64(lat[len(lat)*99/100].Nanoseconds()) / 1e3
	res.MeanNodesViewed = float64(visited) / float64(max(1, placements-res.NoFit))
	_, err = s.Place(ctx, &scheduler.Request{ID: "too-big", Resources: scheduler.Resources{scheduler.CPU: 40000, scheduler.Memory: 64 << 30, scheduler.GPU: 1},
		NodeSelector: map[string]string{"zone": "a"}})
	var nf *scheduler.NoFitError
	if errors.As(err, &nf) {
		res.ExampleNoFit = nf.Explain(explain)
	}
	return res, nil
}

package plan

import (
	"fmt"
	"testing"
)

func BenchmarkCreate60(b *testing.B) {
	cases := []struct {
		name     string
		nodes    []CreateNode
		replicas int
	}{
		{"5hosts/r1", hostsBlocks(60, 5), 1},
		{"5hosts/r2", hostsBlocks(60, 5), 2},
		{"7hosts/r2", hostsBlocks(60, 7), 2},
		{"1host/r1", hostsRoundRobin(60, 1), 1},
		{"2hosts/r2", hostsBlocks(60, 2), 2}, // optimum 40 > bound: full walks
		{"skewed/r1", hostsOf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBCCCCCCDDD"), 1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Create(c.nodes, c.replicas); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRebalance6(b *testing.B) {
	cases := []struct {
		counts  []int
		weights []float32
	}{
		{[]int{8192, 8192, 0, 0, 0, 0}, []float32{1, 1, 1, 1, 1, 1}},
		{[]int{2731, 2731, 2730, 2731, 2731, 2730}, []float32{1, 2, 1, 2, 1, 2}},
	}
	for i, c := range cases {
		nodes := rebalanceNodes(c.counts, c.weights)
		b.Run(fmt.Sprint(i), func(b *testing.B) {
			for b.Loop() {
				if _, err := Rebalance(nodes, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

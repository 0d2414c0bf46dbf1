package reconcile_test

import (
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/guarantor/guarantor/exchange/reconcile"
)

// bruteForce returns the best total gain of a one-to-one assignment.
func bruteForce(gain [][]float64, row int, used []bool) float64 {
	if row == len(gain) {
		return 0
	}
	best := bruteForce(gain, row+1, used) // row unassigned
	for j, g := range gain[row] {
		if !used[j] && g > 0 {
			used[j] = true
			best = math.Max(best, g+bruteForce(gain, row+1, used))
			used[j] = false
		}
	}
	return best
}

func TestAssignOptimal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "rows")
		m := rapid.IntRange(1, 6).Draw(t, "cols")
		gain := make([][]float64, n)
		for i := range gain {
			gain[i] = rapid.SliceOfN(rapid.SampledFrom([]float64{0, 0, 1, 2, 3.5, 5, 8, 13}), m, m).Draw(t, "row")
		}
		total, match := reconcile.Assign(gain)
		want := bruteForce(gain, 0, make([]bool, m))
		if math.Abs(total-want) > 1e-9 {
			t.Fatalf("Assign total = %v, want %v (gain %v)", total, want, gain)
		}
		var sum float64
		seen := make(map[int]bool)
		for i, j := range match {
			if j < 0 {
				continue
			}
			if seen[j] || gain[i][j] <= 0 {
				t.Fatalf("Assign match %v is not a valid assignment of %v", match, gain)
			}
			seen[j] = true
			sum += gain[i][j]
		}
		if math.Abs(sum-total) > 1e-9 {
			t.Fatalf("Assign match sums to %v, reported %v", sum, total)
		}
	})
}

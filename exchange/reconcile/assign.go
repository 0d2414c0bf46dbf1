package reconcile

import "math"

// assign solves the assignment problem on gain, a rectangular matrix of
// non-negative gains where zero means "no pair": it returns the largest
// total gain of a one-to-one assignment and, for each row, its column
// (-1 if the row is unassigned or assigned at zero gain). It is the
// Hungarian method with potentials, O(n²m) for n ≤ m.
func assign(gain [][]float64) (float64, []int) {
	n := len(gain)
	if n == 0 {
		return 0, nil
	}
	m := len(gain[0])
	if n > m {
		t := make([][]float64, m)
		for j := range t {
			t[j] = make([]float64, n)
			for i := range n {
				t[j][i] = gain[i][j]
			}
		}
		total, colRow := assign(t)
		rowCol := make([]int, n)
		for i := range rowCol {
			rowCol[i] = -1
		}
		for j, i := range colRow {
			if i >= 0 {
				rowCol[i] = j
			}
		}
		return total, rowCol
	}

	// Minimise cost = -gain; rows and columns are 1-based, column 0 is
	// the sentinel.
	u := make([]float64, n+1)
	v := make([]float64, m+1)
	p := make([]int, m+1) // row assigned to each column
	way := make([]int, m+1)
	minv := make([]float64, m+1)
	used := make([]bool, m+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j], used[j] = math.Inf(1), false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				cur := -gain[i0-1][j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}

	rowCol := make([]int, n)
	for i := range rowCol {
		rowCol[i] = -1
	}
	var total float64
	for j := 1; j <= m; j++ {
		if i := p[j]; i != 0 && gain[i-1][j-1] > 0 {
			rowCol[i-1] = j - 1
			total += gain[i-1][j-1]
		}
	}
	return total, rowCol
}

package names_test

import (
	"fmt"
	"testing"

	"github.com/guarantor/guarantor/exchange/names"
)

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b   string
		lo, hi float64
	}{
		{"Шевченко", "Shevchenko", 1, 1},
		{"Шевченко", "Шевчеко", 0.9, 0.99},    // deletion
		{"Шевченко", "Шевчкенко", 0.9, 0.99},  // insertion
		{"Шевченко", "Шевчинко", 0.9, 0.99},   // substitution
		{"Коваленко", "Коавленко", 0.9, 0.99}, // transposition
		{"Шевченко", "Коваленко", 0, 0.75},
		{"Олена", "Олег", 0, 0.85},
		{"Шевченко", "", 0, 0},
		{"", "", 0, 0},
	}
	for _, tt := range tests {
		got := names.Similarity(tt.a, tt.b)
		if got < tt.lo || got > tt.hi {
			t.Errorf("Similarity(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.lo, tt.hi)
		}
		if back := names.Similarity(tt.b, tt.a); back != got {
			t.Errorf("Similarity is not symmetric on %q, %q: %.3f vs %.3f", tt.a, tt.b, got, back)
		}
	}
}

func TestKeySimilarityKnownValues(t *testing.T) {
	// The textbook Jaro–Winkler examples.
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
	}
	for _, tt := range tests {
		got := names.KeySimilarity(tt.a, tt.b)
		if d := got - tt.want; d > 0.0001 || d < -0.0001 {
			t.Errorf("KeySimilarity(%q, %q) = %.4f, want %.4f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestGivenKey(t *testing.T) {
	groups := [][]string{
		{"Микола", "Mykola", "Николай", "Nikolai", "Nikolay"},
		{"Олександр", "Oleksandr", "Александр", "Aleksandr"},
		{"Сергій", "Serhii", "Сергей", "Sergei", "Sergey"},
		{"Петро", "Petro", "Пётр", "Петр", "Pyotr", "Petr"},
		{"Олена", "Olena", "Елена", "Yelena", "Elena"},
		{"Ганна", "Hanna", "Анна", "Anna"},
		{"Іван", "Ivan", "Иван"},
	}
	for _, g := range groups {
		want := names.GivenKey(g[0])
		for _, s := range g[1:] {
			if got := names.GivenKey(s); got != want {
				t.Errorf("GivenKey(%q) = %q, want %q (the key of %q)", s, got, want, g[0])
			}
		}
		if again := names.GivenKey(want); again != want {
			t.Errorf("GivenKey(%q) = %q, want it unchanged", want, again)
		}
	}
	if got, want := names.GivenKey("Олена-Марія"), names.GivenKey("Елена Мария"); got != want {
		t.Errorf("double name: got %q, want %q", got, want)
	}
	if a, b := names.GivenKey("Олена"), names.GivenKey("Олег"); a == b {
		t.Errorf("GivenKey merges Олена and Олег into %q", a)
	}
}

func ExampleSimilarity() {
	fmt.Printf("%.2f\n", names.Similarity("Коваленко", "Kovalenko"))
	fmt.Printf("%.2f\n", names.Similarity("Коваленко", "Kovalneko"))
	fmt.Printf("%.2f\n", names.Similarity("Коваленко", "Шевченко"))
	// Output:
	// 1.00
	// 0.98
	// 0.62
}

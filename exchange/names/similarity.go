package names

// Similarity returns how alike two names are, in [0, 1]: the
// Jaro–Winkler similarity of their keys (see Key and KeySimilarity). Two
// spellings of one name score 1.
func Similarity(a, b string) float64 {
	return KeySimilarity(Key(a), Key(b))
}

// KeySimilarity returns the Jaro–Winkler similarity, in [0, 1], of two
// keys made by Key, so that callers comparing many pairs compute each key
// once. Empty keys are similar to nothing, not even to each other: a
// missing name is no evidence.
func KeySimilarity(a, b string) float64 {
	if a == "" || b == "" {
		return 0
	}
	if a == b {
		return 1
	}
	return jaroWinkler(a, b)
}

// jaroWinkler computes the Jaro–Winkler similarity of two byte strings
// with the usual prefix scale 0.1 over at most four characters.
func jaroWinkler(a, b string) float64 {
	if len(a) > len(b) {
		a, b = b, a
	}
	la, lb := len(a), len(b)
	window := lb/2 - 1
	if window < 0 {
		window = 0
	}

	var bufA, bufB [64]bool
	ma, mb := bufA[:0], bufB[:0]
	if la <= 64 && lb <= 64 {
		ma, mb = bufA[:la], bufB[:lb]
	} else {
		ma, mb = make([]bool, la), make([]bool, lb)
	}

	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}

	transpositions, j := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[j] {
			j++
		}
		if a[i] != b[j] {
			transpositions++
		}
		j++
	}

	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(transpositions)/2)/m) / 3

	prefix := 0
	for prefix < min(4, la) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

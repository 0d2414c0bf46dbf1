// Package reconcile matches the two lists of an "all for all" prisoner
// exchange: the people side A says it holds (held) and the people side B
// says side A holds (claimed). It is the neutral verifier's first pass:
// it pairs the entries it is sure of, puts the doubtful ones before a
// human with the evidence, and lists the rest as unclaimed (HeldOnly) or
// missing (ClaimedOnly). It is pure: no I/O, no clock, no randomness, and
// the same input in any order gives the same Result.
//
// # Method
//
// 1. Normalisation. Each name is reduced to a key by package names
// (exchange/names): case folding, Unicode normalisation, transliteration
// of Ukrainian and Russian Cyrillic, and merging of the spellings that
// the standards KMU-2010, ICAO 9303, BGN/PCGN and GOST 7.79-B and the
// usual informal variants give the same letter. Given names also merge
// their Ukrainian and Russian forms (Микола, Николай). Units reduce to
// their digits.
//
// 2. Blocking. Only entries that share a blocking key are compared: the
// first three letters of the family key (skipping pairs whose birth
// years are both known and neither equal nor one typo apart), the first
// three letters of the given key with the birth year, or the full birth
// date with day and month in either order. A pair is missed only when
// typos hit two of these at once. 10,000 × 10,000 entries take well under
// a second, not a full cross product.
//
// 3. Score. A compared pair gets the sum of the weights of its fields, in
// points (roughly log2 likelihood ratios: how much more often the
// observation occurs for one person than for two):
//
//	field        key similarity:  1    ≥.94  ≥.90  ≥.85  ≥.80  lower  missing
//	family                        +7   +5    +3    +1    −2    −6     —
//	given                         +4   +3    +2     0    −2    −5     0 (an initial matching: +1)
//	patronymic                    +3   +2    +1     0    −1    −3     0
//
//	birth date   same date +10; day and month swapped +7; one typo (one
//	             digit, two adjacent digits swapped, or ±1 in one of year,
//	             month, day) +6; same year and month +6; same year +4;
//	             one typo with a partial date +1.5; unknown 0; conflict −10
//	birthplace   similarity ≥ .9: +1.5; ≥ .8: +0.5; lower −1; missing 0
//	status       civilian on one side only −3; otherwise, if both give a
//	             unit: same digits (or names ≥ .9) +1.5, different −0.5
//
// Similarity is Jaro–Winkler on the keys. A conflicting birth date
// outweighs a full name agreement (+14 − 10), so namesakes born on
// different dates stay apart. Capture date and place are kept but not
// scored: the two sides often record them differently.
//
// 4. Thresholds (Options). A pair scoring at least Review (default 8) is
// plausible; lower pairs are dropped. A pair scoring at least Accept
// (default 12) may be matched without review.
//
// 5. Assignment. Plausible pairs form clusters (connected components).
// In each cluster the best one-to-one assignment is found (the Hungarian
// method, maximising the sum of score − Review + 1 over the chosen pairs;
// clusters with more than 64 entries on a side fall back to greedy
// choice in descending order of score). A pair of the best assignment is
// matched only if it scores at least Accept and the best assignment
// without it is worse by at least Margin (default 4, a factor of 16): a
// namesake or a second candidate within Margin sends both to a human.
//
// 6. Output. Matched holds the firm pairs with each field's contribution
// as Reasons. Every other entry with a plausible counterpart that is not
// itself matched goes to Ambiguous with those counterparts, best first;
// the rest go to HeldOnly or ClaimedOnly. Every input ID appears exactly
// once on its side. Decide applies human rulings on the open entries and
// returns the updated Result.
//
// Entries are sorted by ID before anything else, so input order never
// matters; scores are sums of fixed constants and ties are broken by ID.
package reconcile

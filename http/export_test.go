package http

// TallyOf and Median expose the pure aggregation of the fulfilment record
// to the black-box tests.
var (
	TallyOf = tally
	Median  = median
)

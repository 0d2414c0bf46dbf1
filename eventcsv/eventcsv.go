// Package eventcsv reads event datasets published as CSV (UCDP GED,
// ACLED) one row at a time with constant memory: columns are found by
// name, every field must be valid UTF-8 and at most MaxField bytes, and a
// row that cannot be read is a *RowError naming its line and column, after
// which reading goes on.
package eventcsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxField is the longest field accepted, in bytes.
const MaxField = 64 << 10

// RowError reports a row that cannot be read; the Reader continues with
// the next row.
type RowError struct {
	Line   int    // line in the file where the row starts, 1-based
	Column string // column name, or "" for the row as a whole
	Err    error
}

// Error names the line, the column and the fault.
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %s: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the underlying fault.
func (e *RowError) Unwrap() error { return e.Err }

// Reader streams rows.
type Reader struct {
	csv     *csv.Reader
	col     map[string]int
	header  []string
	dataset string
}

// NewReader reads the header and checks that it names every required
// column. dataset names the format in errors ("UCDP GED", "ACLED").
func NewReader(r io.Reader, dataset string, required []string) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty; %s CSV starts with a header line naming its columns", dataset)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s header: %w", dataset, err)
	}
	header = slices.Clone(header)
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not %s data: header lacks %s", dataset, strings.Join(missing, ", "))
	}
	cr.FieldsPerRecord = len(header)
	return &Reader{csv: cr, col: col, header: header, dataset: dataset}, nil
}

// Next returns the next row, io.EOF at the end, or a *RowError for a row
// that cannot be read (call Next again to continue). Any other error ends
// the stream. The row is valid until the next call.
func (r *Reader) Next() (*Row, error) {
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, &RowError{Line: pe.StartLine, Err: fmt.Errorf("row has the wrong number of fields: %w", pe.Err)}
			}
			return nil, fmt.Errorf("%s CSV line %d: %w", r.dataset, pe.Line, pe.Err)
		}
		return nil, err
	}
	line, _ := r.csv.FieldPos(0)
	for i, f := range rec {
		if len(f) > MaxField {
			return nil, &RowError{Line: line, Column: r.header[i], Err: fmt.Errorf("field is %d bytes; the limit is %d", len(f), MaxField)}
		}
		if !utf8.ValidString(f) {
			return nil, &RowError{Line: line, Column: r.header[i], Err: errors.New("not valid UTF-8 (convert the file to UTF-8 first)")}
		}
	}
	return &Row{Line: line, rec: rec, col: r.col}, nil
}

// Row is one record. Its converters keep the first failure, which Err
// returns, so a caller converts every field and then checks once.
type Row struct {
	Line int
	rec  []string
	col  map[string]int
	err  *RowError
}

// Has reports whether the file has the column.
func (r *Row) Has(name string) bool {
	_, ok := r.col[name]
	return ok
}

// Str returns the trimmed field, or "" if the file lacks the column.
func (r *Row) Str(name string) string {
	i, ok := r.col[name]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

// Fail records err against the column unless a failure is recorded already.
func (r *Row) Fail(name string, err error) {
	if r.err == nil {
		r.err = &RowError{Line: r.Line, Column: name, Err: err}
	}
}

// Err returns the first failure as a *RowError, or nil.
func (r *Row) Err() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// Int64 converts a required integer field.
func (r *Row) Int64(name string) int64 {
	v, err := strconv.ParseInt(r.Str(name), 10, 64)
	if err != nil {
		r.Fail(name, fmt.Errorf("%q is not an integer", r.Str(name)))
	}
	return v
}

// Int converts a non-negative integer field; blank reads as 0.
func (r *Row) Int(name string) int {
	s := r.Str(name)
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		r.Fail(name, fmt.Errorf("%q is not a non-negative integer", s))
	}
	return v
}

// Float converts a number that must lie in [lo, hi].
func (r *Row) Float(name string, lo, hi float64) float64 {
	v, err := strconv.ParseFloat(r.Str(name), 64)
	if err != nil || v < lo || v > hi {
		r.Fail(name, fmt.Errorf("%q is not a number in [%g, %g]", r.Str(name), lo, hi))
	}
	return v
}

// Date parses the field with the first layout that fits; example shows
// the expected shapes in the error.
func (r *Row) Date(name, example string, layouts ...string) time.Time {
	s := r.Str(name)
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	r.Fail(name, fmt.Errorf("%q is not a date like %s", s, example))
	return time.Time{}
}

// HasWord reports whether text has a word starting with any of starts
// (lower case): "mine" finds "mines" but not "determined".
func HasWord(text string, starts ...string) bool {
	t := " " + strings.Join(strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
	for _, w := range starts {
		if strings.Contains(t, " "+w) {
			return true
		}
	}
	return false
}

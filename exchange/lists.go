package exchange

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/entry"
	"github.com/guarantor/guarantor/exchange/commit"
	"github.com/guarantor/guarantor/exchange/names"
)

// recordID derives the opaque id of the record with the party's ref on
// a list: "r" and 24 hex digits of HMAC-SHA-256 under the commitment key.
// The input of the HMAC holds NUL bytes, which commit never accepts in a
// record id, so it is never the person key of a real record.
func (s *Service) recordID(exchange, side, kind, ref string) string {
	k := s.com.PersonKey("\x00guarantor/exchange/record-id/v1\x00" + exchange + "\x00" + side + "\x00" + kind + "\x00" + ref)
	return "r" + hex.EncodeToString(k[:12])
}

// personID is the id of the person whose held record is heldID.
func personID(heldID string) string { return "p" + heldID[1:] }

// identity returns what a record-level commitment binds: the record id,
// the names normalised by names.Key and the date of birth.
func identity(recordID string, p *Person) commit.Identity {
	return commit.Identity{
		RecordID:   recordID,
		Family:     names.Key(p.Family),
		Given:      names.Key(p.Given),
		Patronymic: names.Key(p.Patronymic),
		Born:       p.Born,
	}
}

// split cuts sorted commitments into log parts of at most
// entry.MaxExchangePart; an empty list is one empty part.
func split(cs []string) [][]string {
	var parts [][]string
	for len(cs) > entry.MaxExchangePart {
		parts = append(parts, cs[:entry.MaxExchangePart:entry.MaxExchangePart])
		cs = cs[entry.MaxExchangePart:]
	}
	return append(parts, append([]string{}, cs...))
}

// rootOf returns the hex Merkle root of the hex commitments cs.
func rootOf(cs []string) (string, error) {
	parsed := make([]commit.Commitment, len(cs))
	for i, c := range cs {
		var err error
		if parsed[i], err = commit.ParseCommitment(c); err != nil {
			return "", err
		}
	}
	m, err := commit.NewManifest(parsed)
	if err != nil {
		return "", err
	}
	root := m.Root()
	return hex.EncodeToString(root[:]), nil
}

// Upload stores a party's list: side's list of the people it holds (list
// "held") or of the people it says the other side holds ("claimed").
//
// It validates every person, failing on the first bad field with a
// guarantor.EInvalid error whose field is a JSON pointer such as
// /people/3/born, and whose message never quotes a value. It trims and
// NFC-normalises text and defaults an empty status. Refs must be unique.
// The list gets the id exchange:side:list:seq, seq numbering the side's
// uploads in the exchange; each record gets its id (see the package
// documentation), is sealed and committed to; all of it is stored in one
// transaction. The result holds the log bodies, which the party signs.
func (s *Service) Upload(ctx context.Context, exchange, side, list string, people []Person, at time.Time) (Upload, error) {
	if err := checkExchange("/exchange", exchange); err != nil {
		return Upload{}, err
	}
	if err := checkSide("/side", side); err != nil {
		return Upload{}, err
	}
	if err := checkKind("/list", list); err != nil {
		return Upload{}, err
	}
	if at.IsZero() {
		return Upload{}, guarantor.Errorf(guarantor.EInvalid, "/at", "the list's time is required")
	}
	if len(people) > MaxPeople {
		return Upload{}, guarantor.Errorf(guarantor.EInvalid, "/people", "a list holds at most %d people, not %d", MaxPeople, len(people))
	}

	type prepared struct {
		id, commitment string
		plain          []byte
	}
	recs := make([]prepared, len(people))
	refs := make(map[string]int, len(people))
	byStatus := make(map[string]int)
	cs := make([]string, len(people))
	for i, p := range people {
		ptr := "/people/" + strconv.Itoa(i)
		p, err := cleanPerson(ptr, p, list, at)
		if err != nil {
			return Upload{}, err
		}
		if j, dup := refs[p.Ref]; dup {
			return Upload{}, guarantor.Errorf(guarantor.EInvalid, ptr+"/ref", "repeats the ref of /people/%d: refs are unique in a list", j)
		}
		refs[p.Ref] = i
		id := s.recordID(exchange, side, list, p.Ref)
		c, err := s.com.Commit(identity(id, &p))
		if err != nil {
			// Names cleaned and keyed, dates checked: unreachable.
			return Upload{}, guarantor.Errorf(guarantor.EInvalid, ptr, "cannot be committed to: %v", err)
		}
		plain, err := json.Marshal(p)
		if err != nil {
			return Upload{}, fmt.Errorf("exchange: upload: %w", err)
		}
		byStatus[p.Status]++
		recs[i] = prepared{id: id, commitment: c.String(), plain: plain}
		cs[i] = c.String()
	}
	slices.Sort(cs)
	root, err := rootOf(cs)
	if err != nil {
		return Upload{}, fmt.Errorf("exchange: upload: %w", err)
	}
	statusJSON, _ := json.Marshal(byStatus)

	var listID string
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ring := s.keyRing() // inside the transaction: see Rewrap
		// An exchange is between two sides: the first two to upload. A
		// third party may not add lists to it.
		var others []string
		rows, err := tx.QueryContext(ctx, "SELECT DISTINCT side FROM lists WHERE exchange = ? AND side <> ? ORDER BY side", exchange, side)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return err
			}
			others = append(others, o)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if len(others) >= 2 {
			return guarantor.Errorf(guarantor.EForbidden, "/side", "exchange %s is between %s and %s; %s is not a side of it", exchange, others[0], others[1], side)
		}
		var seq int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM lists WHERE exchange = ? AND side = ?", exchange, side).Scan(&seq); err != nil {
			return err
		}
		listID = fmt.Sprintf("%s:%s:%s:%d", exchange, side, list, seq)
		if len(listID) > maxID {
			return guarantor.Errorf(guarantor.EInvalid, "/side", "the exchange name and side are too long for a list id of at most %d bytes", maxID)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO lists (id, exchange, side, kind, seq, count, by_status, root, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			listID, exchange, side, list, seq, len(people), string(statusJSON), root, fmtTime(at))
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO records (list, id, idx, commitment, sealed) VALUES (?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, r := range recs {
			sealed, err := seal(ring, r.plain, recordAAD(listID, r.id))
			clear(r.plain)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, listID, r.id, i, r.commitment, sealed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		var gerr *guarantor.Error
		if errors.As(err, &gerr) {
			return Upload{}, err
		}
		return Upload{}, fmt.Errorf("exchange: upload list of %s: %w", side, err)
	}

	u := Upload{ListID: listID, Count: len(people), ByStatus: byStatus, Root: root}
	ps := split(cs)
	for i, part := range ps {
		u.Bodies = append(u.Bodies, entry.ExchangeList{
			ID: listID, Exchange: exchange, Side: side, List: list, At: at,
			Count: len(people), ByStatus: byStatus, Part: i + 1, Parts: len(ps), Root: root, Commitments: part,
		})
	}
	return u, nil
}

// listRow reads the stored list id.
func listRow(ctx context.Context, q querier, id string) (ListInfo, error) {
	var l ListInfo
	var status, at string
	err := q.QueryRowContext(ctx, `SELECT l.id, l.exchange, l.side, l.kind, l.seq, l.count, l.by_status, l.root, l.at,
		l.seq = (SELECT MAX(seq) FROM lists m WHERE m.exchange = l.exchange AND m.side = l.side AND m.kind = l.kind)
		FROM lists l WHERE l.id = ?`, id).Scan(&l.ID, &l.Exchange, &l.Side, &l.List, &l.Seq, &l.Count, &status, &l.Root, &at, &l.Latest)
	if errors.Is(err, sql.ErrNoRows) {
		return l, guarantor.Errorf(guarantor.ENotFound, "/id", "no list %q", id)
	}
	if err != nil {
		return l, fmt.Errorf("exchange: read list %s: %w", id, err)
	}
	return l, decodeList(&l, status, at)
}

func decodeList(l *ListInfo, status, at string) error {
	var err error
	if l.At, err = parseTime(at); err != nil {
		return fmt.Errorf("exchange: list %s: %w", l.ID, err)
	}
	if err := json.Unmarshal([]byte(status), &l.ByStatus); err != nil {
		return fmt.Errorf("exchange: list %s: %w", l.ID, err)
	}
	return nil
}

// commitments returns the list's commitments, sorted.
func commitments(ctx context.Context, q querier, listID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT commitment FROM records WHERE list = ? ORDER BY commitment", listID)
	if err != nil {
		return nil, fmt.Errorf("exchange: read commitments of %s: %w", listID, err)
	}
	defer rows.Close()
	var cs []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("exchange: read commitments of %s: %w", listID, err)
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// CheckList reports whether b is exactly a part that [Service.Upload]
// drafted: nil if so, else a guarantor.EInvalid error naming the first
// field that differs (/id for a list the service never drafted, /root,
// /commitments/17, ...). The log's intake calls it before accepting an
// exchange-list entry; the signer's role is the intake's to check.
func (s *Service) CheckList(ctx context.Context, b *entry.ExchangeList) error {
	l, err := listRow(ctx, s.db, b.ID)
	if guarantor.ErrorCode(err) == guarantor.ENotFound {
		return guarantor.Errorf(guarantor.EInvalid, "/id", "the verifier drafted no list %q", b.ID)
	}
	if err != nil {
		return err
	}
	differ := func(field, format string, args ...any) error {
		return guarantor.Errorf(guarantor.EInvalid, field, "differs from the drafted list: "+format, args...)
	}
	switch {
	case b.Exchange != l.Exchange:
		return differ("/exchange", "exchange %q", l.Exchange)
	case b.Side != l.Side:
		return differ("/side", "side %q", l.Side)
	case b.List != l.List:
		return differ("/list", "a %s list", l.List)
	case !b.At.Equal(l.At):
		return differ("/at", "drafted at %s", l.At.Format(time.RFC3339Nano))
	case b.Count != l.Count:
		return differ("/count", "%d people", l.Count)
	case !statusEqual(b.ByStatus, l.ByStatus):
		return differ("/by_status", "the statuses counted differ")
	case b.Root != l.Root:
		return differ("/root", "root %s", l.Root)
	}
	cs, err := commitments(ctx, s.db, l.ID)
	if err != nil {
		return err
	}
	return checkPart(split(cs), b.Part, b.Parts, b.Commitments)
}

// checkPart compares a body's part with the drafted parts.
func checkPart(parts [][]string, part, nparts int, got []string) error {
	if nparts != len(parts) {
		return guarantor.Errorf(guarantor.EInvalid, "/parts", "differs from the draft: %d parts", len(parts))
	}
	if part < 1 || part > len(parts) {
		return guarantor.Errorf(guarantor.EInvalid, "/part", "is not a part from 1 to %d", len(parts))
	}
	want := parts[part-1]
	if len(got) != len(want) {
		return guarantor.Errorf(guarantor.EInvalid, "/commitments", "part %d of the draft holds %d commitments, not %d", part, len(want), len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			return guarantor.Errorf(guarantor.EInvalid, "/commitments/"+strconv.Itoa(i), "differs from the draft's commitment at this position of part %d", part)
		}
	}
	return nil
}

func statusEqual(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// Records returns the decrypted records of list listID in upload order:
// for the verifier, or for the party whose list it is. It fails with
// guarantor.ENotFound for an unknown list, and with the vault's error
// (naming a key id, never data) if a record does not open.
func (s *Service) Records(ctx context.Context, listID string) ([]Record, error) {
	if _, err := listRow(ctx, s.db, listID); err != nil {
		return nil, err
	}
	return s.records(ctx, s.db, listID)
}

// records reads and opens a list's records in upload order.
func (s *Service) records(ctx context.Context, q querier, listID string) ([]Record, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, commitment, sealed FROM records WHERE list = ? ORDER BY idx", listID)
	if err != nil {
		return nil, fmt.Errorf("exchange: read records of %s: %w", listID, err)
	}
	defer rows.Close()
	ring := s.keyRing()
	out := []Record{}
	for rows.Next() {
		var r Record
		var sealed []byte
		if err := rows.Scan(&r.ID, &r.Commitment, &sealed); err != nil {
			return nil, fmt.Errorf("exchange: read records of %s: %w", listID, err)
		}
		plain, err := unseal(ring, sealed, recordAAD(listID, r.ID))
		if err != nil {
			return nil, fmt.Errorf("exchange: open record %s of list %s: %w", r.ID, listID, err)
		}
		err = json.Unmarshal(plain, &r.Person)
		clear(plain)
		if err != nil {
			return nil, fmt.Errorf("exchange: record %s of list %s is not a stored person", r.ID, listID)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exchange: read records of %s: %w", listID, err)
	}
	return out, nil
}

// Lists returns the lists of an exchange, by side and upload number,
// without identity data.
func (s *Service) Lists(ctx context.Context, exchange string) ([]ListInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT l.id, l.exchange, l.side, l.kind, l.seq, l.count, l.by_status, l.root, l.at,
		l.seq = (SELECT MAX(seq) FROM lists m WHERE m.exchange = l.exchange AND m.side = l.side AND m.kind = l.kind)
		FROM lists l WHERE l.exchange = ? ORDER BY l.side, l.seq`, exchange)
	if err != nil {
		return nil, fmt.Errorf("exchange: list lists of %s: %w", exchange, err)
	}
	defer rows.Close()
	out := []ListInfo{}
	for rows.Next() {
		var l ListInfo
		var status, at string
		if err := rows.Scan(&l.ID, &l.Exchange, &l.Side, &l.List, &l.Seq, &l.Count, &status, &l.Root, &at, &l.Latest); err != nil {
			return nil, fmt.Errorf("exchange: list lists of %s: %w", exchange, err)
		}
		if err := decodeList(&l, status, at); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exchange: list lists of %s: %w", exchange, err)
	}
	return out, nil
}

// latest returns the id of side's newest list of a kind, or "".
func latest(ctx context.Context, q querier, exchange, side, kind string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, "SELECT id FROM lists WHERE exchange = ? AND side = ? AND kind = ? ORDER BY seq DESC LIMIT 1", exchange, side, kind).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("exchange: find latest %s list of %s: %w", kind, side, err)
	}
	return id, nil
}

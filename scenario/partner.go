package scenario

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// ucdpColumns are the UCDP GED columns, in the dataset's order.
var ucdpColumns = []string{
	"id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id", "conflict_new_id",
	"conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
	"side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
	"source_date", "source_headline", "source_original", "where_prec", "where_coordinates", "where_description",
	"adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
	"event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians",
	"deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
}

// WritePartnerCSV writes a SYNTHETIC partner dataset in the UCDP GED
// layout: events a partner organisation reports from open sources along
// the same line and period as cfg, for the demo to import through the real
// import path. Ids start at 900000000 so they never meet real UCDP ids;
// every headline starts with "SYNTHETIC". It returns the number of rows.
func WritePartnerCSV(w io.Writer, cfg Config) (int, error) {
	cfg.defaults()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x51ed270b27f5a6d3))
	start := time.Date(cfg.Start.Year(), cfg.Start.Month(), cfg.Start.Day(), 0, 0, 0, 0, time.UTC)
	cw := csv.NewWriter(w)
	if err := cw.Write(ucdpColumns); err != nil {
		return 0, err
	}
	headlines := []string{"artillery shelling", "mortar fire", "sniper fire", "a drone attack", "an anti-tank mine blast"}
	n := 0
	for day := range cfg.Days {
		for range 1 + rng.IntN(3) {
			s := settlements[rng.IntN(len(settlements))]
			lat, lon := offset(s.Lat, s.Lon, 1+rng.Float64()*5, rng.Float64()*360)
			date := start.AddDate(0, 0, day)
			what := headlines[rng.IntN(len(headlines))]
			deaths := rng.IntN(3)
			id := 900000000 + n
			rec := map[string]string{
				"id": strconv.Itoa(id), "relid": fmt.Sprintf("SYN-%d-%d", date.Year(), id), "year": strconv.Itoa(date.Year()),
				"active_year": "1", "code_status": "Clear", "type_of_violence": "1",
				"conflict_name": "SYNTHETIC scenario", "dyad_name": "SYNTHETIC side A - SYNTHETIC side B",
				"side_a": "SYNTHETIC side A", "side_b": "SYNTHETIC side B", "number_of_sources": "1",
				"source_article": "SYNTHETIC partner bulletin", "source_office": "SYNTHETIC partner",
				"source_date":     date.Format("2006-01-02"),
				"source_headline": fmt.Sprintf("SYNTHETIC: partner reports %s near %s", what, s.Name),
				"where_prec":      "2", "where_coordinates": s.Name, "where_description": "near " + s.Name,
				"adm_1": s.Oblast + " oblast", "latitude": strconv.FormatFloat(round6(lat), 'f', -1, 64),
				"longitude": strconv.FormatFloat(round6(lon), 'f', -1, 64), "country": "Ukraine", "country_id": "369",
				"region": "Europe", "event_clarity": "1", "date_prec": "1",
				"date_start": date.Format("01/02/2006 15:04"), "date_end": date.Format("01/02/2006 15:04"),
				"deaths_a": strconv.Itoa(deaths), "deaths_b": "0", "deaths_civilians": "0", "deaths_unknown": "0",
				"best": strconv.Itoa(deaths), "high": strconv.Itoa(deaths), "low": strconv.Itoa(deaths),
			}
			row := make([]string, len(ucdpColumns))
			for i, c := range ucdpColumns {
				row[i] = rec[c]
			}
			if err := cw.Write(row); err != nil {
				return n, err
			}
			n++
		}
	}
	cw.Flush()
	return n, cw.Error()
}

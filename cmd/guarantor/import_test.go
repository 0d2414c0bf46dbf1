package main

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guarantor/guarantor"
	"github.com/guarantor/guarantor/keyfile"
)

const ucdpFile = "../../../shared/data/ucdp-ged-ukraine-2016-2023.csv"

// registerAnalyst registers a fresh analyst key valid over the UCDP years
// and writes its private key to a file.
func registerAnalyst(t *testing.T, f *fixture, c *client) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "analyst.key")
	vkey, err := keyfile.Generate(path, "analyst.import-test")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := keyEntry(f.auth, vkey, guarantor.RoleAnalyst, "import test", time.Date(1989, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.submit(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportUCDPIsCompleteAndIdempotent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := os.Stat(ucdpFile); err != nil {
		t.Skipf("UCDP data not found at %s (it lives in ../shared/data beside the repository): %v", ucdpFile, err)
	}
	f := newFixture(t, "monitor.unused")
	s := startServer(t, f.data)
	defer s.term(t)
	key := registerAnalyst(t, f, newClient(s.url))

	code, out, errs := cli(t, "", "import", "ucdp", ucdpFile, "--key", key, "--server", s.url, "--progress", "none")
	if code != 0 {
		t.Fatalf("import exited %d: %s", code, errs)
	}
	if want := "import: read 1879 rows, submitted 1879 (1879 new, 0 already logged), rejected 0 (0 bad rows, 0 refused by the server)\n"; out != want {
		t.Fatalf("summary %q, want %q", out, want)
	}
	code, out, errs = cli(t, "", "import", "ucdp", ucdpFile, "--key", key, "--server", s.url, "--progress", "none")
	if code != 0 || !strings.Contains(out, "submitted 1879 (0 new, 1879 already logged)") {
		t.Fatalf("second import: %d %q %s", code, out, errs)
	}
	if code, out, errs := cli(t, "", "verify", "--server", s.url, "--log-vkey", f.info.LogVKey); code != 0 || !strings.Contains(out, "1879 observation") {
		t.Fatalf("verify after import: %d %s %s", code, out, errs)
	}
	checkRoundTrip(t, s.url)
}

// checkRoundTrip exports the observations as CSV and compares every
// mapped UCDP column with the input file.
func checkRoundTrip(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/v1/observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range out[0] {
		col[h] = i
	}
	exported := map[string][]string{}
	for _, rec := range out[1:] {
		exported[rec[col["id"]]] = rec
	}
	in, err := os.Open(ucdpFile)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rows, err := csv.NewReader(in).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	icol := map[string]int{}
	for i, h := range rows[0] {
		icol[h] = i
	}
	if len(exported) != len(rows)-1 {
		t.Fatalf("exported %d UCDP events, the file has %d", len(exported), len(rows)-1)
	}
	for _, row := range rows[1:] {
		id := row[icol["id"]]
		got, ok := exported[id]
		if !ok {
			t.Fatalf("event %s missing from the export", id)
		}
		date := row[icol["date_start"]]
		d, err := time.Parse("01/02/2006 15:04", date)
		if err != nil {
			d, err = time.Parse("1/2/2006 3:04:05 PM", date)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, want string }{
			{"latitude", row[icol["latitude"]]},
			{"longitude", row[icol["longitude"]]},
			{"where_prec", row[icol["where_prec"]]},
			{"best", row[icol["best"]]},
			{"date_start", d.Format("2006-01-02")},
		} {
			g := got[col[c.name]]
			if c.name == "latitude" || c.name == "longitude" {
				a, _ := strconv.ParseFloat(g, 64)
				b, _ := strconv.ParseFloat(c.want, 64)
				if a != b {
					t.Fatalf("event %s %s: exported %s, input %s", id, c.name, g, c.want)
				}
				continue
			}
			if g != c.want {
				t.Fatalf("event %s %s: exported %q, input %q", id, c.name, g, c.want)
			}
		}
	}
}

func TestImportReportsBadRowsAndChangesNothingElse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.unused")
	s := startServer(t, f.data)
	defer s.term(t)
	key := registerAnalyst(t, f, newClient(s.url))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := func(id, lat, date string) string {
		return id + `,UKR-X,2016,1,Clear,1,1,1,Ukraine,1,1,Government of Ukraine - DPR,61,61,Government of Ukraine,1,1,DPR,1,"AFP",AFP,10/01/2016,"Shelling near Zaitseve",spokesman,2,Zaitseve village,near Zaitseve,Donetsk oblast,Horlivka,` + lat + `,38.03,POINT (38.03 48.41),1,Ukraine,369,Europe,1,1,` + date + `,` + date + `,2,0,0,0,2,2,2,369,` + "\n"
	}
	header := strings.SplitN(mustRead(t, ucdpFile), "\n", 2)[0] + "\n"
	mixed := write("mixed.csv", header+
		good("900001", "48.41", "01/10/2016 00:00")+ // line 2
		good("900002", "48.41", "2016/01/10")+ // line 3: bad date
		good("900003", "91", "01/10/2016 00:00")+ // line 4: latitude 91
		good("900004", "48.41", "01/11/2016 00:00")) // line 5
	code, out, errs := cli(t, "", "import", "ucdp", mixed, "--key", key, "--server", s.url, "--progress", "none")
	if code != 0 {
		t.Fatalf("import exited %d: %s", code, errs)
	}
	wantErrs := mixed + ":line 3, column date_start: \"2016/01/10\" is not a date like 09/01/2022 00:00 or 9/30/2022 12:00:00 AM\n" +
		mixed + ":line 4, column latitude: \"91\" is not a number in [-90, 90]\n"
	if errs != wantErrs {
		t.Fatalf("error lines:\n%s\nwant:\n%s", errs, wantErrs)
	}
	if !strings.Contains(out, "read 4 rows, submitted 2 (2 new, 0 already logged), rejected 2 (2 bad rows, 0 refused") {
		t.Fatalf("summary %q", out)
	}
	// --strict stops at the first bad row with one line and a non-zero exit.
	code, _, errs = cli(t, "", "import", "ucdp", mixed, "--key", key, "--server", s.url, "--progress", "none", "--strict")
	if code == 0 || !strings.Contains(errs, "--strict") {
		t.Fatalf("--strict: %d %s", code, errs)
	}
	// Whole files that are not UCDP: one line, non-zero exit.
	for name, want := range map[string]string{
		"empty.csv":  "the file is empty; UCDP GED CSV starts with a header line naming its columns",
		"header.csv": "not UCDP GED data: header lacks id, relid, year",
	} {
		content := map[string]string{"empty.csv": "", "header.csv": "a,b,c\n1,2,3\n"}[name]
		code, _, errs := cli(t, "", "import", "ucdp", write(name, content), "--key", key, "--server", s.url, "--progress", "none")
		if code == 0 || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want one line with %q", name, code, errs, want)
		}
	}
	// Bad rows among good ones: reported, skipped, counted.
	notUTF8 := strings.Replace(good("900005", "48.41", "01/10/2016 00:00"), "near Zaitseve,", "near Za\xffitseve,", 1)
	huge := strings.Replace(good("900006", "48.41", "01/10/2016 00:00"), `"AFP"`, strings.Repeat("x", 10<<20), 1)
	rows := write("rows.csv", header+notUTF8+huge+good("900007", "48.41", "01/12/2016 00:00"))
	code, out, errs = cli(t, "", "import", "ucdp", rows, "--key", key, "--server", s.url, "--progress", "none")
	wantErrs = rows + ":line 2, column where_description: not valid UTF-8 (convert the file to UTF-8 first)\n" +
		rows + ":line 3, column source_article: field is 10485760 bytes; the limit is 65536\n"
	if code != 0 || errs != wantErrs || !strings.Contains(out, "read 3 rows, submitted 1 (1 new") {
		t.Fatalf("bad rows: exit %d, out %q, errors:\n%s\nwant:\n%s", code, out, errs, wantErrs)
	}
	if got, want := inputEntries(t, s.url, f.info), uint64(initKeys+1+3); got != want { // init's keys, the analyst's, three good rows
		t.Fatalf("log holds %d entries besides the engine's after the broken files, want %d", got, want)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("UCDP data not found at %s: %v", path, err)
	}
	return string(b)
}

// acledSample is written for this test in ACLED's export layout; it is
// not ACLED data.
const acledSample = "event_id_cnty,event_date,event_type,sub_event_type,actor1,actor2,civilian_targeting,admin1,location,latitude,longitude,geo_precision,source,notes,fatalities\n" +
	"UKR9001,2022-02-24,Explosions/Remote violence,Shelling/artillery/missile attack,Military Forces of Russia (2000-),,,Donetsk,Avdiivka,48.1453,37.7450,1,Ukrinform,Artillery shelling of Avdiivka.,0\n" +
	"UKR9002,2022-02-25,Explosions/Remote violence,Air/drone strike,Military Forces of Russia (2000-),Civilians (Ukraine),Civilian targeting,Kharkiv,Kharkiv,49.9935,36.2304,1,Suspilne,A drone hit a house.,2\n" +
	"UKR9003,25/02/2022,Battles,Armed clash,A,B,,Donetsk,Marinka,47.9417,37.5042,2,X,notes,0\n"

func TestImportACLED(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	f := newFixture(t, "monitor.unused")
	s := startServer(t, f.data)
	defer s.term(t)
	key := registerAnalyst(t, f, newClient(s.url))
	file := filepath.Join(t.TempDir(), "acled.csv")
	if err := os.WriteFile(file, []byte(acledSample), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "", "import", "acled", file, "--key", key, "--server", s.url, "--progress", "none")
	if code != 0 || !strings.Contains(out, "read 3 rows, submitted 2 (2 new") {
		t.Fatalf("import acled: %d %q %s", code, out, errs)
	}
	if want := file + ":line 4, column event_date: \"25/02/2022\" is not a date like 2022-02-15 or 15 February 2022\n"; errs != want {
		t.Fatalf("errors %q, want %q", errs, want)
	}
	resp, err := http.Get(s.url + "/v1/observations.csv?source_type=open_source")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("export %q (%v)", recs, err)
	}
	byID := map[string][]string{}
	for _, r := range recs[1:] { // entries of one batch are in no set order
		byID[r[2]] = r
	}
	if r := byID["acled-UKR9002"]; r == nil || r[7] != "drone_strike" || r[8] != "2" || r[12] != "acled" || r[13] != "UKR9002" {
		t.Fatalf("export %q", recs)
	}
	if r := byID["acled-UKR9001"]; r == nil || r[7] != "shelling" || r[8] != "" {
		t.Fatalf("export %q", recs)
	}
}
